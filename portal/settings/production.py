import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import env_bool, env_list


def required(name):
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"生产环境缺少环境变量 {name}（missing environment variable {name}）")
    return value


DEBUG = False
SECRET_KEY = required("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or ["127.0.0.1", "localhost"]

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# LOCAL_HTTP=1 serves plain HTTP on loopback (benchmarks, audits); behind a TLS proxy leave it 0.
LOCAL_HTTP = env_bool("LOCAL_HTTP", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = not LOCAL_HTTP
SESSION_COOKIE_SECURE = not LOCAL_HTTP
CSRF_COOKIE_SECURE = not LOCAL_HTTP
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = 0 if LOCAL_HTTP else int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]  # HSTS preload is an opt-in commitment (SECURE_HSTS_PRELOAD=1)
# ID numbers are encrypted (and hashed for the duplicate check) with these keys; a real deployment must not
# fall back to generated files.
if not LOCAL_HTTP:
    if not os.environ.get("ENROLMENT_KEYS", "").strip() and not os.environ.get("ENROLMENT_KEY", "").strip():
        raise ImproperlyConfigured("生产环境缺少环境变量 ENROLMENT_KEYS 或 ENROLMENT_KEY"
                                   "（missing environment variable ENROLMENT_KEYS or ENROLMENT_KEY）")
    ENROLMENT_HASH_KEY = required("ENROLMENT_HASH_KEY")
# Password resets and notifications must not end up in a log: the console backend only when asked for by name.
if not LOCAL_HTTP and not os.environ.get("EMAIL_BACKEND"):
    raise ImproperlyConfigured("生产环境需设置 EMAIL_BACKEND（如 django.core.mail.backends.smtp.EmailBackend 及 "
                               "EMAIL_HOST 等）；确需输出到控制台时请显式设置为 "
                               "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))

# Backups need BACKUP_KEY from the environment: a key file beside the backups would protect nothing.
BACKUP_KEY_FILE = None
if LOCAL_HTTP:
    SILENCED_SYSTEM_CHECKS += ["security.W004", "security.W008", "security.W012", "security.W016"]
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
WHITENOISE_MAX_AGE = 3600
MIDDLEWARE = ["core.middleware.RequestLogMiddleware"] + MIDDLEWARE  # noqa: F405
LOGGING["loggers"]["portal.requests"] = {"level": "INFO"}  # noqa: F405
LOGGING["formatters"]["plain"]["format"] = "%(asctime)s %(levelname)s %(name)s %(message)s"  # noqa: F405

# Without Redis the cache must still be shared by every gunicorn worker: a publish purges the page cache
# through the cache, and a per-process memory cache would leave the other workers serving the old page.
if not REDIS_URL:  # noqa: F405
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache"), "KEY_PREFIX": "portal"}}  # noqa: F405
