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
    """Reload analysis here, tell other processes, and re-index every object the words appear in."""
    from wagtail.search import index

    from search import analysis

    version = bump_version()
    analysis.reload(version=version)
    for obj in objects_mentioning(words):
        index.insert_or_update_object(obj)
