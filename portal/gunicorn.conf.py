import os

bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
graceful_timeout = 20
# Workers fork from a master that has already imported Django and loaded the segmenter, so a worker that is
# recycled (max_requests) or killed is replaced in milliseconds, not after a second of imports.
preload_app = True
max_requests = 20000
max_requests_jitter = 2000
accesslog = None  # core.middleware.RequestLogMiddleware writes one line per request
errorlog = "-"
wsgi_app = "portal.wsgi:application"
raw_env = ["DJANGO_SETTINGS_MODULE=portal.settings.production"]


def pre_fork(server, worker):
    # Never hand a database connection opened while loading the app to a worker.
    from django.db import connections

    connections.close_all()
