"""Django settings for Zhengyun, read from the environment (twelve-factor).

With nothing set, Zhengyun runs embedded: SQLite and Huey's SQLite queue under
``./var/`` (or ``ZHENGYUN_DATA_DIR``) and a secret key generated once and kept
there (R-G2, design rule 6). ``DATABASE_URL`` and ``REDIS_URL`` move the same code
onto PostgreSQL and a Redis queue. ``ZHENGYUN_PROFILE=production`` turns on the
hardening that ``check --deploy`` asks for.
"""

import contextlib
import hashlib
import ipaddress
import os
import secrets
import sqlite3
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from zhengyun.logging_config import logging_settings

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("ZHENGYUN_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

PROFILE = os.environ.get("ZHENGYUN_PROFILE", "development")
PRODUCTION = PROFILE == "production"


def _generated_once(name, make):
    """The content of ``name`` in the data dir, written by ``make()`` the first time."""
    path = DATA_DIR / name
    if not path.exists():
        # Write a private temporary file, then link it into place: the link either publishes
        # a complete key or fails because another process published one first.
        fd, temporary = tempfile.mkstemp(dir=DATA_DIR, prefix=f".{name}.")
        with os.fdopen(fd, "w") as f:
            f.write(make())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
        os.unlink(temporary)
    return path.read_text().strip()


def _secret_key():
    """Take the key from the environment, else keep one generated key in the data dir."""
    if key := os.environ.get("ZHENGYUN_SECRET_KEY"):
        return key
    return _generated_once("secret_key", lambda: secrets.token_urlsafe(64))


def _oidc_signing_key():
    """The RSA key that signs ID tokens (RS256, what every OIDC client library verifies)."""
    if path := os.environ.get("ZHENGYUN_OIDC_KEY_FILE"):
        return Path(path).read_text()

    def make():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    return _generated_once("oidc_signing_key.pem", make)


def _list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("ZHENGYUN_DEBUG", "0") == "1" and not PRODUCTION
ALLOWED_HOSTS = _list("ZHENGYUN_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = _list("ZHENGYUN_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "huey.contrib.djhuey",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "zhengyun.core",
    "zhengyun.crypto",
    "zhengyun.organizations",
    "zhengyun.accounts",
    "zhengyun.audit",
    "zhengyun.infrastructure",
    "zhengyun.data_resources",
    "zhengyun.gateway",
    "zhengyun.jobs",
    "zhengyun.notifications",
    "zhengyun.console",
    "zhengyun.demo",
    # After the platform's apps, so the console's consent page replaces the toolkit's.
    "oauth2_provider",
]

MIDDLEWARE = [
    "zhengyun.core.middleware.RequestIdMiddleware",
    "zhengyun.core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "zhengyun.accounts.middleware.ActiveScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "zhengyun.accounts.sessions.IdleTimeoutMiddleware",
    "zhengyun.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "zhengyun.urls"
WSGI_APPLICATION = "zhengyun.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zhengyun.console.context_processors.console",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'zhengyun.sqlite3'}"),
        conn_max_age=int(os.environ.get("ZHENGYUN_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if sqlite3.sqlite_version_info < (3, 35):  # placement's claim reads back with RETURNING
        raise ImproperlyConfigured(
            f"Zhengyun needs SQLite 3.35 or later; Python here has {sqlite3.sqlite_version}."
        )
    # WAL lets the web server read while the worker writes; IMMEDIATE avoids
    # "database is locked" upgrades inside write transactions.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
    # Connections are kept between requests on SQLite too: opening one reads the whole schema
    # and runs the pragmas, which cost more than a token request's own work.
    # Tests use a file too: an in-memory database shares one lock across threads and would
    # not behave like the real one under concurrent writers.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "zhengyun.accounts.hashers.MachineSecretHasher",  # OIDC client secrets only
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "zhengyun.accounts.password_validation.CharacterClassValidator"},
    {
        "NAME": "zhengyun.accounts.password_validation.PasswordHistoryValidator",
        "OPTIONS": {"keep": int(os.environ.get("ZHENGYUN_PASSWORD_HISTORY", "5"))},
    },
]
# Passwords older than this must be changed at the next sign-in (0: never).
ZHENGYUN_PASSWORD_MAX_AGE_DAYS = int(os.environ.get("ZHENGYUN_PASSWORD_MAX_AGE_DAYS", "90"))
# Failed sign-ins (accounts.lockout): an account name is locked after this many failures
# within the window; a source address after more, since a department's staff often share
# one extranet address.
ZHENGYUN_LOCKOUT_FAILURES = int(os.environ.get("ZHENGYUN_LOCKOUT_FAILURES", "5"))
ZHENGYUN_LOCKOUT_ADDRESS_FAILURES = int(os.environ.get("ZHENGYUN_LOCKOUT_ADDRESS_FAILURES", "20"))
ZHENGYUN_LOCKOUT_WINDOW_MINUTES = int(os.environ.get("ZHENGYUN_LOCKOUT_WINDOW_MINUTES", "15"))
ZHENGYUN_LOCKOUT_MINUTES = int(os.environ.get("ZHENGYUN_LOCKOUT_MINUTES", "30"))
# Console sessions one person may hold at once; signing in again ends the oldest.
ZHENGYUN_MAX_SESSIONS = int(os.environ.get("ZHENGYUN_MAX_SESSIONS", "3"))
# Patterns in the audit trail raised as alerts for the audit administrators (audit.alerts):
# at least ``threshold`` matching events with the same ``by`` value within ``minutes``.
ZHENGYUN_AUDIT_ALERTS = [
    {"name": "repeated_denials", "result": "denied", "by": "actor_label", "threshold": 5,
     "minutes": 10},
    {"name": "failed_sign_ins", "action": "accounts.sign_in", "result": "failed",
     "by": "source_ip", "threshold": 10, "minutes": 10},
    {"name": "account_locked", "action": "accounts.lock", "by": "detail", "threshold": 1,
     "minutes": 10},
    {"name": "separation_of_duties", "action": "accounts.separation_of_duties",
     "by": "actor_label", "threshold": 1, "minutes": 10},
]  # fmt: skip
# The OIDC provider for the region's applications (accounts.oidc, django-oauth-toolkit).
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_signing_key(),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OAUTH2_VALIDATOR_CLASS": "zhengyun.accounts.oidc.PlatformClaims",
    "PKCE_REQUIRED": True,
    "SCOPES": {
        "openid": _("Sign you in with your platform account"),
        "profile": _("Your name and user name"),
        "email": _("Your e-mail address"),
        "department": _("Your department, its credit code and region"),
        "roles": _("Your roles on the platform"),
    },
    "DEFAULT_SCOPES": ["openid"],
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "REQUEST_APPROVAL_PROMPT": "auto",  # ask once per application and scopes
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["http", "https"],
    # The OAuth 2.0 Security BCP (RFC 9700): no implicit or password grants, PKCE with S256
    # only, tokens never in URLs, the issuer in authorization responses, tokens hashed, and a
    # replayed refresh token revokes its whole family.
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Client secrets are 128 random characters: a keyed SM3 digest, not argon2, per token.
    "CLIENT_SECRET_HASHER": "zy_sm3_secret",
    **{
        f"COMPLIANT_BCP_RFC9700_{rule}": True
        for rule in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "TOKEN_STORAGE",
            "REFRESH_TOKEN",
        )
    },
}
# django-oauth-toolkit's models are swappable; Django asks for the settings by name.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "oauth2_provider.DeviceGrant"
# The ring of ID-token signing keys (accounts.oidc_keys): the platform rotates the key
# every so many days (0: only by hand), and a replaced key stays published this many hours.
ZHENGYUN_OIDC_KEY_ROTATION_DAYS = int(os.environ.get("ZHENGYUN_OIDC_KEY_ROTATION_DAYS", "90"))
ZHENGYUN_OIDC_KEY_OVERLAP_HOURS = int(os.environ.get("ZHENGYUN_OIDC_KEY_OVERLAP_HOURS", "24"))
if OAUTH2_PROVIDER["ID_TOKEN_EXPIRE_SECONDS"] > ZHENGYUN_OIDC_KEY_OVERLAP_HOURS * 3600:
    raise ImproperlyConfigured(
        "ZHENGYUN_OIDC_KEY_OVERLAP_HOURS must cover an ID token's lifetime (one hour)"
    )
