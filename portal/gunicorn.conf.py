import os

bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
graceful_timeout = 20
max_requests = 5000
max_requests_jitter = 500
accesslog = None  # portal.middleware.RequestLogMiddleware writes one line per request
errorlog = "-"
wsgi_app = "portal.wsgi:application"
raw_env = ["DJANGO_SETTINGS_MODULE=portal.settings.production"]
