"""Keeping every process's dictionary current after editors change words (version number in the cache)."""

from django.core.cache import cache

VERSION_KEY = "search:dictionary-version"
_reindexers = []


def current_version():
    try:
        return cache.get(VERSION_KEY) or 0
    except Exception:  # a cache outage must not break search
        return 0


def bump_version():
    try:
        cache.add(VERSION_KEY, 0, timeout=None)
        return cache.incr(VERSION_KEY)
    except Exception:
        return 0


def register_reindexer(find_objects):
    """Apps register ``find_objects(words) -> iterable`` of the objects whose indexed text mentions the words."""
    if find_objects not in _reindexers:
        _reindexers.append(find_objects)


def objects_mentioning(words):
    words = [w for w in words if w]
    if not words:
        return
    for find_objects in _reindexers:
        yield from find_objects(words)


def dictionary_changed(words):
    """Reload analysis here, tell other processes, and queue the re-index of every object the words appear in."""
    from search import analysis
    from search.tasks import reindex_words

    version = bump_version()
    analysis.reload(version=version)
    words = sorted(w for w in words if w)
    if words:
        # Enqueued in the editor's transaction: a rolled-back change queues nothing.
        reindex_words.enqueue(words)


def reindex(words):
    """Re-index every object mentioning the words (no cap); returns how many."""
    from wagtail.search import index

    count = 0
    for obj in objects_mentioning(words):
        index.insert_or_update_object(obj)
        count += 1
    return count
