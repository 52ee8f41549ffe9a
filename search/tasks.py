"""Background tasks of the search library (run by the worker): re-index after editors change the dictionary, roll
the search log up."""

from django_tasks import task


@task()
def reindex_words(words):
    """Idempotent: re-indexing an object twice gives the same entries. Failures are retried by the project."""
    from search import analysis
    from search.dictionary import current_version, reindex

    analysis.reload(version=current_version())  # this worker may have loaded the dictionary before the change
    return reindex(words)


@task()
def rollup_search_log():
    """Count the appended search events into the daily QueryLog rows and prune old rows. Idempotent: counted events
    are deleted in the counting transaction, so a retried or concurrent run never counts one twice."""
    from search.querylog import prune, rollup

    return {"events": rollup(), "pruned": prune()}


@task()
def build_suggestions(name, version):
    """Bring a suggestion source's stored prefix keys up to date (search.suggest.build). Idempotent: texts already
    stored keep their keys, so a retried or repeated build only finishes what is missing."""
    from search.suggest import build

    return build(name, version)


@task()
def build_term_tops(terms):
    """Store the best entries of broad queries' terms for SQLite (search.backends.sqlite_tops.build). Idempotent:
    a list already built on the index's current signature is kept."""
    from search.backends.sqlite_tops import build

    return build(terms)
