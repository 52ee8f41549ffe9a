"""Keeping every process's dictionary current after editors change words (version number in the cache)."""

from django.core.cache import cache
from django.db.models import Q

VERSION_KEY = "search:dictionary-version"
REINDEX_LIMIT = 500


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


def pages_containing(words, limit=REINDEX_LIMIT):
    """Live speech pages whose title, summary or body mention any of the words (bounded)."""
    import json

    from speeches.models import SpeechPage

    query = Q()
    for word in words:
        escaped = json.dumps(word)[1:-1]  # StreamField JSON may store CJK as \\uXXXX escapes
        query |= Q(title__icontains=word) | Q(summary__icontains=word) | Q(body__icontains=word)
        if escaped != word:
            query |= Q(body__icontains=escaped)
    if not words:
        return []
    return list(SpeechPage.objects.live().filter(query).specific()[:limit])


def dictionary_changed(words):
    """Reload analysis here, tell other processes, and re-index the pages the words appear in."""
    from wagtail.search import index

    from search import analysis

    version = bump_version()
    analysis.reload(version=version)
    for page in pages_containing([w for w in words if w]):
        index.insert_or_update_object(page)
