"""Settings shared by every way of running the console.

Every value that differs between deployments is read from the environment through
django-environ (``DJANGO_*``, ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``REDIS_URL``); the
names are listed in the README and in ``.env.example``.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Where the embedded mode keeps its SQLite file, job queue and collected static files.
VAR_DIR = Path(env("MARTECH_VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-embedded-key-change-me-0123456789abcdef")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "martech.common",
    "apps.accounts",
    "apps.access",
    "apps.audit",
    "apps.tools",
    "apps.intake",
    "apps.identity",
    "apps.consent",
    "apps.schemas",
    "apps.destinations",
    "apps.events",
    "apps.syncs",
    "apps.erasure",
    "apps.provisioning",
]

MIDDLEWARE = [
    # First: probes answer before host checks and redirects, for any Host header.
    "martech.common.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "martech.common.middleware.RequestContextMiddleware",
    # The collection API answers here: what follows is for the console's pages.
    "apps.events.middleware.CollectionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Which second factor, if any, this session's sign-in was confirmed with.
    "django_otp.middleware.OTPMiddleware",
    # A session that owes its second factor reaches only the pages that take it.
    "apps.accounts.middleware.MfaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "martech.common.middleware.RequestActorMiddleware",
    "martech.common.middleware.ApplicationErrorMiddleware",
    # Last, so that it sees the outcome of every authentication attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "martech.urls"
WSGI_APPLICATION = "martech.wsgi.application"

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
                "csp.context_processors.nonce",
                "martech.common.context_processors.shell",
                "apps.accounts.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'martech.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process, the worker and beat share one file; IMMEDIATE makes a
    # writing transaction take its lock up front instead of failing halfway.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out accounts and IPs before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "apps.accounts.backends.CapabilityBackend",
    # Single sign-on: it answers only the console's OpenID Connect callback (apps/accounts/sso.py).
    "apps.accounts.sso.SsoBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=VAR_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# collectstatic (the image build, ``make run``) writes each file also under a name carrying
# a hash of its content, compressed; pages link those names, and whitenoise serves them to be
# cached for a year, as immutable (unhashed names, for a minute).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
STATIC_IMMUTABLE_MAX_AGE = 365 * 24 * 60 * 60


def _static_cache_headers(headers, path, url):
    """Cache a content-hashed file for a year (whitenoise would say ten)."""
    if "immutable" in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = f"max-age={STATIC_IMMUTABLE_MAX_AGE}, public, immutable"


WHITENOISE_ADD_HEADERS_FUNCTION = _static_cache_headers

# django-filter: an unselected choice in a filter form reads "Any".
FILTERS_EMPTY_CHOICE_LABEL = "Any"

CACHES = {"default": env.cache_url("DJANGO_CACHE_URL", default="locmemcache://martech")}

# Sessions: HttpOnly cookies that expire after an idle period; every request renews them.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "martech.common.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content Security Policy: only this origin's scripts and styles, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# Login throttling (django-axes, see apps/accounts/lockout.py), on the login page and the
# token endpoint alike. An account-and-address pair locks after AXES_FAILURE_LIMIT failures
# for LOGIN_COOLOFF_HOURS, doubled by each further failure up to LOGIN_COOLOFF_MAX_HOURS;
# an address alone locks only at LOGIN_ADDRESS_FAILURE_LIMIT failures across accounts. An
# account is never locked for everyone: its owner still signs in from another address.
AXES_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=5)
LOGIN_COOLOFF_HOURS = env.float("DJANGO_LOGIN_COOLOFF_HOURS", default=0.25)
LOGIN_COOLOFF_MAX_HOURS = env.float("DJANGO_LOGIN_COOLOFF_MAX_HOURS", default=24)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("DJANGO_LOGIN_ADDRESS_FAILURE_LIMIT", default=50)
LOGIN_FAILURE_MEMORY_HOURS = env.float("DJANGO_LOGIN_FAILURE_MEMORY_HOURS", default=24)
AXES_COOLOFF_TIME = "apps.accounts.lockout.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "apps.accounts.lockout.attempted_username"
AXES_CLIENT_IP_CALLABLE = "martech.common.middleware.client_ip"
# The right password from an address clears that pair's failures, not the address's others.
AXES_RESET_ON_SUCCESS = True
# Attempts made while locked are refused unchecked and do not lengthen the lock.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "apps.accounts.lockout.lockout_response"
AXES_IPWARE_PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)
AXES_HANDLER = "apps.accounts.lockout.LockoutHandler"
AXES_VERBOSE = False
# A wrong second-factor code is a failed sign-in to axes; what was typed is never kept.
AXES_SENSITIVE_PARAMETERS = ["code"]

# Multi-factor authentication (README: "Multi-factor authentication"). Superusers and access
# administrators must have a second factor when MARTECH_MFA_REQUIRED is on; anyone else may.
MARTECH_MFA_REQUIRED = env.bool("MARTECH_MFA_REQUIRED", default=True)
OTP_TOTP_ISSUER = env("MARTECH_MFA_ISSUER", default="MarTech Console")
# Wrong codes are throttled by axes with the passwords (per account and address, growing),
# not per device by django-otp: a device-wide delay would let anyone who has the password
# lock its owner out from everywhere.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# Single sign-on with OpenID Connect (apps/accounts/sso.py, mozilla-django-oidc): off until an
# issuer, a client id and a client secret are set. The provider's endpoints come from its
# discovery document, fetched through the egress policy; the ID token's signature is checked
# against its JWKS, with state, nonce and PKCE (S256) on every sign-in.
OIDC_ISSUER = env("MARTECH_OIDC_ISSUER", default="")
OIDC_PROVIDER_NAME = env("MARTECH_OIDC_PROVIDER_NAME", default="single sign-on")
OIDC_RP_CLIENT_ID = env("MARTECH_OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("MARTECH_OIDC_CLIENT_SECRET", default="")
OIDC_RP_SCOPES = env("MARTECH_OIDC_SCOPES", default="openid email profile")
OIDC_RP_SIGN_ALGO = env("MARTECH_OIDC_SIGN_ALGORITHM", default="RS256")
# The claim saying the email is the person's (Entra ID: the optional claim xms_edov).
OIDC_EMAIL_VERIFIED_CLAIM = env("MARTECH_OIDC_EMAIL_VERIFIED_CLAIM", default="email_verified")
OIDC_GROUPS_CLAIM = env("MARTECH_OIDC_GROUPS_CLAIM", default="groups")
# Authoritative: a verified email nobody uses yet becomes a new person at sign-in.
OIDC_CREATE_USER = env.bool("MARTECH_OIDC_CREATE_USERS", default=False)
# "group=Team,other group=Other team": the first listed group a new person is in names the team.
OIDC_GROUP_TEAMS = env.dict("MARTECH_OIDC_GROUP_TEAMS", default={})
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_TOKEN_USE_BASIC_AUTH = True
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:sso_callback"
OIDC_TIMEOUT = 10
# SSO required: password sign-in (the page and the token endpoint) only for these break-glass
# accounts; API tokens keep working for everyone.
SSO_REQUIRED = env.bool("MARTECH_SSO_REQUIRED", default=False)
SSO_BREAK_GLASS = env.list("MARTECH_SSO_BREAK_GLASS", default=[])

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "martech.common.permissions.BodyParsed",  # a malformed body is 400 before any action
    ],
    "DEFAULT_PAGINATION_CLASS": "martech.common.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "martech.common.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["martech.common.parsers.BoundedJSONParser"],
    "DEFAULT_THROTTLE_RATES": {"token_obtain": "20/min"},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Throttles key on the client address behind this many trusted proxies.
    "NUM_PROXIES": env.int("DJANGO_PROXY_COUNT", default=0) or None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "MarTech Console API",
    "DESCRIPTION": (
        "The REST API of MarTech Console. Authenticate with a personal API token "
        "(`Authorization: Bearer <token>`) or a browser session. Every 4xx answer has the "
        'shape `{"code": "...", "message": "...", "details": {...}}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Deep links put a link inside each operation's toggle button, a control nested in a
    # control that screen readers and keyboards cannot reach as such (axe nested-interactive).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "martech.common.api.document_error_responses",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ToolStatusEnum": "apps.tools.choices.ToolStatus",
        "ToolCapabilityEnum": "apps.tools.choices.ToolCapability",
        "IntakeStageEnum": "apps.intake.choices.Stage",
        "IntakeOutcomeEnum": "apps.intake.choices.Outcome",
        "AccessRequestStatusEnum": "apps.access.models.AccessRequestStatus",
        "SchemaVersionStatusEnum": "apps.schemas.choices.VersionStatus",
        "SchemaChangeKindEnum": "apps.schemas.choices.ChangeKind",
        "ViolationKindEnum": "apps.schemas.choices.ViolationKind",
        "EnforcementModeEnum": "apps.schemas.choices.Enforcement",
        "DataCategoryEnum": "apps.schemas.choices.DataCategory",
        "SourceKindEnum": "apps.events.choices.SourceKind",
        "SourceEnvironmentEnum": "apps.events.choices.Environment",
        "SyncModeEnum": "apps.syncs.models.SyncMode",
        "ErasureJurisdictionEnum": "apps.erasure.models.Jurisdiction",
        "ConsentJurisdictionEnum": "apps.consent.choices.Jurisdiction",
        "SyncRunStatusEnum": "apps.syncs.models.RunStatus",
    },
}

# Celery: configured so that work is not lost. A message is acknowledged only after its
# task finished, a task whose worker died is put back, and a worker holds one message
# at a time. The visibility timeout is longer than the longest task may run.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in ("default", "events", "deliveries", "syncs", "erasure")
]
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
# Periodic work. django-celery-beat copies these entries into its tables at start-up,
# where admins can see and pause them.
CELERY_BEAT_SCHEDULE = {
    "accounts-purge-expired-api-tokens": {
        "task": "accounts.api_tokens_purge_expired",
        "schedule": crontab(hour=3, minute=15),
    },
    "accounts-access-recompute-daily": {
        "task": "accounts.access_recompute_all",
        "schedule": crontab(hour=0, minute=5),
    },
    "accounts-access-housekeeping": {
        "task": "accounts.access_housekeeping",
        "schedule": crontab(minute=17),
    },
    "tools-renewal-notices": {
        "task": "tools.renewal_notices",
        "schedule": crontab(hour=8, minute=0),
    },
    "intake-revisit-reminders": {
        "task": "intake.revisit_reminders",
        "schedule": crontab(hour=8, minute=10),
    },
    "accounts-clear-expired-sessions": {
        "task": "accounts.sessions_clear_expired",
        "schedule": crontab(hour=3, minute=30),
    },
    "events-purge-payloads": {
        "task": "events.purge_payloads",
        "schedule": crontab(hour=2, minute=40),
    },
    "destinations-dispatch": {
        "task": "destinations.dispatch",
        "schedule": 15.0,
    },
    "destinations-load-warehouses": {
        "task": "destinations.load_warehouses",
        "schedule": crontab(minute="*"),
    },
    "events-sweep": {
        "task": "events.sweep",
        "schedule": crontab(minute="*"),
    },
    "erasure-dispatch": {
        "task": "erasure.dispatch",
        "schedule": crontab(minute="*"),
    },
    "erasure-reminders": {
        "task": "erasure.reminders",
        "schedule": crontab(hour=8, minute=20),
    },
    "erasure-purge": {
        "task": "erasure.purge",
        "schedule": crontab(hour=3, minute=50),
    },
    "syncs-sweep": {
        "task": "syncs.sweep",
        "schedule": crontab(minute="*"),
    },
}

EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="martech-console@localhost")

API_TOKEN_DEFAULT_DAYS = env.int("MARTECH_API_TOKEN_DEFAULT_DAYS", default=90)
API_TOKEN_MAX_DAYS = env.int("MARTECH_API_TOKEN_MAX_DAYS", default=365)
API_TOKEN_PURGE_AFTER_DAYS = env.int("MARTECH_API_TOKEN_PURGE_AFTER_DAYS", default=30)

# Identity graph: the region phone numbers without a country code belong to, values that
# never link anything besides the built-in placeholders, and how many identifiers of each
# type one profile may hold (a user id is always at most one).
IDENTITY_DEFAULT_REGION = env("MARTECH_IDENTITY_DEFAULT_REGION", default="US")
IDENTITY_BLOCKLIST = env.list(
    "MARTECH_IDENTITY_BLOCKLIST", default=["test@example.com", "noreply@example.com"]
)
IDENTITY_MAX_PER_TYPE = env.int("MARTECH_IDENTITY_MAX_PER_TYPE", default=25)
# Consent: the regime assumed for a subject nobody recorded a jurisdiction for.
CONSENT_DEFAULT_JURISDICTION = env("MARTECH_CONSENT_DEFAULT_JURISDICTION", default="gdpr")
# Sources: how long a rotated write key keeps working beside its replacement, by default.
WRITE_KEY_OVERLAP_HOURS = env.int("MARTECH_WRITE_KEY_OVERLAP_HOURS", default=24)
# Events: days a processed event keeps its raw payload; the processed facts stay.
EVENT_RETENTION_DAYS = env.int("MARTECH_EVENT_RETENTION_DAYS", default=30)
# Egress policy (martech/common/egress.py): host names and CIDRs an outbound request (vendor,
# webhook, warehouse) may reach although they are loopback, private or link-local; empty
# allows only public addresses.
MARTECH_EGRESS_ALLOW = env.list("MARTECH_EGRESS_ALLOW", default=[])
# DuckDB warehouses: directories whose files a warehouse may name by absolute path (a relative
# path always lives under MARTECH_VAR_DIR/warehouses/); empty allows none.
MARTECH_DUCKDB_DIRECTORIES = env.list("MARTECH_DUCKDB_DIRECTORIES", default=[])
# The memory one DuckDB connection may use before it spills to disk (beside the file).
MARTECH_DUCKDB_MEMORY_LIMIT = env("MARTECH_DUCKDB_MEMORY_LIMIT", default="64MB")
# Snowflake: where every connection goes instead of https://<account>.snowflakecomputing.com
# (a proxy of the operator's, or a test server); its host passes the egress policy too.
MARTECH_SNOWFLAKE_URL = env("MARTECH_SNOWFLAKE_URL", default="")
# Databricks: a PEM file of certificate authorities trusted besides the system's (a workspace
# behind a TLS-inspecting proxy); empty trusts the system's only.
MARTECH_DATABRICKS_CA_FILE = env("MARTECH_DATABRICKS_CA_FILE", default="")
# Reverse ETL on the console's own database (PostgreSQL) logs in as this role, which reads
# only the views of schema ``activation``; MARTECH_ACTIVATION_DATABASE_URL may name all of
# it (host, port and database default to the console's own).
MARTECH_ACTIVATION_USER = env("MARTECH_ACTIVATION_USER", default="martech_activation")
MARTECH_ACTIVATION_PASSWORD = env("MARTECH_ACTIVATION_PASSWORD", default="")
MARTECH_ACTIVATION_DATABASE_URL = env("MARTECH_ACTIVATION_DATABASE_URL", default="")
# BigQuery: where the API is reached instead of https://bigquery.googleapis.com (a private
# endpoint of the operator's, or a test server), and the token URLs a service-account key may
# name besides Google's own; both pass the egress policy too.
MARTECH_BIGQUERY_API_ENDPOINT = env("MARTECH_BIGQUERY_API_ENDPOINT", default="")
MARTECH_BIGQUERY_TOKEN_URIS = env.list("MARTECH_BIGQUERY_TOKEN_URIS", default=[])
# Destinations: Fernet keys for credentials (newest first; empty: derived from SECRET_KEY),
# how long temporary failures are retried before a delivery is dead-lettered, and the
# vendor request timeout in seconds.
CREDENTIAL_KEYS = env.list("MARTECH_CREDENTIAL_KEYS", default=[])
DELIVERY_RETRY_HOURS = env.float("MARTECH_DELIVERY_RETRY_HOURS", default=4.0)
DELIVERY_TIMEOUT_SECONDS = env.float("MARTECH_DELIVERY_TIMEOUT_SECONDS", default=10.0)
# Reverse ETL: runs touching more rows than this in a production destination need approval
# by someone with syncs.run_production (a sync may set its own), and a run whose worker has
# been silent this many seconds is picked up again by the sweeper.
SYNC_ROW_THRESHOLD = env.int("MARTECH_SYNC_ROW_THRESHOLD", default=10_000)
SYNC_STALE_SECONDS = env.int("MARTECH_SYNC_STALE_SECONDS", default=300)
# Erasure: how long a vendor's temporary failures are retried before the task fails, and how
# often a vendor that erases later is asked whether it has.
ERASURE_RETRY_DAYS = env.float("MARTECH_ERASURE_RETRY_DAYS", default=7.0)
ERASURE_POLL_SECONDS = env.int("MARTECH_ERASURE_POLL_SECONDS", default=3600)
# Erasure: the keys of the suppression list's keyed hashes (HMAC-SHA256), newest first, each
# at least 32 characters. Kept apart from the database; every key stays listed, since a
# rotation wraps the stored hashes once more (``manage.py rotate_suppression_key``). The
# embedded mode makes one under var/, production refuses to start without them.
SUPPRESSION_KEYS = env.list("MARTECH_SUPPRESSION_KEYS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "martech.common.logging.RedactSecretsFilter"},
        "request_context": {"()": "martech.common.logging.RequestContextFilter"},
        "client_refusal": {"()": "martech.common.logging.ClientRefusal"},
    },
    "formatters": {
        "console": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "console",
            "filters": ["request_context", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Vendor request lines can carry credentials in the query (Meta's access_token):
        # the HTTP client never logs them; delivery outcomes are recorded on deliveries.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # A body over DATA_UPLOAD_MAX_MEMORY_SIZE is answered 400 payload_too_large.
        "django.security.RequestDataTooBig": {"filters": ["client_refusal"]},
    },
}

# Shown in the page header so nobody mistakes a sandbox for production.
CONSOLE_ENVIRONMENT_LABEL = env("MARTECH_ENVIRONMENT_LABEL", default="")

# The console's own address, for links in emails.
CONSOLE_BASE_URL = env("MARTECH_BASE_URL", default="http://127.0.0.1:8000")
