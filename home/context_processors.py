from django.utils.functional import SimpleLazyObject
from wagtail.models import Site

from core import pagecache

NAV_CACHE_SECONDS = 3600


def site_chrome(request):
    """Navigation: the live children of the site's root page that are shown in menus."""
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        return {"nav_pages": [], "site_root": None}
    return {"site_root": site.root_page, "nav_pages": SimpleLazyObject(lambda: _nav_items(site, request))}


def _nav_items(site, request):
    # Keyed by the page-cache generation, which every publish, unpublish, move or page save bumps.
    cache = pagecache.page_cache()
    key = f"nav:{site.pk}:{pagecache.generation()}"
    items = cache.get(key)
    if items is None:
        pages = site.root_page.get_children().live().public().in_menu()
        items = [{"title": p.title, "url": p.get_url(request), "url_path": p.url_path} for p in pages]
        cache.set(key, items, NAV_CACHE_SECONDS)
    return items
