"""load_demo points the default site at BASE_URL, so the sitemap and canonical links carry its host and port."""

import re

from wagtail.models import Site

from home.demo import load_demo


def test_sitemap_after_load_demo_uses_base_url(client, home_page, settings, tmp_path):
    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8000"  # BASE_URL of `make run`
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    lines = []
    load_demo(log=lines.append)
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port, site.root_url) == ("127.0.0.1", 8000, "http://127.0.0.1:8000")
    assert any("http://127.0.0.1:8000/admin/" in line for line in lines)

    sitemap = client.get("/sitemap.xml", HTTP_HOST="127.0.0.1:8000").content.decode()
    locations = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert len(locations) > 10
    assert all(loc.startswith("http://127.0.0.1:8000/") for loc in locations), locations[:5]
    home = client.get("/", HTTP_HOST="127.0.0.1:8000").content.decode()
    assert '<link rel="canonical" href="http://127.0.0.1:8000/"' in home


def test_https_base_url_without_port(home_page, settings):
    from home.demo import point_site_at_base_url

    settings.WAGTAILADMIN_BASE_URL = "https://portal.example.org"
    site = Site.objects.get(is_default_site=True)
    point_site_at_base_url(site)
    site.refresh_from_db()
    assert (site.hostname, site.port, site.root_url) == ("portal.example.org", 443, "https://portal.example.org")
