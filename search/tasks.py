"""Background task of the search library: re-index after editors change the dictionary (run by the worker)."""

from django_tasks import task


@task()
def reindex_words(words):
    """Idempotent: re-indexing an object twice gives the same entries. Failures are retried by the project."""
    from search import analysis
    from search.dictionary import current_version, reindex

    analysis.reload(version=current_version())  # this worker may have loaded the dictionary before the change
    return reindex(words)
