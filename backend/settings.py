"""Settings, all from the environment.

Production defaults are safe: ``DEBUG`` is off unless ``DEBUG=1`` and a
``SECRET_KEY`` must be given then. See docs/configuration.md for every variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-local-development-key-never-use-in-production-0123456789"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "backend",
    "scheduling",
    "billing",
    "outcomes",
    "worker",
    "console",
]

MIDDLEWARE = [
    "backend.errors.ApiProblemMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "backend.audit.AuditMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"
AUTH_USER_MODEL = "backend.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.context.navigation",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------
# PostgreSQL only. `make run` / `make test` set DATABASE_URL to the embedded
# server when it is not configured (backend/embedded.py).
if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use `make run` / `make test`, which start an embedded "
        "PostgreSQL, or `python -m backend.embedded exec -- <command>`."
    )
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60"))
    )
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The role the application connects as, granted its rights after every migrate (backend/dbroles.py); set it
# where migrate runs as the owner.
DATABASE_APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "")
# Names the process in pg_stat_activity ("clinic-web", "clinic-worker" under make run).
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "application_name", os.environ.get("DB_APPLICATION_NAME", "clinic")
)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth ---------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- i18n and time --------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static and media -----------------------------------------------------------
STATIC_URL = "static/"
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": os.environ.get("STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {
        "BACKEND": os.environ.get(
            "STATICFILES_BACKEND",
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
if STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage":
    STORAGES["default"]["OPTIONS"] = {
        "bucket_name": os.environ.get("S3_BUCKET", ""),
        "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("S3_REGION") or None,
        "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
        "default_acl": "private",
        "querystring_auth": True,
    }

# --- email ----------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "1025" if DEBUG else "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Clinic <no-reply@clinic.invalid>")

# --- Celery (worker/celery.py reads the CELERY_ namespace) -----------------------
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Cache: rate-limit counters (docs/security.md) ---------------------------------------
# Redis, so every web process counts the same requests; short timeouts and no retries, so a
# Redis outage costs a request milliseconds (the limits then fail open).
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "retry": Retry(NoBackoff(), 0)}
if os.environ.get("CACHE_BACKEND", "redis") == "redis":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cache",
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
THROTTLE_RATES = {
    "login_address": os.environ.get("THROTTLE_LOGIN_ADDRESS", "30/min"),
    "login_username": os.environ.get("THROTTLE_LOGIN_USERNAME", "5/min"),
    "booking": os.environ.get("THROTTLE_BOOKING", "120/min"),
    "exports": os.environ.get("THROTTLE_EXPORTS", "20/min"),
    "document_email": os.environ.get("THROTTLE_DOCUMENT_EMAIL", "10/hour"),
}
AUTH_TOKEN_TTL_HOURS = int(os.environ.get("AUTH_TOKEN_TTL_HOURS", "12"))

# --- REST framework and OpenAPI ------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backend.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # The API speaks JSON only (API.md); Twilio's form-encoded webhook sets its own parser.
    "DEFAULT_PARSER_CLASSES": ["backend.parsers.BoundedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Wall-clock times at a location: no offset (the location's zone applies).
    "TIME_INPUT_FORMATS": ["%H:%M", "%H:%M:%S"],
    "DEFAULT_FILTER_BACKENDS": ["backend.filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "backend.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "backend.errors.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # The client's address is REMOTE_ADDR unless proxies in front are declared: X-Forwarded-For is then read
    # from the right, past this many trusted proxies. Without it, a rotating header would dodge the limits.
    "NUM_PROXIES": int(os.environ.get("TRUSTED_PROXY_COUNT", "0")),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ketamine clinic API",
    "DESCRIPTION": "Scheduling, reminders and billing for ketamine infusion clinics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "backend.schema.add_problem_responses",
        "backend.schema.tighten_formats",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ResourceKindEnum": "scheduling.models.ResourceKind",
        "StaffRoleEnum": "scheduling.models.StaffRole",
    },
}

# --- security (effective when DEBUG is off) ---------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"scrub_link_tokens": {"()": "backend.logscrub.ScrubLinkTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # The loggers that write request paths: a signed link's token is a credential (backend/logscrub.py).
    "loggers": {
        "django.request": {"filters": ["scrub_link_tokens"]},
        "django.security": {"filters": ["scrub_link_tokens"]},
        "django.server": {"filters": ["scrub_link_tokens"], "handlers": ["console"], "propagate": False},
    },
}

# --- the clinic product ---------------------------------------------------------------------
# Seals the audit trail (backend/audit_chain.py). Kept outside the database; never change it once set, or
# every earlier event fails `audit_verify`. Empty: derived from SECRET_KEY.
AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY", "")
SMS_BACKEND = os.environ.get("SMS_BACKEND", "local")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "")
# Reminder outbox timing (seconds): a queued row not picked up, or a sending row not finished, is swept again.
REMINDER_QUEUED_TIMEOUT = int(os.environ.get("REMINDER_QUEUED_TIMEOUT", "300"))
REMINDER_SENDING_TIMEOUT = int(os.environ.get("REMINDER_SENDING_TIMEOUT", "300"))
REMINDER_MAX_ATTEMPTS = int(os.environ.get("REMINDER_MAX_ATTEMPTS", "8"))
REMINDER_DELIVERY_BATCH = max(1, int(os.environ.get("REMINDER_DELIVERY_BATCH", "50")))
DOCUMENT_ENQUEUE_GRACE = int(os.environ.get("DOCUMENT_ENQUEUE_GRACE", "60"))
DOCUMENT_RENDER_TIMEOUT = int(os.environ.get("DOCUMENT_RENDER_TIMEOUT", "300"))
REMINDER_LINK_MAX_AGE_DAYS = int(os.environ.get("REMINDER_LINK_MAX_AGE_DAYS", "30"))
FORM_LINK_MAX_AGE_DAYS = int(os.environ.get("FORM_LINK_MAX_AGE_DAYS", "7"))

# Exports (docs/exports.md)
EXPORT_RETENTION_DAYS = int(os.environ.get("EXPORT_RETENTION_DAYS", "7"))
EXPORT_STALL_TIMEOUT = int(os.environ.get("EXPORT_STALL_TIMEOUT", "120"))
EXPORT_ENQUEUE_GRACE = int(os.environ.get("EXPORT_ENQUEUE_GRACE", "60"))
EXPORT_MAX_ATTEMPTS = int(os.environ.get("EXPORT_MAX_ATTEMPTS", "3"))
EXPORT_PROGRESS_INTERVAL = float(os.environ.get("EXPORT_PROGRESS_INTERVAL", "1.0"))
EXPORT_STREAM_MAX_ROWS = int(os.environ.get("EXPORT_STREAM_MAX_ROWS", "10000"))
EXPORT_QUICKBOOKS_DATE_FORMAT = os.environ.get("EXPORT_QUICKBOOKS_DATE_FORMAT", "MM/DD/YYYY")
EXPORT_XERO_DATE_FORMAT = os.environ.get("EXPORT_XERO_DATE_FORMAT", "DD/MM/YYYY")
EXPORT_XERO_ACCOUNT_CODE = os.environ.get("EXPORT_XERO_ACCOUNT_CODE", "200")
EXPORT_XERO_TAX_TYPE = os.environ.get("EXPORT_XERO_TAX_TYPE", "Tax on Sales")
EXPORT_XERO_TAX_EXEMPT = os.environ.get("EXPORT_XERO_TAX_EXEMPT", "Tax Exempt")
EXPORT_UNCODED_ITEM = os.environ.get("EXPORT_UNCODED_ITEM", "Clinic sale")  # the product of lines without a code
