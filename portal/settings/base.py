"""Settings shared by every environment. Secrets and URLs come from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
# The database, keys, staged uploads and backups live here: readable by the owner only.
try:
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    VAR_DIR.chmod(0o700)
except OSError:
    pass


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_rate(name, default):
    """A "count/seconds" limit from the environment (e.g. 10/600) as (count, seconds), both positive integers."""
    value = os.environ.get(name, "").strip() or default
    count, slash, seconds = value.partition("/")
    try:
        parsed = (int(count), int(seconds)) if slash else None
    except ValueError:
        parsed = None
    if parsed is None or min(parsed) < 1:
        raise ImproperlyConfigured(f"环境变量 {name} 的值“{value}”无效：应为“次数/秒数”，"
                                   f"两者都是正整数，例如 {default}。")
    return parsed


INSTALLED_APPS = [
    "core",
    "home",
    "speeches",
    "campaigns",
    "merchants",
    "search",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.typed_table_block",
    "wagtail.embeds",
    "wagtail.sites",
    "core.adminzh.apps.UsersConfig",  # wagtail.users with one 姓名 field (core/adminzh/forms.py)
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail.api.v2",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "rest_framework",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "axes",
    "django_tasks_db",
]

MIDDLEWARE = [
    "core.clientip.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.pagecache.PageCacheMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.middleware.PagePasswordThrottleMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Admin login throttling: 5 failures lock the username from that address for an hour.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "account_locked.html"
AXES_CLIENT_IP_CALLABLE = "core.clientip.client_ip"
# Reverse proxies (addresses or networks) whose X-Forwarded-For / X-Forwarded-Proto are believed; from any
# other peer those headers are dropped (core/clientip.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

ROOT_URLCONF = "portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "home.context_processors.site_chrome",
            ],
        },
    },
]

WSGI_APPLICATION = "portal.wsgi.application"

SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")


def database_config():
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        # Health checks: a persistent connection broken by a database restart is replaced, not used.
        config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
                                       conn_health_checks=True)
        if config["ENGINE"] == "django.db.backends.sqlite3":
            config.setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
        return config
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
        "OPTIONS": dict(SQLITE_OPTIONS),
    }


# WAL lets readers run beside a writer; IMMEDIATE transactions and a busy timeout
# make concurrent writers queue instead of failing with "database is locked".
# Memory-mapped reads and a 16 MB page cache: search joins thousands of index rows per query. Mapped pages count
# in each worker's resident memory, so the map is capped (256 MB: 409 -> 251 MB peak per worker at 10,000
# speeches, queries no slower).
SQLITE_MMAP_BYTES = int(os.environ.get("SQLITE_MMAP_BYTES", str(256 * 1024 * 1024)))
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
    f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}; PRAGMA cache_size=-16384;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}

DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = [("zh-hans", "简体中文")]
WAGTAIL_CONTENT_LANGUAGES = [("zh-hans", "简体中文")]
# Chinese admin (core/adminzh): the strings Wagtail and Django leave untranslated (scripts/missing_translations.py,
# compiled by make install), Chinese names of permissions and built-in records, Wagtail's hard-coded English
# rewritten as templates load. humanize is installed for its translations ("3 分钟前").
LOCALE_PATHS = [BASE_DIR / "locale"]
INSTALLED_APPS += ["django.contrib.humanize"]
TEMPLATES[0]["APP_DIRS"] = False
TEMPLATES[0]["OPTIONS"]["loaders"] = [("django.template.loaders.cached.Loader", [
    "django.template.loaders.filesystem.Loader", "core.adminzh.loaders.Loader"])]

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_URL = "/static/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

WAGTAIL_SITE_NAME = os.environ.get("SITE_NAME", "工会宣传门户")
WAGTAILADMIN_BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8000")
# No outside requests from the admin: no Gravatar images, no version check, no English release banner.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "pdf", "txt", "xlsx", "zip"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
# Every uploaded image is verified by Pillow and stored under its real format's extension (core/images.py).
WAGTAILIMAGES_IMAGE_FORM_BASE = "core.images.SafeImageForm"
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 50_000_000
# Documents only through Wagtail's view, which checks private collections; /media/documents/ is refused.
WAGTAILDOCS_SERVE_METHOD = "serve_view"
# Uploads staged between an import's preview and its confirmation (core/staging.py); empty: VAR_DIR/staging.
STAGING_DIR = os.environ.get("STAGING_DIR", "")
WAGTAIL_WORKFLOW_ENABLED = True
# Slugs are ASCII: core.forms.PortalPageForm fills in the pinyin of a Chinese title.
WAGTAIL_ALLOW_UNICODE_SLUGS = False
WAGTAIL_MODERATION_ENABLED = True
WAGTAILIMAGES_IMAGE_MODEL = "wagtailimages.Image"

WAGTAILSEARCH_BACKENDS = {
    "default": {"BACKEND": "wagtail.search.backends.database"},
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@localhost")
# Seconds an SMTP connection may block a notification task.
EMAIL_TIMEOUT = 10

# Background tasks (django-tasks): rows in the database, run by `manage.py db_worker` (make run starts one).
# TASKS_BACKEND=immediate runs every task inside the request instead (no worker needed).
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}


def tasks_config(name):
    return {"default": {"BACKEND": TASK_BACKENDS[name]}}


TASKS = tasks_config(os.environ.get("TASKS_BACKEND", "database"))
# Background jobs (core/jobs.py): attempts per job, first retry delay (doubles each time), download lifetime.
JOB_MAX_ATTEMPTS = 3
JOB_RETRY_DELAY = int(os.environ.get("JOB_RETRY_DELAY", "30"))
JOB_FILE_HOURS = 24
JOB_FILES_DIR = Path(os.environ.get("JOB_FILES_DIR", VAR_DIR / "exports"))

def redis_caches(url, environ):
    """CACHES on Redis that survive a Redis outage (core/cache.py): while Redis is down each process falls back,
    trying Redis again every CACHE_RETRY_SECONDS. The default cache falls back to memory (rate limits then count
    per worker); the page cache ("pages") keeps nothing (pages are served uncached) and purges when Redis is back.
    """
    common = {"BACKEND": "core.cache.FallbackRedisCache", "LOCATION": url,
              "KEY_PREFIX": environ.get("CACHE_KEY_PREFIX", "portal")}
    options = {"socket_connect_timeout": float(environ.get("CACHE_CONNECT_TIMEOUT", "1")),
               "socket_timeout": float(environ.get("CACHE_SOCKET_TIMEOUT", "2")),
               "RETRY_SECONDS": float(environ.get("CACHE_RETRY_SECONDS", "5"))}
    return {
        "default": {**common, "OPTIONS": {**options, "FALLBACK": "locmem"}},
        "pages": {**common, "OPTIONS": {**options, "FALLBACK": "none", "ON_RECOVERY": "core.pagecache.purge"}},
    }


REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = redis_caches(REDIS_URL, os.environ)
    PAGE_CACHE_ALIAS = "pages"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal"}}

# Whole-page cache for anonymous visitors (core/pagecache.py); 0 switches it off.
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "600"))
# Live content that pages display. Pages themselves purge on publish, unpublish, move and delete only (never on a
# draft or an autosave); revisions, logs, workflow states and image renditions never purge.
PAGE_CACHE_PURGE_APPS = ["home", "speeches", "merchants", "taggit"]
PAGE_CACHE_PURGE_MODELS = ["wagtailimages.Image", "wagtailcore.Site", "wagtailcore.PageViewRestriction",
                           "wagtailcore.CollectionViewRestriction", "wagtailredirects.Redirect"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "wagtail": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

SPEECHES_PER_PAGE = 10
# The search log (search.querylog) keeps this many days; prune_search_log deletes older rows.
SEARCH_LOG_DAYS = int(os.environ.get("SEARCH_LOG_DAYS", "180"))
# Searches are counted in a per-process buffer appended to the database every SEARCH_LOG_FLUSH_SECONDS (0: in the
# request), and summed into the daily rows by the rollup_search_log task, enqueued at most every
# SEARCH_LOG_ROLLUP_SECONDS (0: only by cron and the report); SEARCH_LOG_BUFFER bounds the distinct queries buffered.
SEARCH_LOG_FLUSH_SECONDS = float(os.environ.get("SEARCH_LOG_FLUSH_SECONDS", "2"))
SEARCH_LOG_ROLLUP_SECONDS = int(os.environ.get("SEARCH_LOG_ROLLUP_SECONDS", "60"))
SEARCH_LOG_BUFFER = 5000

# Service-card merchant directory (特惠商户)
MERCHANTS_PER_PAGE = 20

# Chinese full-text search (search app): jieba-segmented index on SQLite FTS5 or PostgreSQL,
# chosen from the default database's engine.
WAGTAILSEARCH_BACKENDS = {
    "default": {"BACKEND": "search.backends", "ATOMIC_REBUILD": True},
}

# Campaign enrolments (campaigns app)
# Fernet keys for ID numbers at rest: ENROLMENT_KEYS (comma-separated, newest first) or one ENROLMENT_KEY;
# without either a dev key is generated into ENROLMENT_KEY_FILE.
ENROLMENT_KEYS = os.environ.get("ENROLMENT_KEYS", "")
ENROLMENT_KEY = os.environ.get("ENROLMENT_KEY", "")
# Backups are encrypted with BACKUP_KEY (core/backup/encryption.py); a development key is generated into the file.
BACKUP_KEY = os.environ.get("BACKUP_KEY", "")
BACKUP_KEY_FILE = Path(os.environ.get("BACKUP_KEY_FILE", VAR_DIR / "backup.key"))
ENROLMENT_KEY_FILE = Path(os.environ.get("ENROLMENT_KEY_FILE", VAR_DIR / "enrolment.key"))
# HMAC key of the duplicate check; without it a dev key is generated into enrolment-hash.key beside the key file.
ENROLMENT_HASH_KEY = os.environ.get("ENROLMENT_HASH_KEY", "")
# Accepted (valid) enrolment POSTs per IP, and per ID number per campaign: "count/seconds".
ENROLMENT_RATE_LIMIT = env_rate("ENROLMENT_RATE_LIMIT", "10/600")
ENROLMENT_ID_RATE_LIMIT = env_rate("ENROLMENT_ID_RATE_LIMIT", "3/3600")
# Dotted path to a callable(mobile=, message=, enrolment=) that sends an SMS; empty disables it.
ENROLMENT_SMS_HOOK = os.environ.get("ENROLMENT_SMS_HOOK", "")
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
# Enrolments of campaigns that ended more than this many days ago are anonymised by anonymise_enrolments (cron).
ENROLMENT_RETENTION_DAYS = int(os.environ.get("ENROLMENT_RETENTION_DAYS", str(3 * 365)))


def roster_dir(environ, var_dir, public_dirs):
    """ROSTER_DIR: the agents' uploaded rosters (personal data), never inside a directory the web server serves."""
    path = Path(environ.get("ROSTER_DIR", "").strip() or var_dir / "rosters").resolve()
    for name, public in public_dirs.items():
        public = Path(public).resolve()
        if path == public or public in path.parents:
            raise ImproperlyConfigured(f"环境变量 ROSTER_DIR（{path}）不能位于 {name}（{public}）之内："
                                       "名单文件含个人信息，不能放在公开目录中。")
    return path


