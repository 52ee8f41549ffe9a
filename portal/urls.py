import re

from django.conf import settings
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from campaigns.lookup import status_lookup
from core import media
from core.api import api_router
from speeches.feeds import LatestSpeechesFeed

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("search/", include("speeches.search.urls")),
    path("api/", include("speeches.search.api_urls")),
    path("api/v2/", api_router.urls),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("speeches/feed/", LatestSpeechesFeed(), name="speech-feed"),
    path("agents/", include("campaigns.agents.urls")),
    path("enrolment-status/", status_lookup, name="enrolment-status"),
    path("", include("core.urls")),
]

# Uploaded images in development and production alike (core/media.py: safe types only, nosniff, sandbox CSP).
urlpatterns += [
    re_path(rf"^{re.escape(settings.MEDIA_URL.strip('/'))}/(?P<path>.+)$", media.serve, name="media"),
    path("", include(wagtail_urls)),
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
