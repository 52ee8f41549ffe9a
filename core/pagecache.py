"""Whole-page cache for anonymous visitors that never shows stale content.

Every key carries a site-wide generation number; publishing, unpublishing, moving or deleting a page
(or saving content that pages display) bumps it, so the page, its index pages and the home page are all
fresh on the next request. Editors (anyone with a session) always bypass the cache, and so do pages
with a form (they carry a per-visitor CSRF token) and anything that sets a cookie.
"""

import hashlib

from django.conf import settings
from django.core.cache import caches

GENERATION_KEY = "pagecache:generation"
SKIP_PREFIXES = ("/admin/", "/django-admin/", "/search/", "/api/", "/documents/", "/static/", "/media/")


def page_cache():
    return caches[getattr(settings, "PAGE_CACHE_ALIAS", "default")]


def generation():
    cache = page_cache()
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY) or 1
    return value


def purge(**kwargs):
    cache = page_cache()
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, timeout=None)


def _key(request, gen):
    variant = request.COOKIES.get("elder_mode", "")
    raw = f"{request.scheme}|{request.get_host()}|{request.get_full_path()}|{variant}"
    return f"pagecache:{gen}:{hashlib.sha256(raw.encode()).hexdigest()}"


def _cacheable_request(request):
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and not request.path.startswith(SKIP_PREFIXES)
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.last_generation = None

    def _lookup(self, cache, request):
        """(key, cached response or None) in one cache round trip when the generation has not moved."""
        guess = self.last_generation
        if guess is not None:
            key = _key(request, guess)
            found = cache.get_many([GENERATION_KEY, key])
            if found.get(GENERATION_KEY) == guess:
                return key, found.get(key)
        self.last_generation = current = generation()
        key = _key(request, current)
        return key, cache.get(key)

    def __call__(self, request):
        if not _cacheable_request(request):
            return self.get_response(request)
        cache = page_cache()
        key, cached = self._lookup(cache, request)
        if cached is not None:
            cached["X-Cache"] = "HIT"
            return cached
        response = self.get_response(request)
        if _storable(request, response):
            response["X-Cache"] = "MISS"
            cache.set(key, response, settings.PAGE_CACHE_SECONDS)
        return response


def _storable(request, response):
    user = getattr(request, "user", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_USED")
        and "private" not in response.get("Cache-Control", "")
        and "no-store" not in response.get("Cache-Control", "")
        and (user is None or not user.is_authenticated)
    )


def connect_signals():
    from django.db.models.signals import post_delete, post_save
    from wagtail.signals import page_published, page_unpublished, post_page_move

    page_published.connect(purge, dispatch_uid="pagecache-published")
    page_unpublished.connect(purge, dispatch_uid="pagecache-unpublished")
    post_page_move.connect(purge, dispatch_uid="pagecache-moved")

    from wagtail.contrib.settings.models import BaseSiteSetting
    from wagtail.models import Page

    def content_changed(sender, **kwargs):
        if issubclass(sender, Page):
            return  # drafts and autosaves save the page row too; publish, unpublish and move have their signals
        if kwargs.get("created") and issubclass(sender, BaseSiteSetting):
            return  # created with defaults on the first request that reads it: nothing visible changed
        if sender._meta.label in settings.PAGE_CACHE_PURGE_MODELS or (
            sender._meta.app_label in settings.PAGE_CACHE_PURGE_APPS
        ):
            purge()

    def page_deleted(sender, **kwargs):
        if issubclass(sender, Page):
            purge()

    post_save.connect(content_changed, weak=False, dispatch_uid="pagecache-saved")
    post_delete.connect(content_changed, weak=False, dispatch_uid="pagecache-deleted")
    post_delete.connect(page_deleted, weak=False, dispatch_uid="pagecache-page-deleted")