# Collective enrolment (campaigns/agents, campaigns/lookup.py): uploaded rosters are kept here (mode 0600);
# failed agent sign-ins per client address; 报名进度查询 attempts per client address and per reference number.
ROSTER_DIR = roster_dir(os.environ, VAR_DIR, {"MEDIA_ROOT": MEDIA_ROOT, "STATIC_ROOT": STATIC_ROOT})
AGENT_LOGIN_IP_LIMIT = env_rate("AGENT_LOGIN_IP_LIMIT", "30/900")
ENROLMENT_LOOKUP_LIMITS = {
    "address": env_rate("ENROLMENT_LOOKUP_ADDRESS_LIMIT", "10/600"),
    "reference": env_rate("ENROLMENT_LOOKUP_REFERENCE_LIMIT", "5/3600"),
}

# 长辈模式 is rendered per cookie: HTML responses vary on Cookie (core.middleware).
MIDDLEWARE += ["core.middleware.VaryOnCookieMiddleware"]

# Elasticsearch scale-out (search/backends/elasticsearch.py): ELASTICSEARCH_URL selects it. Text is segmented by
# jieba in Python and indexed with the server's prebuilt whitespace analyzer; update_index switches an alias.
def elasticsearch_backends(environ):
    """WAGTAILSEARCH_BACKENDS for ELASTICSEARCH_URL: one URL, or a comma-separated list of a cluster's nodes."""
    urls = [u.strip() for u in environ["ELASTICSEARCH_URL"].split(",") if u.strip()]
    cluster = len(urls) > 1
    options = {
        # A node that refuses or drops a connection (in a cluster: or times out) is marked dead in the client's
        # node pool and the request goes to the next node; a dead node is tried again after 1, 2, 4 ... 30 s.
        "max_retries": int(environ.get("ELASTICSEARCH_MAX_RETRIES", len(urls))),
        "retry_on_timeout": cluster,
        "dead_node_backoff_factor": 1.0,
        "max_dead_node_backoff": 30.0,
        # Only the configured URLs: nodes' own publish addresses may be unreachable from here (proxy, NAT).
        "sniff_on_start": False,
        "sniff_on_node_failure": False,
        "sniff_before_requests": False,
    }
    if environ.get("ELASTICSEARCH_USER"):
        options["basic_auth"] = (environ["ELASTICSEARCH_USER"], environ.get("ELASTICSEARCH_PASSWORD", ""))
    if environ.get("ELASTICSEARCH_CA_CERTS"):
        options["ca_certs"] = environ["ELASTICSEARCH_CA_CERTS"]
    if environ.get("ELASTICSEARCH_VERIFY_CERTS"):
        options["verify_certs"] = environ["ELASTICSEARCH_VERIFY_CERTS"].lower() not in ("0", "false", "no")
    return {
        "default": {
            "BACKEND": "search.backends.elasticsearch",
            "URLS": urls,
            "INDEX_PREFIX": environ.get("ELASTICSEARCH_INDEX_PREFIX", "portal_"),
            "TIMEOUT": int(environ.get("ELASTICSEARCH_TIMEOUT", "10")),
            "ATOMIC_REBUILD": True,
            "OPTIONS": options,
            # Several nodes: one replica by default, so every shard survives the loss of a node.
            "INDEX_SETTINGS": {"settings": {"index": {
                "number_of_shards": int(environ.get("ELASTICSEARCH_SHARDS", "1")),
                "number_of_replicas": int(environ.get("ELASTICSEARCH_REPLICAS", "1" if cluster else "0")),
            }}},
        },
    }


if os.environ.get("ELASTICSEARCH_URL"):
    WAGTAILSEARCH_BACKENDS = elasticsearch_backends(os.environ)

# A search server that is down or unreachable gives visitors HTTP 503 "搜索暂时不可用", never a server error.
MIDDLEWARE = [*MIDDLEWARE, "search.es_errors.SearchUnavailableMiddleware"]
LOGGING["loggers"]["elastic_transport"] = {"level": "WARNING"}
