"""Settings shared by every environment. Everything that differs per deployment comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from config import embedded
from config.env import env_bool, env_database_url, env_int, env_list, env_redis_url, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

if os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".production"):
    # Production never starts embedded services: both URLs are required.
    for _name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(_name):
            raise ImproperlyConfigured(f"{_name} must be set in production")
else:
    embedded.ensure_environment()

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "guardian",
    "auditlog",
    "template_partials",
    "django_htmx",
    "accounts",
    "canonical",
    "mappings",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.audit.AuditRequestMiddleware",  # auditlog's, its receiver connected once per process
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboards.context_processors.viewer",
            ],
            # `{% url %}` reversed once per process per URL (config/template_urls.py), in every template.
            "builtins": ["config.template_urls"],
        },
    },
]

# --- Database: PostgreSQL only, pooled through psycopg's pool (Django >= 5.1) -------------------
_db = env_database_url()
_db["ENGINE"] = "config.database"  # Django's PostgreSQL backend; its pool recovers from a restart
_db.setdefault("OPTIONS", {})


def db_pool_options() -> dict:
    """psycopg_pool.ConnectionPool arguments (Django passes OPTIONS["pool"] through)."""
    return {
        "min_size": env_int("DB_POOL_MIN", 1, minimum=0),
        "max_size": env_int("DB_POOL_MAX", 8, minimum=1),
        "timeout": 10,
    }


# Behind PgBouncer in transaction mode no session state survives a transaction: no session locks, no
# prepared statements. The side connections of executions (heartbeat, progress) then prepare nothing.
DATABASE_POOLED_BY_PGBOUNCER = env_bool("DATABASE_POOLED_BY_PGBOUNCER", not env_bool("DB_POOL", True))

if env_bool("DB_POOL", True):
    # Each web/worker process holds a small pool; with PgBouncer in transaction mode set DB_POOL=0
    # and DISABLE_SERVER_SIDE_CURSORS is turned on below.
    _db["OPTIONS"]["pool"] = db_pool_options()
    _db["CONN_MAX_AGE"] = 0
else:
    _db["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 0, minimum=0)
    _db["DISABLE_SERVER_SIDE_CURSORS"] = True
# A connection is tried before use: from the pool, Django gives psycopg_pool `check=check_connection`
# (an empty query as it leaves the pool); a persistent one is pinged at request start. After a database
# restart the dead ones are replaced instead of failing the requests that draw them.
_db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}

# A streaming standby for dashboard reads (KPI rows, freshness, the data API): `replica`. Everything else,
# writes, DDL and repairs, goes to `default` (config/routers.py); without the variable `replica` is not defined
# and every read goes to the primary.
_replica = env_database_url("DATABASE_REPLICA_URL")
if _replica:
    _replica["ENGINE"] = _db["ENGINE"]
    _replica.setdefault("OPTIONS", {})
    if "pool" in _db["OPTIONS"]:
        _replica["OPTIONS"]["pool"] = db_pool_options()
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS"):
        if _key in _db:
            _replica[_key] = _db[_key]
    # Tests read the standby's copy of the test database the primary creates, never a database of its own.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["config.routers.PrimaryReplicaRouter"]
# After a user's execution commits, their reads stay on the primary until the standby has replayed it (or this
# many seconds pass: a standby that far behind is broken, and the status page says so).
READ_YOUR_WRITES_SECONDS = env_int("READ_YOUR_WRITES_SECONDS", 600, minimum=1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache ----------------------------------------------------------------
REDIS_URL = env_redis_url()


def _kombu_url(url: str) -> str:
    return "redis+socket://" + url.removeprefix("unix://") if url.startswith("unix://") else url


CELERY_BROKER_URL = _kombu_url(REDIS_URL)
CELERY_RESULT_BACKEND = None  # job state lives in PostgreSQL (execution jobs, refresh_jobs)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Three queues, so a long ingest never holds up a KPI refresh: `serve` starts a worker per queue
# (SERVE_WORKERS); a worker started without -Q consumes all three.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue("ingest"), Queue("refresh"), Queue("default")]
CELERY_TASK_ROUTES = {
    "mappings.tasks.execute_job": {"queue": "ingest"},
    "mappings.tasks.data_source_scan_task": {"queue": "ingest"},
    "dashboards.tasks.kpi_view_refresh_task": {"queue": "refresh"},
}
SERVE_WORKERS = env_str("SERVE_WORKERS", "ingest,refresh,default")
SERVE_WORKER_CONCURRENCY = env_int("SERVE_WORKER_CONCURRENCY", 1, minimum=1)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Executions that could not be queued while Redis was down are sent again once it is back.
CELERY_BEAT_SCHEDULE = {
    "execution-jobs-resend-delayed": {
        "task": "mappings.tasks.execution_jobs_resend_delayed_task",
        "schedule": 60.0,
    }
}
EXECUTION_LOCK_WAIT_SECONDS = env_int("EXECUTION_LOCK_WAIT_SECONDS", 600, minimum=1)
# A running execution holds a lease on its job row: its heartbeat renews `lease_until` to now +
# EXECUTION_LEASE_SECONDS every EXECUTION_HEARTBEAT_SECONDS. celery-beat's sweeper fails a running job
# whose lease has expired; a redelivered task waits for the lease to expire before it takes the job over.
EXECUTION_HEARTBEAT_SECONDS = env_int("EXECUTION_HEARTBEAT_SECONDS", 15, minimum=1)
EXECUTION_LEASE_SECONDS = env_int(
    "EXECUTION_LEASE_SECONDS", env_int("EXECUTION_STALE_AFTER_SECONDS", 120, minimum=1), minimum=1
)
# A load of at least this many new rows (and a quarter of its table) drops and rebuilds the table's
# indexes and foreign keys around the insert instead of maintaining them row by row.
EXECUTION_BULK_MIN_ROWS = env_int("EXECUTION_BULK_MIN_ROWS", 10_000, minimum=1)
CELERY_TIMEZONE = "UTC"

CACHES = {
    "default": {
        "BACKEND": "config.cache.RedisCache",  # Django's, one client object per pool (config/cache.py)
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "dash",
        # The cache only saves reads and fails open: a hung Redis must cost a request a second, not forever.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

# --- Auth ------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Sessions in the database, read through the cache (a query less on every request; fails open to the database).
SESSION_ENGINE = "accounts.sessions"
AUTHENTICATION_BACKENDS = [
    # ModelBackend that refuses to check passwords for a username or address that failed too often.
    "accounts.login_throttle.ThrottledModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 30, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user object; anonymous visitors get nothing
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- I18N / time -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The currency money is shown in when the data does not say (its currency columns empty or mixed): an ISO 4217
# code such as EUR, or "" for none (numbers without a symbol). Numbers and dates follow the viewer's browser.
DEFAULT_CURRENCY = env_str("DEFAULT_CURRENCY", "").upper()

# --- Static and uploads ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.staticfiles.StaticFilesStorage"},  # WhiteNoise's, each URL computed once
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))
MEDIA_URL = "media/"
UPLOAD_DIR = MEDIA_ROOT / "uploads"
# Where uploads are stored (mappings/services/storage.py): `filesystem` (UPLOAD_DIR, shared by web and ingest
# workers) or `s3`, any S3-compatible store through django-storages; UPLOAD_DIR is then local scratch space.
UPLOAD_STORAGE = env_str("UPLOAD_STORAGE", "filesystem")
if UPLOAD_STORAGE == "s3":
    if not env_str("AWS_STORAGE_BUCKET_NAME"):
        raise ImproperlyConfigured("AWS_STORAGE_BUCKET_NAME must be set when UPLOAD_STORAGE=s3")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,  # e.g. MinIO, Ceph, moto; None: AWS
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,  # None: boto3's own chain (instance role, ...)
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "file_overwrite": True,  # a re-conversion replaces the readable CSV under its name
            "default_acl": None,
            "querystring_auth": True,
        },
    }
elif UPLOAD_STORAGE != "filesystem":
    raise ImproperlyConfigured(f"UPLOAD_STORAGE={UPLOAD_STORAGE!r} must be filesystem or s3")
# With `s3`, each machine keeps the uploads it read in this directory (per version of the stored object, so a
# preview or a re-run reads the local copy instead of the store's), the least recently used removed past the size.
UPLOAD_CACHE_DIR = Path(env_str("UPLOAD_CACHE_DIR", str(MEDIA_ROOT / "upload-cache")))
UPLOAD_CACHE_MAX_MB = env_int("UPLOAD_CACHE_MAX_MB", 2048, minimum=0)
# Upload limit for data files (bytes). Files are streamed to disk; memory holds at most 2.5 MB of a request.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_MB", 200, minimum=1) * 1024 * 1024
# Uploads up to this size are scanned (rows, ragged rows) during the request; bigger ones by a task after it.
UPLOAD_SCAN_SYNC_BYTES = env_int("UPLOAD_SCAN_SYNC_BYTES", 16 * 1024 * 1024, minimum=0)
# Uploads whose conversion reads more than this (a workbook's inflated parts, a CSV to transcode or cut) are
# converted and profiled by a task after the request; the upload page shows the progress.
UPLOAD_CONVERT_SYNC_BYTES = env_int("UPLOAD_CONVERT_SYNC_BYTES", 16 * 1024 * 1024, minimum=0)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]

# --- LLM (optional) --------------------------------------------------------------------------------
ANTHROPIC_API_KEY = env_str("ANTHROPIC_API_KEY", "") or ""
# claude-sonnet-4-5 reaches end-of-life on 2026-11-30 (anthropic SDK deprecation list).
ANTHROPIC_MODEL = env_str("ANTHROPIC_MODEL", "claude-sonnet-4-6") or "claude-sonnet-4-6"
LLM_TIMEOUT_SECONDS = env_int("LLM_TIMEOUT_SECONDS", 20, minimum=1)

# --- API -------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous caller gets 401 with `WWW-Authenticate: Token` on every endpoint, not a
    # bare 403 on some (DRF answers with the first class's challenge).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON nested past 32 levels is a 400, not a RecursionError (config/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"login": "10/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CSV to Dashboards API",
    "DESCRIPTION": "Upload business exports, map them onto the canonical schema, read KPI dashboards.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.error_responses_document",
    ],
}

# --- Content Security Policy: no inline script, everything from our own origin --------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],  # Vega and vega-embed set inline styles
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Product settings --------------------------------------------------------------------------------
# Measured on the real corpus's dev files: proposals in [0.6, 0.7) were right 1 time in 9.
MAPPING_AUTO_CONFIDENCE = float(env_str("MAPPING_AUTO_CONFIDENCE", "0.7") or "0.7")
DEMO_DATA_DIR = BASE_DIR / "demo" / "northwind"

# Who the KPI staleness alerts go to (comma-separated); empty: the active superusers' addresses.
KPI_ALERT_EMAILS = env_list("KPI_ALERT_EMAILS", [])

# --- Audit trail (django-auditlog; see accounts/audit.py) ---------------------------------------------
AUDITLOG_STORE_JSON_CHANGES = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# A question's preview (builder page, preview API) and its timing at save are stopped after this long: the page says
# to narrow the question or keep it ready, instead of holding a worker and a database backend for minutes.
QUESTION_PREVIEW_LIMIT_MS = env_int("QUESTION_PREVIEW_LIMIT_S", 15, minimum=1) * 1000
