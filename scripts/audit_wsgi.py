"""WSGI app for `make audit-pages`: the production app, plus uploaded media (a web server's job in production)."""

from django.conf import settings
from whitenoise import WhiteNoise

from portal.wsgi import application as portal_application

MEDIA_ROOT = settings.MEDIA_ROOT
MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
application = WhiteNoise(portal_application, autorefresh=True)
application.add_files(str(MEDIA_ROOT), prefix=settings.MEDIA_URL)
