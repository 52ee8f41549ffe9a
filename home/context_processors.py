from wagtail.models import Site


def site_chrome(request):
    """Navigation: the live children of the site's root page that are shown in menus."""
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        return {"nav_pages": [], "site_root": None}
    root = site.root_page
    return {
        "site_root": root,
        "nav_pages": root.get_children().live().public().in_menu().specific(defer=True),
    }