# Applications one department may register as OIDC clients.
ZHENGYUN_OIDC_CLIENTS_PER_DEPARTMENT = int(
    os.environ.get("ZHENGYUN_OIDC_CLIENTS_PER_DEPARTMENT", "20")
)
OTP_TOTP_ISSUER = os.environ.get("ZHENGYUN_OTP_ISSUER", "Zhengyun")
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"  # filled by collectstatic in production
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Cookie names follow the database, so two embedded copies on one host (different ports,
# different data dirs) do not sign each other out, while processes sharing a database agree.
_INSTANCE = hashlib.sha256(
    "|".join(str(DATABASES["default"].get(k, "")) for k in ("NAME", "HOST", "PORT")).encode()
).hexdigest()[:8]
SESSION_COOKIE_NAME = f"zhengyun_session_{_INSTANCE}"
CSRF_COOKIE_NAME = f"zhengyun_csrf_{_INSTANCE}"
# Idle sessions end (accounts.sessions); none outlives a working day or the browser.
ZHENGYUN_IDLE_MINUTES = int(os.environ.get("ZHENGYUN_IDLE_MINUTES", "15"))
SESSION_COOKIE_AGE = 12 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    # The platform sits behind the region's TLS-terminating gateway.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Probes and scrapers on the internal network speak plain HTTP to the process.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("ZHENGYUN_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedManifestStaticFilesStorage"

# Load balancers (R-I3): the simulator by default, its state in the data dir so the web
# process and the worker share it; "haproxy" with haproxy:///state/dir runs real ones.
ZHENGYUN_BALANCER_DRIVER = os.environ.get("ZHENGYUN_BALANCER_DRIVER", "simulator")
ZHENGYUN_BALANCER_URI = os.environ.get(
    "ZHENGYUN_BALANCER_URI", f"sim://{DATA_DIR / 'balancers.sqlite3'}"
)

# The network edge's NAT for floating addresses (R-I2): the simulator by default, its table
# in the data dir; "nftables" with nftables:///state/dir writes and checks a real ruleset.
ZHENGYUN_EDGE_DRIVER = os.environ.get("ZHENGYUN_EDGE_DRIVER", "simulator")
ZHENGYUN_EDGE_URI = os.environ.get("ZHENGYUN_EDGE_URI", f"sim://{DATA_DIR / 'edge.sqlite3'}")

REDIS_URL = os.environ.get("REDIS_URL", "")
HUEY_IMMEDIATE = False
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": os.environ.get("ZHENGYUN_QUEUE_NAME", "zhengyun"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "utc": False,  # nightly jobs at night in TIME_ZONE, which Django makes the process's
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "zhengyun",
        "filename": str(DATA_DIR / "queue.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "utc": False,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "zhengyun.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "zhengyun.accounts.authentication.TokenScopePermission",
    ],
    "DEFAULT_PAGINATION_CLASS": "zhengyun.core.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("ZHENGYUN_THROTTLE_ANON", "60/minute"),
        "user": os.environ.get("ZHENGYUN_THROTTLE_USER", "6000/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "zhengyun.core.api.problems.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "zhengyun.core.api.renderers.ProblemJSONRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Zhengyun API",
    "DESCRIPTION": "The Zhengyun e-government public cloud platform API (政云平台接口).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    # Two fields are called "scope": a role's reach and a token's rights.
    "ENUM_NAME_OVERRIDES": {
        "ScopeKindEnum": "zhengyun.accounts.roles.ScopeKind",
        "TokenScopeEnum": "zhengyun.accounts.models.TokenScope",
        "NetworkReachEnum": "zhengyun.infrastructure.choices.NetworkReach",
        "VolumeStatusEnum": "zhengyun.infrastructure.choices.VolumeStatus",
        "RuleDirectionEnum": "zhengyun.infrastructure.choices.RuleDirection",
        "EtherTypeEnum": "zhengyun.infrastructure.choices.EtherType",
        "RuleProtocolEnum": "zhengyun.infrastructure.choices.RuleProtocol",
        "DatabaseProtocolEnum": "zhengyun.data_resources.models.ResourceDatabase.Protocol",
        "PlanStatusEnum": "zhengyun.infrastructure.choices.PlanStatus",
        "MoveStatusEnum": "zhengyun.infrastructure.choices.MoveStatus",
        "WindowDaysEnum": "zhengyun.infrastructure.choices.WindowDays",
        "BalancerStatusEnum": "zhengyun.infrastructure.choices.BalancerStatus",
        "OperatingStatusEnum": "zhengyun.infrastructure.choices.OperatingStatus",
        "ListenerProtocolEnum": "zhengyun.infrastructure.choices.ListenerProtocol",
        "BalancingAlgorithmEnum": "zhengyun.infrastructure.choices.BalancingAlgorithm",
        "MonitorTypeEnum": "zhengyun.infrastructure.choices.MonitorType",
        "ScheduleDaysEnum": "zhengyun.infrastructure.choices.ScheduleDays",
        "ActivityCauseEnum": "zhengyun.infrastructure.choices.ActivityCause",
        "ActivityResultEnum": "zhengyun.infrastructure.choices.ActivityResult",
    },
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# Django's cache backs DRF throttling; with Redis every web process shares the counts.
CACHES = {
    "default": {
        **(
            {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
            if REDIS_URL
            else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        ),
        "KEY_PREFIX": os.environ.get("ZHENGYUN_CACHE_PREFIX", "zhengyun"),
    }
}

# Idle-instance reclamation (R-G3): an instance whose every hourly CPU average stayed below
# the limit for the whole period is proposed to its department, which answers within the
# given working days; one it keeps is not proposed again for the given (calendar) days.
ZHENGYUN_RECLAIM_CPU_PERCENT = float(os.environ.get("ZHENGYUN_RECLAIM_CPU_PERCENT", "5"))
ZHENGYUN_RECLAIM_IDLE_DAYS = int(os.environ.get("ZHENGYUN_RECLAIM_IDLE_DAYS", "7"))
ZHENGYUN_RECLAIM_ANSWER_DAYS = int(os.environ.get("ZHENGYUN_RECLAIM_ANSWER_DAYS", "10"))
ZHENGYUN_RECLAIM_KEEP_DAYS = int(os.environ.get("ZHENGYUN_RECLAIM_KEEP_DAYS", "30"))
# Working days a provider has to answer a sharing request (R-D2: ten by the State Council's
# interim measures for sharing) and to answer a consumer's doubt about its data.
ZHENGYUN_SHARING_ANSWER_DAYS = int(os.environ.get("ZHENGYUN_SHARING_ANSWER_DAYS", "10"))
ZHENGYUN_OBJECTION_ANSWER_DAYS = int(os.environ.get("ZHENGYUN_OBJECTION_ANSWER_DAYS", "5"))
# The data gateway (R-D3): calls one grant may make a minute and a day, and the largest page.
ZHENGYUN_GATEWAY_CALLS_PER_MINUTE = int(os.environ.get("ZHENGYUN_GATEWAY_CALLS_PER_MINUTE", "600"))
ZHENGYUN_GATEWAY_CALLS_PER_DAY = int(os.environ.get("ZHENGYUN_GATEWAY_CALLS_PER_DAY", "100000"))
ZHENGYUN_GATEWAY_MAX_PAGE_SIZE = int(os.environ.get("ZHENGYUN_GATEWAY_MAX_PAGE_SIZE", "100"))
# Refused calls logged per client address a minute; beyond, they are answered unlogged.
ZHENGYUN_GATEWAY_REFUSALS_PER_MINUTE = int(
    os.environ.get("ZHENGYUN_GATEWAY_REFUSALS_PER_MINUTE", "120")
)
# Subscriptions' webhooks (R-A4): attempts before a delivery is given up (the pause between
# them doubles from a minute to at most six hours), and how long one attempt may take.
ZHENGYUN_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("ZHENGYUN_WEBHOOK_MAX_ATTEMPTS", "8"))
ZHENGYUN_WEBHOOK_TIMEOUT_SECONDS = int(os.environ.get("ZHENGYUN_WEBHOOK_TIMEOUT_SECONDS", "10"))
# Loopback and link-local addresses (this machine, cloud metadata services) are never posted
# to, unless this is set (development and tests, with a receiver on the same machine).
ZHENGYUN_WEBHOOK_ALLOW_LOOPBACK = os.environ.get("ZHENGYUN_WEBHOOK_ALLOW_LOOPBACK", "") == "1"
# Providers' own services a resource's data is read from (R-D3): how long the gateway waits
# for one, and whether one on this machine may be called (development and tests only).
ZHENGYUN_UPSTREAM_TIMEOUT_SECONDS = int(os.environ.get("ZHENGYUN_UPSTREAM_TIMEOUT_SECONDS", "10"))
ZHENGYUN_UPSTREAM_ALLOW_LOOPBACK = os.environ.get("ZHENGYUN_UPSTREAM_ALLOW_LOOPBACK", "") == "1"
# How a provider's database is connected to for copying its table: libpq's sslmode. "require"
# keeps the account's password off the wire in clear; "verify-full" also checks the server.
ZHENGYUN_DEPARTMENT_DB_SSLMODE = os.environ.get("ZHENGYUN_DEPARTMENT_DB_SSLMODE", "require")
if ZHENGYUN_DEPARTMENT_DB_SSLMODE not in (
    "disable",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
):
    raise ImproperlyConfigured(
        "ZHENGYUN_DEPARTMENT_DB_SSLMODE is one of disable, prefer, require, verify-ca, verify-full."
    )
# Networks webhooks and providers' services are never reached in, beyond the loopback,
# link-local and metadata addresses always closed: the platform's own, comma-separated.
try:
    ZHENGYUN_OUTBOUND_CLOSED_NETWORKS = [
        ipaddress.ip_network(text.strip(), strict=False)
        for text in os.environ.get("ZHENGYUN_OUTBOUND_CLOSED_NETWORKS", "").split(",")
        if text.strip()
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"ZHENGYUN_OUTBOUND_CLOSED_NETWORKS: {exc}") from None


# The VLAN IDs networks are given, each held by one network at a time: hosts sharing an
# uplink (libvirt's ``uplink`` parameter) carry each network's traffic tagged with its own.
def _vlan_range(text):
    try:
        low, high = (int(part) for part in text.split("-"))
    except ValueError:
        raise ImproperlyConfigured(
            f"ZHENGYUN_NETWORK_SEGMENTS must be a range of VLAN IDs such as 100-3999, not {text!r}"
        ) from None
    if not 1 <= low <= high <= 4094:  # 0 and 4095 are reserved by 802.1Q
        raise ImproperlyConfigured("ZHENGYUN_NETWORK_SEGMENTS must lie within 1-4094")
    return low, high


ZHENGYUN_NETWORK_SEGMENTS = _vlan_range(os.environ.get("ZHENGYUN_NETWORK_SEGMENTS", "100-3999"))
# A deleted network's number is given to a new network only after this many hours, while
# other numbers are free: long enough for the hourly reconciler to reach a host that was down.
ZHENGYUN_NETWORK_SEGMENT_COOLDOWN_HOURS = int(
    os.environ.get("ZHENGYUN_NETWORK_SEGMENT_COOLDOWN_HOURS", "24")
)

# A host powered on or down through its BMC may take this long: builds waiting for it to
# boot then fail, and one that ignored a shutdown is forced off. A request to its BMC gives
# up after the seconds below.
ZHENGYUN_HOST_POWER_MINUTES = int(os.environ.get("ZHENGYUN_HOST_POWER_MINUTES", "15"))
ZHENGYUN_BMC_TIMEOUT_SECONDS = float(os.environ.get("ZHENGYUN_BMC_TIMEOUT_SECONDS", "10"))
# Authorities BMC certificates are checked against; none: the system's.
ZHENGYUN_BMC_CA_FILE = os.environ.get("ZHENGYUN_BMC_CA_FILE", "")

# The region's name servers, written into every guest's config drive (comma-separated).
# A search engine class for the catalog in place of the database's own (dotted path).
ZHENGYUN_CATALOG_SEARCH_ENGINE = os.environ.get("ZHENGYUN_CATALOG_SEARCH_ENGINE", "")
ZHENGYUN_GUEST_DNS_SERVERS = os.environ.get("ZHENGYUN_GUEST_DNS_SERVERS", "")
for _server in filter(None, (s.strip() for s in ZHENGYUN_GUEST_DNS_SERVERS.split(","))):
    try:
        ipaddress.ip_address(_server)
    except ValueError:
        raise ImproperlyConfigured(
            f"ZHENGYUN_GUEST_DNS_SERVERS: {_server!r} is not an IP address"
        ) from None

# Audit events may be purged only once older than this; it can be raised, never lowered below
# the 180 days GB/T 22239 asks for.
ZHENGYUN_AUDIT_RETENTION_DAYS = int(os.environ.get("ZHENGYUN_AUDIT_RETENTION_DAYS", "180"))
if ZHENGYUN_AUDIT_RETENTION_DAYS < 180:
    raise ImproperlyConfigured("ZHENGYUN_AUDIT_RETENTION_DAYS must be at least 180 days")
# The platform purges events older than this many days by itself, each night (0: only the
# audit administrator purges, by hand); never fewer than the retention period. Every purge
# first archives what it removes to files in the archive directory.
ZHENGYUN_AUDIT_PURGE_AFTER_DAYS = int(os.environ.get("ZHENGYUN_AUDIT_PURGE_AFTER_DAYS", "0"))
if 0 < ZHENGYUN_AUDIT_PURGE_AFTER_DAYS < ZHENGYUN_AUDIT_RETENTION_DAYS:
    raise ImproperlyConfigured(
        "ZHENGYUN_AUDIT_PURGE_AFTER_DAYS must be 0 or at least ZHENGYUN_AUDIT_RETENTION_DAYS"
    )
ZHENGYUN_AUDIT_ARCHIVE_DIR = Path(
    os.environ.get("ZHENGYUN_AUDIT_ARCHIVE_DIR", DATA_DIR / "audit-archive")
)
# Sign the audit chain every N events, or every M minutes when any were added.
ZHENGYUN_AUDIT_CHECKPOINT_EVERY = int(os.environ.get("ZHENGYUN_AUDIT_CHECKPOINT_EVERY", "1000"))
ZHENGYUN_AUDIT_CHECKPOINT_MINUTES = int(os.environ.get("ZHENGYUN_AUDIT_CHECKPOINT_MINUTES", "10"))

ZHENGYUN_API_TOKEN_DEFAULT_DAYS = int(os.environ.get("ZHENGYUN_API_TOKEN_DEFAULT_DAYS", "90"))
ZHENGYUN_API_TOKEN_MAX_DAYS = int(os.environ.get("ZHENGYUN_API_TOKEN_MAX_DAYS", "365"))

LOGGING = logging_settings(os.environ.get("ZHENGYUN_LOG_LEVEL", "INFO"))
