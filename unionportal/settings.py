"""UnionPortal settings: the one settings file, read from the environment.

Every knob an operator may turn is an environment variable read here with a strict
helper; nothing else in the project reads os.environ. Defaults give the embedded
demo set-up (SQLite under var/, no Redis); production sets DATABASE_URL, REDIS_URL,
SECRET_KEY, ALLOWED_HOSTS and FIELD_ENCRYPTION_KEYS.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "treebeard",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "core",
    "organizations",
    "activity",
    "members",
    "assistance",
    "disputes",
    "projects",
    "reports",
    "unionportal",  # commands that compose every app (seed_demo)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the body (CSRF reads POST): oversized bodies are refused unread.
    "core.uploads.UploadLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Second factor: marks verified sessions, then holds password-only sessions of TOTP users.
    "django_otp.middleware.OTPMiddleware",
    "organizations.otp.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.csp.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "unionportal.urls"
WSGI_APPLICATION = "unionportal.wsgi.application"
AUTH_USER_MODEL = "organizations.User"

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
                "csp.context_processors.nonce",
                "organizations.context_processors.staff_context",
                "activity.inbox.inbox_context",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
# Embedded default: a SQLite file under var/. Production and CI: PostgreSQL via DATABASE_URL.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'unionportal.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
# A connection kept between requests is checked before use, so a database restart
# costs one failed check rather than a wave of 500s.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web server and the worker read while the other writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
    )
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

# Read replicas (PostgreSQL streaming standbys): heavy reads marked with
# core.replicas.heavy_reads go to a healthy one; everything else to the primary.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS")
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 30)
REPLICA_HEALTH_SECONDS = env_int("REPLICA_HEALTH_SECONDS", 5)
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 15)
DATABASE_ROUTERS = []
for _n, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _replica = dj_database_url.parse(_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    _replica["CONN_HEALTH_CHECKS"] = True
    _replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    # Tests use one database: a replica alias mirrors the primary's test database.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_n}"] = _replica
if DATABASE_REPLICA_URLS:
    DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"]
    # Read-your-writes: a browser that just wrote reads from the primary for a while.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
        "core.replicas.ReadYourWritesMiddleware",
    )
# Behind PgBouncer in transaction mode a server-side cursor (QuerySet.iterator()) would
# outlive the transaction that holds its server connection: fetch client-side instead.
DATABASE_POOLER = env_str("DATABASE_POOLER")
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise ImproperlyConfigured(f"DATABASE_POOLER must be empty or 'pgbouncer', got {DATABASE_POOLER!r}")
if DATABASE_POOLER == "pgbouncer":
    for _alias in DATABASES:
        DATABASES[_alias]["DISABLE_SERVER_SIDE_CURSORS"] = True

# --- cache, Redis, Celery -------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# Redis through Sentinel: "host:port,host:port,..." of the sentinels and the name they
# monitor; REDIS_URL then names only the database (redis:///0), its host is ignored.
REDIS_SENTINELS = [
    (host, int(port)) for host, _, port in (item.rpartition(":") for item in env_list("REDIS_SENTINELS"))
]
REDIS_SENTINEL_MASTER = env_str("REDIS_SENTINEL_MASTER", "unionportal")
if REDIS_SENTINELS and not REDIS_URL:
    REDIS_URL = "redis:///0"
if REDIS_URL:
    # Degrades to "nothing cached" while Redis is down: pages must not depend on it.
    CACHES = {
        "default": {
            "BACKEND": "unionportal.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            # The broker shares this Redis database: the prefix lets cache.clear() spare its keys.
            "KEY_PREFIX": "unionportal-cache",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    if REDIS_SENTINELS:
        CACHES["default"]["OPTIONS"].update(
            pool_class="unionportal.cache.SentinelPool",
            sentinels=REDIS_SENTINELS,
            service_name=REDIS_SENTINEL_MASTER,
        )
        _db = REDIS_URL.rpartition("/")[2] or "0"
        CELERY_BROKER_URL = ";".join(f"sentinel://{host}:{port}/{_db}" for host, port in REDIS_SENTINELS)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A message taken by a worker that then died is handed out again after this many seconds.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        # Publishing gives up within a second when Redis is down (core.outbox.enqueue
        # then keeps the task in the outbox) instead of holding the request for seconds.
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
    if REDIS_SENTINELS:
        CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = REDIS_SENTINEL_MASTER
        CELERY_BROKER_TRANSPORT_OPTIONS["sentinel_kwargs"] = {"socket_timeout": 1, "socket_connect_timeout": 1}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Embedded default: kombu's filesystem transport. A real worker (with embedded beat)
    # exchanges messages with the web process through files under var/celery/, so
    # reminders and background jobs run without any broker server.
    CELERY_BROKER_URL = "filesystem://"
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Shanghai"
# Queues per workload, so a month-end report run or a big import never delays a reminder.
# A worker started without -Q consumes every queue (the embedded default, the tests);
# production runs one worker per queue (deploy/, README "Production").
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name) for name in ("default", "imports", "reports", "reminders")]
CELERY_TASK_ROUTES = [
    {
        "members.tasks.run_member_import": {"queue": "imports"},
        "assistance.tasks.run_campaign": {"queue": "imports"},
        # The sign of life of beat and the workers: never behind a long report run.
        "reports.tasks.heartbeat": {"queue": "default"},
        # Not behind the reports queue it repairs: a stuck report worker must not stop it.
        "reports.tasks.report_runs_sweep": {"queue": "default"},
        # The same for roster imports and aid campaigns: not behind the imports queue they repair.
        "members.tasks.import_jobs_sweep": {"queue": "default"},
        "assistance.tasks.campaigns_sweep": {"queue": "default"},
        # Figures follow changes within minutes: not behind a long report run either.
        "reports.tasks.follow_statistics": {"queue": "default"},
    },
    [
        ("reports.*", {"queue": "reports"}),
        ("organizations.tasks.refresh_coverage_summaries", {"queue": "reports"}),
        ("activity.tasks.reminders_*", {"queue": "reminders"}),
        ("activity.tasks.deliver*", {"queue": "reminders"}),
    ],
]
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- auth and security ----------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Django's rules, with messages in Chinese that say how to fix the password.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "unionportal.passwords.UserAttributeSimilarityValidator"},
    {"NAME": "unionportal.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "unionportal.passwords.CommonPasswordValidator"},
    {"NAME": "unionportal.passwords.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Workers sign in with their mobile number (found through its blind index).
    "members.auth.MobileBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
# Lock a username per client address: a typo-prone clerk behind an office NAT does not lock
# out colleagues, and an attacker cannot lock every account from one place.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# "+86 139…", "0086…", full-width digits and "Owner" count against the same name as
# "139…" and "owner": one counter per person, not one per spelling (core.login_names).
AXES_USERNAME_CALLABLE = "core.login_names.lockout_username"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# A page in Chinese saying why and for how long (the API gets its error shape).
AXES_LOCKOUT_CALLABLE = "organizations.lockout.locked_out"

# Optional TOTP second factor for staff (organizations/otp.py). With this on, a full ID
# number or phone is shown only to a session (or API token) verified with a code.
REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA = env_bool("REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA", not DEBUG)
OTP_TOTP_ISSUER = "UnionPortal"

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # NONCE (not the string "'nonce'") is what django-csp replaces with the request's nonce.
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Field encryption for personal data (ID numbers, phones…). Comma-separated Fernet keys,
# newest first: the first encrypts, all decrypt (rotation). Never derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
BLIND_INDEX_KEY = env_str("BLIND_INDEX_KEY")
if not FIELD_ENCRYPTION_KEYS or not BLIND_INDEX_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY must be set when DEBUG is off.")
    # Development-only keys, so the demo runs with no set-up. Production must set its own.
    FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or ["ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZDA="]
    BLIND_INDEX_KEY = BLIND_INDEX_KEY or "dev-only-blind-index-key"

# Member roster imports: rows per file (a larger file is refused with a message saying so).
MEMBER_IMPORT_MAX_ROWS = env_int("MEMBER_IMPORT_MAX_ROWS", 1_000_000)
# Files of MEMBER_IMPORT_POOL_MIN_ROWS rows or more are checked in MEMBER_IMPORT_WORKERS
# forked processes while the importing process plans and writes (-1: one per CPU, at most
# 4; 0: always in-process).
MEMBER_IMPORT_WORKERS = env_int("MEMBER_IMPORT_WORKERS", -1)
MEMBER_IMPORT_POOL_MIN_ROWS = env_int("MEMBER_IMPORT_POOL_MIN_ROWS", 20_000)

# Rejected join applications are deleted this many days after the decision (PIPL art. 19:
# personal information is kept no longer than necessary for the purpose). Run daily by
# the "members-purge-rejected-applications" beat entry.
JOIN_APPLICATION_RETENTION_DAYS = env_int("JOIN_APPLICATION_RETENTION_DAYS", 180)

# A returning member's application keeps the mobile and password its applicant typed
# until a clerk checks them in person; unchecked after this many days, they are dropped
# (the nightly purge), so a claim on an account does not wait for ever.
JOIN_IDENTITY_CHECK_DAYS = env_int("JOIN_IDENTITY_CHECK_DAYS", 30)

# Text messages (core/sms.py): the class that sends them. The default only logs them
# (demo, development); production names a gateway class with the same `send` method.
SMS_BACKEND = env_str("SMS_BACKEND", "core.sms.LoggingBackend")

# Notifications and reminders (activity): email goes through Django's email backend
# (the console in the demo; production sets EMAIL_BACKEND and its EMAIL_HOST…), links in
# emails and texts start with PORTAL_BASE_URL. A delivery that fails is retried with
# backoff (NOTIFY_RETRY_BASE_SECONDS, doubling) at most NOTIFY_MAX_ATTEMPTS times; a
# claimed delivery is held for NOTIFY_LEASE_SECONDS, after which a later sweep may take it.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@unionportal.invalid")
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 5)
NOTIFY_RETRY_BASE_SECONDS = env_int("NOTIFY_RETRY_BASE_SECONDS", 60)
NOTIFY_LEASE_SECONDS = env_int("NOTIFY_LEASE_SECONDS", 300)

# Report runs (reports/runs.py): a run still unclaimed this long after its build task was
# sent, or whose worker died (lease expired), is sent again by a beat sweep, at most once
# per this many minutes. Longer than the month-end queue takes to drain, so a queued run
# is rarely sent twice (a second copy would be skipped anyway).
REPORT_REDISPATCH_MINUTES = env_int("REPORT_REDISPATCH_MINUTES", 30)
# The same for roster imports (members/importer/jobs.py) and aid campaigns
# (assistance/services/campaigns.py): the imports queue's bound.
JOB_REDISPATCH_MINUTES = env_int("JOB_REDISPATCH_MINUTES", 30)

# Join applications, whatever the door (page or API): at most this many per client
# address per window (members/throttle.py). A canteen's Wi-Fi may carry a few workers
# applying together; a script may not fill the queue.
JOIN_RATE_LIMIT = env_int("JOIN_RATE_LIMIT", 10)
JOIN_RATE_WINDOW_SECONDS = env_int("JOIN_RATE_WINDOW_SECONDS", 15 * 60)

# Self-service password reset by SMS code (members/services/password_reset.py): a code
# lives 10 minutes and survives 5 wrong guesses; per hour, at most 3 codes to one number
# (each is a text message someone pays for and the owner receives) and 10 requests and
# 30 code entries from one address.
PASSWORD_RESET_CODE_SECONDS = env_int("PASSWORD_RESET_CODE_SECONDS", 10 * 60)
PASSWORD_RESET_MAX_ATTEMPTS = env_int("PASSWORD_RESET_MAX_ATTEMPTS", 5)
PASSWORD_RESET_WINDOW_SECONDS = env_int("PASSWORD_RESET_WINDOW_SECONDS", 60 * 60)
PASSWORD_RESET_PER_NUMBER = env_int("PASSWORD_RESET_PER_NUMBER", 3)
PASSWORD_RESET_PER_ADDRESS = env_int("PASSWORD_RESET_PER_ADDRESS", 10)
PASSWORD_RESET_CONFIRMS_PER_ADDRESS = env_int("PASSWORD_RESET_CONFIRMS_PER_ADDRESS", 30)

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploaded files are private: served only through permission-checked views, never by URL.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Attachments (documents and photos of aid files, dispute evidence…) live here, outside
# MEDIA_ROOT and with no URL at all: only the permission-checked, audited download views
# read them (core/attachments/). Back this folder up with the database.
PRIVATE_FILES_ROOT = Path(env_str("PRIVATE_FILES_ROOT", str(VAR_DIR / "private")))
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
# Dotted path of a callable scan(path) -> "clean" | "infected" | "unavailable" (e.g. a
# ClamAV client). The default scans nothing and marks files "not_scanned".
ATTACHMENT_SCANNER = env_str("ATTACHMENT_SCANNER", "core.attachments.scanning.scan_not_configured")
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Request bodies are refused by their declared length before a byte is read
# (core.uploads.UploadLimitMiddleware); DATA_UPLOAD_MAX_MEMORY_SIZE above bounds only the
# non-file fields. Routes that take files get their own limit; keep nginx's
# client_max_body_size in step (README, Production).
REQUEST_BODY_MAX_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE + 2 * 1024 * 1024
ROSTER_UPLOAD_MAX_MB = env_int("ROSTER_UPLOAD_MAX_MB", 50)
UPLOAD_LIMITS = {
    "/members/imports/": ROSTER_UPLOAD_MAX_MB * 1024 * 1024,
    "/api/v1/member-imports/": ROSTER_UPLOAD_MAX_MB * 1024 * 1024,
}
# An xlsx is a zip: its directory is checked before it is opened (core.uploads.check_xlsx).
# A roster's sheet XML inflates ~14x (200k rows: 7.7 MB -> 109 MB, so 600 MB is about the
# 1M-row cap); a zip bomb inflates ~1000x.
XLSX_MAX_UNCOMPRESSED_MB = env_int("XLSX_MAX_UNCOMPRESSED_MB", 600)
XLSX_MAX_COMPRESSION_RATIO = env_int("XLSX_MAX_COMPRESSION_RATIO", 100)
XLSX_MAX_MEMBERS = env_int("XLSX_MAX_MEMBERS", 1000)

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "organizations.authentication.TokenWithRolesAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api_defaults.IsStaffUser"],
    "DEFAULT_FILTER_BACKENDS": ["core.api_defaults.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api_defaults.DefaultCursorPagination",
    # DRF's JSON and browsable renderers; the JSON encoded by orjson, the same bytes.
    "DEFAULT_RENDERER_CLASSES": ["core.api_defaults.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api_defaults.ContentNegotiation",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": "20/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "UnionPortal API",
    "DESCRIPTION": "市总工会门户 API：组织树、会员、困难帮扶、劳动争议调解与服务项目。所有数据按用户的管辖范围过滤。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # 401, 415 and the cursor 404 documented once for every operation they can happen on.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.document_common_errors",
    ],
    # Several models have a `kind`/`status`; name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "OrganizationKindEnum": "organizations.models.OrgKind",
        "OrganizationStatusEnum": "organizations.models.Organization.Status",
        "ServiceStationKindEnum": "organizations.models.ServiceStation.Kind",
        "HonourKindEnum": "members.models.Honour.Kind",
        "MembershipStatusEnum": "members.models.Membership.Status",
        "JoinApplicationStatusEnum": "members.models.JoinApplication.Status",
        "TransferStatusEnum": "members.models.Transfer.Status",
        "ImportJobStatusEnum": "members.models.ImportJob.Status",
        "RoleEnum": "organizations.models.Role",
        "DisputeKindEnum": "disputes.models.DisputeKind",
        "DisputeCaseStatusEnum": "disputes.models.Case.Status",
        "DisputePartyRoleEnum": "disputes.models.CaseParty.Role",
        "AidKindEnum": "assistance.models.AidKind",
        "AidFileStatusEnum": "assistance.models.FileStatus",
        "AidGrantStatusEnum": "assistance.models.GrantStatus",
        "AidCampaignKindEnum": "assistance.models.Campaign.Kind",
        "AidCampaignStatusEnum": "assistance.models.Campaign.Status",
        "ReportRunKindEnum": "reports.models.ReportRun.Kind",
        "ReportRunStatusEnum": "reports.models.ReportRun.Status",
    },
}

# --- logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Audit events are kept at least six months (Cybersecurity Law art. 21).
AUDIT_RETENTION_DAYS = max(env_int("AUDIT_RETENTION_DAYS", 365), 183)
