"""FunASR Portal settings. Every knob is an environment variable; `.env.example` lists them.

The defaults are for development on one machine: SQLite, Redis on localhost, the bundled
Whisper tiny.en model. Production sets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)
# Development (DEBUG, the default, as `make run` serves) may use a public key; production may not.
DEV_SECRET_KEY = "dev-only-insecure-key"
PUBLIC_SECRET_KEYS = {DEV_SECRET_KEY, "change-me-to-a-long-random-string"}  # the default, an old example's
SECRET_KEY = env_str("SECRET_KEY", "") or (DEV_SECRET_KEY if DEBUG else "")
if not DEBUG:
    _make_one = (
        "Set SECRET_KEY in the environment (/etc/funasr-portal.env) to a long random string, e.g. the "
        "output of: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
    if not SECRET_KEY:
        raise ImproperlyConfigured(f"SECRET_KEY must be set when DEBUG is false. {_make_one}")
    if SECRET_KEY in PUBLIC_SECRET_KEYS or SECRET_KEY.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            "SECRET_KEY is a public key (the development default or an example's placeholder): anyone "
            f"could forge sessions and password-reset links with it. {_make_one}"
        )
    # Django's deployment check asks the same: at least 50 characters, at least 5 different ones.
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            f"SECRET_KEY is too weak ({len(SECRET_KEY)} characters, {len(set(SECRET_KEY))} different): "
            f"with DEBUG=false it needs at least 50 characters, at least 5 of them different. {_make_one}"
        )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_rq",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "portal.apps.PortalConfig",
    "audit",
    "teams",
    "accounts",
    "quotas",
    "transcription",
    "hotwords",
    "api",
    "webhooks",
    "llm",
    "quality",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware: the language comes from the django_language
    # cookie (set by the switcher) or else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "llm.context_processors.llm",
                "quality.context_processors.quality",
            ],
        },
    },
]

# --- Database: SQLite by default, anything dj-database-url reads through DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The web server and the worker write from separate processes: WAL lets readers
    # carry on during a write, and IMMEDIATE transactions wait instead of deadlocking.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: the queue, the channel layer (worker -> browser events) and the cache.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
ASR_QUEUE = env_str("ASR_QUEUE", "asr")
RQ_QUEUES = {
    ASR_QUEUE: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600},
}
# We enqueue inside transaction.on_commit ourselves (services._enqueue), so RQ enqueues at once.
RQ = {"COMMIT_MODE": "auto"}
# A cache shared by every web process: API throttling counts requests across all of them.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_PREFIX", "portal"),
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # No read timeout: channels-redis waits 5 s on Redis for each socket's next message, and
        # redis-py 8 times reads out at 5 s by default, which closed idle sockets (code 1011).
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
            "prefix": env_str("CHANNELS_PREFIX", "asgi"),
        },
    },
}

# --- The integration API (see api/): session auth for the browser, personal tokens otherwise.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerUserThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("API_THROTTLE_RATE", "600/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FunASR Portal API",
    "DESCRIPTION": "Upload recordings, follow their transcription, and fetch transcripts.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served by the portal: deployments are often offline
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A job's statuses (with "recording", a live session's) are not a summary's: named apart.
    "ENUM_NAME_OVERRIDES": {"JobStatusEnum": "transcription.models.Job.Status"},
}
# How long POST /v1/audio/transcriptions waits for the transcript before answering with the job.
API_WAIT_SECONDS = env_int("API_WAIT_SECONDS", 300, minimum=0)
# Requests of one web process waiting for a transcript at once (api/waiting.py): beyond these, 429.
API_MAX_WAITS = env_int("API_MAX_WAITS", 500, minimum=1)
API_MAX_WAITS_PER_USER = env_int("API_MAX_WAITS_PER_USER", 20, minimum=1)

# --- Webhooks (see docs/webhooks.md): delivered by `manage.py webhookworker`.
WEBHOOK_QUEUE = env_str("WEBHOOK_QUEUE", "webhooks")
# Callbacks to loopback/private/link-local addresses are refused unless this is true.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 5, minimum=1)
WEBHOOK_BACKOFF_SECONDS = env_str("WEBHOOK_BACKOFF_SECONDS", "10,60,300,1800,7200")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
WEBHOOK_POLL_SECONDS = env_int("WEBHOOK_POLL_SECONDS", 5, minimum=1)

# --- Auth: accounts are made by admins; there is no sign-up page.
LOGIN_URL = "login"
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- Company log-in (accounts/, README "Company log-in"): off until configured. false: only
# superusers may still log in with a portal password (a way in when the directory is down).
LOCAL_PASSWORDS = env_bool("LOCAL_PASSWORDS", True)
# OpenID Connect (mozilla-django-oidc, authorization code with PKCE). Endpoints come from the
# issuer's discovery document, fetched at the first log-in (never at start), unless set here.
OIDC_ISSUER = env_str("OIDC_ISSUER", "").rstrip("/")
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_JWKS_ENDPOINT", "")
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = env_str("OIDC_SIGN_ALGO", "RS256")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
OIDC_STAFF_GROUP = env_str("OIDC_STAFF_GROUP", "")
OIDC_MANAGER_GROUPS = env_list("OIDC_MANAGER_GROUPS", [])
OIDC_BUTTON_LABEL = env_str("OIDC_BUTTON_LABEL", "SSO")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if OIDC_ENABLED and not (OIDC_ISSUER or OIDC_OP_AUTHORIZATION_ENDPOINT and OIDC_OP_TOKEN_ENDPOINT):
    raise ImproperlyConfigured("OIDC_CLIENT_ID needs OIDC_ISSUER, or the OIDC_*_ENDPOINT variables.")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
# LDAP (django-auth-ldap): people log in with their directory password on the usual form.
AUTH_LDAP_SERVER_URI = env_str("LDAP_SERVER_URI", "")
AUTH_LDAP_BIND_DN = env_str("LDAP_BIND_DN", "")
AUTH_LDAP_BIND_PASSWORD = env_str("LDAP_BIND_PASSWORD", "")
AUTH_LDAP_START_TLS = env_bool("LDAP_START_TLS", False)
LDAP_USER_SEARCH_BASE = env_str("LDAP_USER_SEARCH_BASE", "")
LDAP_USER_FILTER = env_str("LDAP_USER_FILTER", "(uid=%(user)s)")
LDAP_GROUP_SEARCH_BASE = env_str("LDAP_GROUP_SEARCH_BASE", "")
LDAP_GROUP_TYPE = env_choice(
    "LDAP_GROUP_TYPE", "groupOfNames", {"groupOfNames", "groupOfUniqueNames", "posixGroup", "activeDirectory"}
)
LDAP_STAFF_GROUP = env_str("LDAP_STAFF_GROUP", "")
# DNs hold commas: this list is separated by semicolons.
LDAP_MANAGER_GROUPS = [dn.strip() for dn in env_str("LDAP_MANAGER_GROUPS", "").split(";") if dn.strip()]
# Only what is configured: with no variable set, exactly Django's password log-in as before.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend"
    if LOCAL_PASSWORDS
    else "accounts.backends.SuperuserPasswordBackend",
    *(["accounts.ldap.DirectoryLdapBackend"] if AUTH_LDAP_SERVER_URI else []),
    *(["accounts.oidc.DirectoryOidcBackend"] if OIDC_ENABLED else []),
]

# --- Files. Media is never served as static files: audio goes through a permission check.
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # not routed: see transcription.views.job_audio
# Who sends audio bytes after the portal has checked ownership: "" (the portal itself), "nginx"
# (X-Accel-Redirect to MEDIA_ACCEL_PREFIX, an internal location) or "sendfile" (X-Sendfile).
MEDIA_SENDFILE = env_choice("MEDIA_SENDFILE", "", {"", "nginx", "sendfile"})
MEDIA_ACCEL_PREFIX = env_str("MEDIA_ACCEL_PREFIX", "/protected-media/")
# Retention, applied by `manage.py purge` (workers run it hourly): recordings are deleted this
# many days after their job ended (the transcript stays), whole jobs after TRANSCRIPTS days. 0 = keep.
RETAIN_AUDIO_DAYS = env_int("RETAIN_AUDIO_DAYS", 0, minimum=0)
RETAIN_TRANSCRIPTS_DAYS = env_int("RETAIN_TRANSCRIPTS_DAYS", 0, minimum=0)
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_MB", 2048, minimum=1) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # bigger uploads stream to a temporary file
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("UPLOAD_MAX_FILES", 100, minimum=1)

# Where `manage.py fetch_models` puts downloaded models, one directory per model.
MODELS_DIR = Path(env_str("MODELS_DIR", str(BASE_DIR / "models")))

# The speaker model diarization embeds voices with: empty for the bundled d-vector encoder (works
# offline out of the box), or FunASR's CAM++ as fetched by `manage.py fetch_models cam++` ("cam++",
# a directory in MODELS_DIR, or an absolute path). One per deployment: voice profiles kept with one
# model are not compared with voices of another (remember them again after a change).
ASR_SPEAKER_MODEL = env_str("ASR_SPEAKER_MODEL", "")

# A summary by the language model (llm/) may run this long, all its calls together.
LLM_JOB_TIMEOUT = env_int("LLM_JOB_TIMEOUT", 1800, minimum=60)

# --- The speech engine. Models and devices are engine profiles, managed in Django admin.
ASR_MAX_AUDIO_SECONDS = env_int("ASR_MAX_AUDIO_SECONDS", 4 * 3600, minimum=1)
# Memory the decoded samples of one recording may take, whatever its duration claims: 16 kHz mono
# float32 is 64 KB a second (about 230 MB an hour), so the default 1024 MB holds about 4 h 40 min,
# just above the default duration limit. Decoding stops as soon as it would pass either limit.
ASR_MAX_DECODED_BYTES = env_int("ASR_MAX_DECODED_MB", 1024, minimum=1) * 1024 * 1024
# A job may run this long plus 3x its audio's duration before RQ stops it.
ASR_JOB_TIMEOUT_BASE = env_int("ASR_JOB_TIMEOUT", 600, minimum=10)
# A worker publishes a heartbeat every ASR_HEARTBEAT_SECONDS that lives ASR_WORKER_TTL seconds.
# A running job whose worker has vanished is re-queued (or failed after ASR_MAX_ATTEMPTS runs) by
# the reconciliation that workers run every ASR_RECONCILE_SECONDS: so within about
# TTL + RECONCILE seconds of a crash (90 s by default).
ASR_HEARTBEAT_SECONDS = env_int("ASR_HEARTBEAT_SECONDS", 10, minimum=1)
ASR_WORKER_TTL = env_int("ASR_WORKER_TTL", 60, minimum=2)
ASR_RECONCILE_SECONDS = env_int("ASR_RECONCILE_SECONDS", 30, minimum=1)
ASR_MAX_ATTEMPTS = env_int("ASR_MAX_ATTEMPTS", 2, minimum=1)
# Tests only: a worker crashes (SIGSEGV) on a file whose name contains this. Never set it otherwise.
ASR_TEST_CRASH_MARKER = env_str("ASR_TEST_CRASH_MARKER", "")
# At most this many progress events per second per job reach the browser.
ASR_PROGRESS_PER_SECOND = env_int("ASR_PROGRESS_PER_SECOND", 4, minimum=1)
# Fair scheduling: the database is the queue of record; each RQ queue holds at most
# ASR_DISPATCH_WINDOW jobs at a time, topped up round-robin across users, so one user's 500 files
# cannot starve another's single file. ASR_FAIR_SCHEDULING=false: every job is enqueued at once,
# first come first served (the window is then unlimited).
ASR_FAIR_SCHEDULING = env_bool("ASR_FAIR_SCHEDULING", True)
ASR_DISPATCH_WINDOW = env_int("ASR_DISPATCH_WINDOW", 8, minimum=1)
# Batching across jobs: a worker that takes a job of at most ASR_BATCH_MAX_SECONDS of audio also
# claims up to ASR_BATCH_MAX_JOBS - 1 more such jobs (same profile and options) and recognises
# them in one engine call. 1 turns it off; `asrworker --batch-max-jobs N` overrides it.
ASR_BATCH_MAX_JOBS = env_int("ASR_BATCH_MAX_JOBS", 8, minimum=1)
ASR_BATCH_MAX_SECONDS = env_int("ASR_BATCH_MAX_SECONDS", 30, minimum=1)
# One recording across many workers: a job of at least ASR_CHUNK_SECONDS of audio, taken while two
# or more workers serve its queue, is cut in pauses into chunks of about this length (a multiple of
# the workers) that all of them recognise at once. 0 turns it off.
ASR_CHUNK_SECONDS = env_int("ASR_CHUNK_SECONDS", 300, minimum=0)
# Live captions (issue 20): each `asrstream` process serves up to ASR_LIVE_SESSIONS sessions at once
# (`--sessions N` overrides it); a session beyond every worker's capacity is refused before it
# starts. A session whose page went away is kept ASR_LIVE_RESUME_SECONDS for the page to come back,
# then its recording becomes a job.
ASR_LIVE_SESSIONS = env_int("ASR_LIVE_SESSIONS", 4, minimum=1)
ASR_LIVE_RESUME_SECONDS = env_int("ASR_LIVE_RESUME_SECONDS", 60, minimum=5)

# Prometheus scrapes /metrics with "Authorization: Bearer <METRICS_TOKEN>" (staff may always look).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# --- Languages: English (the default, and the language stored job errors are written in) and
# Simplified Chinese. Catalogs live in locale/; see docs/architecture.md for adding a string.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"job": {"()": "portal.logs.JobIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s job=%(job_id)s %(message)s"},
        "json": {"()": "portal.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env_choice("LOG_FORMAT", "plain", {"plain", "json"}),
            "filters": ["job"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

if not DEBUG:
    # Production sits behind TLS (nginx, see docs/deploy.md). Each of these can be relaxed for
    # a plain-HTTP intranet install, knowingly, through its variable.
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 30 * 24 * 3600, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # nginx sets it; see deploy/nginx.conf
    # The health check is asked over plain HTTP by local supervisors and load balancers.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
