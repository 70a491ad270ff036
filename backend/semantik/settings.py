"""Every Semantik setting, read from the environment with safe development defaults."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from semantik.database_url import parse_database_url
from semantik.env import SettingError, get_bool, get_float, get_int, get_list, get_paths, get_rate, get_str
from semantik.logs.config import FORMATS as LOG_FORMATS
from semantik.logs.config import logging_config

BASE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BASE_DIR.parent.parent

DEBUG = get_bool("DEBUG", default=True)
DATA_DIR = Path(get_str("DATA_DIR", str(PROJECT_ROOT / "data"))).expanduser().resolve()
LOG_LEVEL = get_str("LOG_LEVEL", "INFO").upper()
# JSON lines in production (one object per line, with request and operation ids), readable lines
# in development.
LOG_FORMAT = get_str("LOG_FORMAT", "console" if DEBUG else "json").strip().lower()
if LOG_FORMAT not in LOG_FORMATS:
    raise SettingError(f"LOG_FORMAT={LOG_FORMAT!r} is not one of {', '.join(LOG_FORMATS)}")
# Also write JSON lines to a rotating file in this folder (the compose stack sets logs/).
LOG_DIR = Path(get_str("LOG_DIR")).expanduser().resolve() if get_str("LOG_DIR") else None
LOG_FILE_MAX_BYTES = get_int("LOG_FILE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
LOG_FILE_BACKUPS = get_int("LOG_FILE_BACKUPS", 5, minimum=0)


def _secret_key() -> str:
    key = get_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise SettingError("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off")
    # Development: one random key per data directory, so tokens survive a restart but no
    # well-known key ever signs anything.
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
JWT_SIGNING_KEY = get_str("JWT_SIGNING_KEY") or SECRET_KEY
ALLOWED_HOSTS = get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = get_list("CSRF_TRUSTED_ORIGINS", ["http://127.0.0.1:8080", "http://localhost:8080"])
# Other origins whose pages may call the API from a browser (`https://app.example.com`); none by
# default: the UI is served from the API's own origin.
CORS_ALLOWED_ORIGINS = get_list("CORS_ALLOWED_ORIGINS", [])

# Security headers (SecurityMiddleware, XFrameOptionsMiddleware, semantik.web.security).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Served over HTTPS (directly or by a TLS proxy that says so in X-Forwarded-Proto): HSTS on
# secure responses, cookies only over HTTPS.
SECURE_SSL = get_bool("SECURE_SSL", False)
SECURE_HSTS_SECONDS = get_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600, minimum=0) if SECURE_SSL else 0
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL
SESSION_COOKIE_HTTPONLY = True

# Names Semantik's keys, queue and channel groups in Redis, so two instances (or two test runs)
# can share one Redis server without taking each other's tasks or events.
INSTANCE_NAME = get_str("INSTANCE_NAME", "semantik")

# Services. Each is given by URL; `semantik run` starts an embedded twin for any that is missing
# and sets the variable before this module is read.
DATABASE_URL = get_str("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/semantik")
REDIS_URL = get_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# One Triton server's gRPC address, or several separated by commas: each model's client then sends
# its calls to them in turn (round robin), skipping one that is down. A load balancer is one URL.
TRITON_URL = get_str("TRITON_URL", "127.0.0.1:8001")
# Triton's Prometheus endpoint, re-exposed under /metrics; `semantik run` sets it for the embedded
# Triton. Unset (a remote Triton nobody pointed us at): Triton's metrics are left out.
TRITON_METRICS_URL = get_str("TRITON_METRICS_URL") or None
QDRANT_URL = get_str("QDRANT_URL") or None
QDRANT_API_KEY = get_str("QDRANT_API_KEY") or None
# Shards and replicas of each new Qdrant collection (a Qdrant cluster spreads and copies them);
# the embedded engine keeps one of each.
QDRANT_SHARDS = get_int("QDRANT_SHARDS", 1, minimum=1)
QDRANT_REPLICAS = get_int("QDRANT_REPLICAS", 1, minimum=1)
QDRANT_PATH = Path(get_str("QDRANT_PATH", str(DATA_DIR / "qdrant"))).expanduser()
# The embedded engine builds a collection's HNSW index in the background once this many points
# were written to it since its last build and its writes have paused; below it, search is exact.
# 0 turns the builds off. A Qdrant server indexes on its own (its optimizer settings).
QDRANT_INDEX_THRESHOLD = get_int("QDRANT_INDEX_THRESHOLD", 20_000, minimum=0)

DOCUMENT_PATH = [p.resolve() for p in get_paths("DOCUMENT_PATH", [DATA_DIR / "documents"])]
MODEL_REPOSITORY = Path(get_str("MODEL_REPOSITORY", str(PROJECT_ROOT / "model_repository"))).expanduser()
DEFAULT_EMBEDDING_MODEL = get_str("DEFAULT_EMBEDDING_MODEL", "all-minilm-l6-v2")
# The precision of new collections that name none: which exported variant of their model serves them.
_quantization = get_str("DEFAULT_QUANTIZATION", "float32").strip().lower()
DEFAULT_QUANTIZATION = {"fp32": "float32", "fp16": "float16"}.get(_quantization, _quantization)
if DEFAULT_QUANTIZATION not in ("float32", "float16", "int8"):
    raise SettingError(f"DEFAULT_QUANTIZATION={DEFAULT_QUANTIZATION!r} is not one of float32, float16, int8")
# "triton" sends every embedding over gRPC; "onnx" runs the same ONNX file in-process, for
# machines where no tritonserver binary runs.
INFERENCE_BACKEND = get_str("INFERENCE_BACKEND", "triton")
# Where search embeds its query: "onnx" runs the model's ONNX file in this process (measured side
# by side on a busy 2-core machine: 5.3 ms of CPU per query, against 7.4 ms for the gRPC client and
# Triton's python backend together, and no round trip), "triton" sends it to Triton like
# documents. `semantik run` chooses "onnx": its Triton shares the same CPU.
QUERY_INFERENCE_BACKEND = get_str("QUERY_INFERENCE_BACKEND", INFERENCE_BACKEND)
if QUERY_INFERENCE_BACKEND not in ("triton", "onnx"):
    raise SettingError(f"QUERY_INFERENCE_BACKEND={QUERY_INFERENCE_BACKEND!r} is not one of triton, onnx")
TRITON_TIMEOUT_S = get_float("TRITON_TIMEOUT_S", 30.0)
EMBED_BATCH_SIZE = get_int("EMBED_BATCH_SIZE", 32, minimum=1)

DEFAULT_CHUNK_SIZE = get_int("DEFAULT_CHUNK_SIZE", 200, minimum=16)
DEFAULT_CHUNK_OVERLAP = get_int("DEFAULT_CHUNK_OVERLAP", 32, minimum=0)
MAX_FILE_BYTES = get_int("MAX_FILE_BYTES", 50 * 1024 * 1024, minimum=1)
# Files sent through the API: kept under UPLOAD_ROOT/<collection id>/, away from DOCUMENT_PATH,
# within a size limit per file and per request.
UPLOAD_ROOT = Path(get_str("UPLOAD_ROOT", str(DATA_DIR / "uploads"))).expanduser().resolve()
UPLOAD_MAX_BYTES = get_int("UPLOAD_MAX_BYTES", MAX_FILE_BYTES, minimum=1)
UPLOAD_MAX_REQUEST_BYTES = get_int("UPLOAD_MAX_REQUEST_BYTES", 1024**3, minimum=1)
UPLOAD_MAX_FILES = get_int("UPLOAD_MAX_FILES", 1000, minimum=1)
# Django's own multipart limits, raised so one upload request can carry UPLOAD_MAX_FILES files,
# each with its relative path as a form field.
DATA_UPLOAD_MAX_NUMBER_FILES = UPLOAD_MAX_FILES
DATA_UPLOAD_MAX_NUMBER_FIELDS = max(1000, UPLOAD_MAX_FILES + 100)
# Extraction runs in worker processes, each bounded in time and memory, so one hostile file
# fails alone instead of hanging or exhausting the worker.
EXTRACTION_WORKERS = get_int("EXTRACTION_WORKERS", 2, minimum=1)
EXTRACTION_TIMEOUT_S = get_float("EXTRACTION_TIMEOUT_S", 120.0)
EXTRACTION_MEMORY_BYTES = get_int("EXTRACTION_MEMORY_BYTES", 2 * 1024**3, minimum=64 * 1024**2)
# Chunks per embedding call during ingestion; batches span documents. INGEST_BATCH_SIZE is its old name.
BATCH_SIZE = get_int("BATCH_SIZE", get_int("INGEST_BATCH_SIZE", 64, minimum=1), minimum=1)

# A bearer token that may read /metrics (for Prometheus); staff users may read it without one.
METRICS_TOKEN = get_str("METRICS_TOKEN") or None
# A Celery worker started by the `celery worker` command serves its own Prometheus metrics on this
# port (0: not at all); `semantik run` runs its worker inside the web process, whose /metrics has them.
WORKER_METRICS_PORT = get_int("WORKER_METRICS_PORT", 9091, minimum=0)
WORKER_METRICS_ADDRESS = get_str("WORKER_METRICS_ADDRESS", "0.0.0.0")
# Search: a reranker slower than this is skipped (the unreranked order is returned, and says
# so); query vectors are kept in Redis this long (0: not cached).
RERANK_TIMEOUT_S = get_float("RERANK_TIMEOUT_S", 3.0)
QUERY_CACHE_SECONDS = get_int("QUERY_CACHE_SECONDS", 24 * 3600, minimum=0)

SEMANTIK_ADMIN_USERNAME = get_str("SEMANTIK_ADMIN_USERNAME", "admin")
SEMANTIK_ADMIN_PASSWORD = get_str("SEMANTIK_ADMIN_PASSWORD")

# Whether anyone may create an account at POST /api/auth/register. Staff can override it at run
# time in the admin (Accounts › Registration); this is what applies when they have not.
REGISTRATION_OPEN = get_bool("REGISTRATION_OPEN", default=DEBUG)

# Request rates ("10/min", "1000/hour"; "none" switches one off), counted in Redis through the
# cache. Read per request by semantik.accounts.throttles, so a change to this dict takes effect.
THROTTLE_RATES: dict[str, str | None] = {
    "login": get_rate("THROTTLE_LOGIN", "10/min"),  # per IP address
    "register": get_rate("THROTTLE_REGISTER", "5/hour"),  # per IP address
    "search": get_rate("THROTTLE_SEARCH", "120/min"),  # per user, or per API key
    "write": get_rate("THROTTLE_WRITE", "300/min"),  # per user, unsafe methods
    "user": get_rate("THROTTLE_USER", "1200/min"),  # per user, every request
    "anon": get_rate("THROTTLE_ANON", "300/min"),  # per IP address, requests without credentials
}
# How many reverse proxies in front of Semantik append to X-Forwarded-For. 0 trusts no such
# header (the client address is the socket's), so a client cannot pick its throttling address.
NUM_PROXIES = get_int("NUM_PROXIES", 0, minimum=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_results",
    "semantik.accounts",
    "semantik.collections",
    "semantik.documents",
    "semantik.operations",
    "semantik.search",
    "semantik.realtime",
    "semantik.health",
    "semantik.catalog",
    "semantik.metrics",
    "semantik.web",
]

MIDDLEWARE = [
    "semantik.logs.middleware.request_id",
    "semantik.metrics.middleware.request_metrics",
    "django.middleware.security.SecurityMiddleware",
    "semantik.web.security.security_headers",
    "semantik.web.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "semantik.urls"
ASGI_APPLICATION = "semantik.asgi.application"
# Threads answering HTTP requests in one web process (semantik.web.handler); a request holds one
# while its view runs, WebSockets hold none.
WEB_THREADS = get_int("WEB_THREADS", 16, minimum=1)
WSGI_APPLICATION = None

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
            ],
        },
    },
]

# Persistent connections stay off by default: under ASGI each request runs on a thread of its own.
DATABASES = {
    "default": parse_database_url(DATABASE_URL, conn_max_age=get_int("DATABASE_CONN_MAX_AGE", 0, minimum=0))
}
# A pool of at most this many connections (psycopg_pool) that requests borrow and give back,
# instead of connecting anew for each (about 2 ms of CPU here, and tens of ms on a busy machine).
# Off (0) unless set; `semantik run` sets it. It replaces DATABASE_CONN_MAX_AGE.
DATABASE_POOL_SIZE = get_int("DATABASE_POOL_SIZE", 0, minimum=0)
if DATABASE_POOL_SIZE:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": min(2, DATABASE_POOL_SIZE),
        "max_size": DATABASE_POOL_SIZE,
        "timeout": 10,  # waiting for a free connection longer than this fails the request
    }
# A password kept out of the URL, e.g. a Docker secret: DATABASE_PASSWORD_FILE=/run/secrets/db_password.
if get_str("DATABASE_PASSWORD"):
    DATABASES["default"]["PASSWORD"] = get_str("DATABASE_PASSWORD")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# The web UI as `make frontend-build` writes it (Vite, from frontend/): index.html and hashed assets,
# found as the web app's static files and served under /static/ui/.
UI_BUILD_DIR = BASE_DIR / "web" / "static" / "ui"


def _immutable_ui_asset(path: str, url: str) -> bool:
    # Vite names every asset by its content hash: browsers may keep them for good.
    return url.startswith(f"{STATIC_URL}ui/assets/")


WHITENOISE_IMMUTABLE_FILE_TEST = _immutable_ui_asset

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": INSTANCE_NAME,
        "TIMEOUT": 300,
    }
}

# Open live-update sockets per user, across every web process (counted in Redis); one more is
# closed with code 4429.
WS_MAX_CONNECTIONS_PER_USER = get_int("WS_MAX_CONNECTIONS_PER_USER", 10, minimum=1)

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{INSTANCE_NAME}:asgi", "capacity": 1000, "expiry": 60},
    }
}

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "semantik.accounts.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "semantik.accounts.permissions.ApiKeyScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "semantik.accounts.throttles.UserThrottle",
        "semantik.accounts.throttles.AnonThrottle",
        "semantik.accounts.throttles.WriteThrottle",
        "semantik.accounts.throttles.SearchThrottle",
    ],
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_SCHEMA_CLASS": "semantik.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser, except that JSON nested too deeply to parse is a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": ["semantik.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "semantik.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=get_int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=get_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": True,
    # Each refresh returns a new refresh token and revokes the one it was given.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Tokens carry a digest of the password hash: a password change ends every session at once,
    # access tokens included.
    "CHECK_REVOKE_TOKEN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Semantik API",
    "DESCRIPTION": (
        "Self-hosted semantic search. Authenticate with a JWT from POST /api/auth/login "
        "(`Authorization: Bearer <access>`) or an API key (`Authorization: Api-Key <key>`)."
    ),
    "VERSION": "2",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Operation ids start with the first segment after /api or /api/v2: collections_list, search_create.
    "SCHEMA_PATH_PREFIX": r"/api(/v2)?",
    # Choice sets that share a field name are told apart by their model.
    "ENUM_NAME_OVERRIDES": {
        "CollectionStatusEnum": "semantik.collections.models.Collection.Status",
        "DocumentStatusEnum": "semantik.documents.models.Document.Status",
        "OperationStatusEnum": "semantik.operations.models.Operation.Status",
        "OperationTypeEnum": "semantik.operations.models.Operation.Type",
        "SourceKindEnum": "semantik.documents.models.Source.Kind",
        "SearchModeEnum": "semantik.search.services.MODES",
        "SearchFusionEnum": "semantik.search.services.FUSIONS",
    },
    # One tag per app (semantik.openapi.AutoSchema), in this order.
    "TAGS": [
        {"name": "accounts", "description": "Registration, log-in, tokens, the password, API keys."},
        {"name": "collections", "description": "Collections: their model, chunking and counts."},
        {
            "name": "documents",
            "description": "Sources, uploads, reindexing, documents and their chunks, text and file, "
            "the chunking preview. Writes answer 202 with the operation that does the work.",
        },
        {"name": "operations", "description": "Long work on a collection: its progress, cancelling it."},
        {"name": "search", "description": "Semantic, keyword and hybrid search over collections."},
        {"name": "catalog", "description": "The models this installation serves."},
        {"name": "health", "description": "Liveness and readiness, without credentials."},
        {"name": "metrics", "description": "Prometheus metrics."},
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's scripts come from the drf-spectacular-sidecar package: the page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
}

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = INSTANCE_NAME
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Long ingestion tasks outlive Redis' default 1 h visibility timeout; without a longer one a
# healthy task would be handed to a second worker while the first is still running it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": get_int("CELERY_VISIBILITY_TIMEOUT", 6 * 3600)}
CELERY_TASK_ALWAYS_EAGER = get_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Celery keeps the LOGGING below (JSON, request and operation ids) instead of installing its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "reap-stale-operations": {"task": "semantik.reap_stale_operations", "schedule": 60.0},
    "sync-collections": {"task": "semantik.sync_collections", "schedule": 60.0},
    "flush-expired-refresh-tokens": {"task": "semantik.flush_expired_refresh_tokens", "schedule": 3600.0},
    "sweep-staged-uploads": {"task": "semantik.sweep_staged_uploads", "schedule": 3600.0},
}
CELERY_WORKER_CONCURRENCY = get_int("CELERY_WORKER_CONCURRENCY", 2, minimum=1)

# Operations whose heartbeat is older than this are considered abandoned by a dead worker.
OPERATION_STALE_AFTER_S = get_int("OPERATION_STALE_AFTER_S", 300, minimum=2)
OPERATION_HEARTBEAT_S = get_float("OPERATION_HEARTBEAT_S", 15.0)

if LOG_DIR is not None:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
LOGGING = logging_config(LOG_LEVEL, LOG_FORMAT, LOG_DIR, LOG_FILE_MAX_BYTES, LOG_FILE_BACKUPS)
