"""Settings shared by every environment. Values that differ come from the environment."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.settings.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = False
ALLOWED_HOSTS = env_list("RELAIS_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "dsfr",
    "django.forms",
    "widget_tweaks",
    "relais.audit",
    "relais.accounts",
    "relais.organisations",
    "relais.persons",
    "relais.consent",
    "relais.documents",
    "relais.procedures",
    "relais.portal",
    "relais.portability",
    "relais.www",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Outside the session rules below, so that whatever they answer is covered too.
    "relais.www.middleware.NeverCacheWhenLoggedInMiddleware",
    # Outside the messages: a message is stored in the language of the page that made it.
    "relais.www.portal.i18n.PortalLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "relais.portal.middleware.PersonSessionMiddleware",
    "relais.accounts.middleware.LoginRequiredMiddleware",
    "relais.accounts.middleware.VerifiedSessionMiddleware",
    "relais.accounts.middleware.SessionTimeoutMiddleware",
    "relais.accounts.middleware.SecondFactorRequiredMiddleware",
    "relais.organisations.middleware.ActingOrganisationMiddleware",
    "relais.consent.middleware.CharterAcceptanceMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "relais.www.middleware.ContentSecurityPolicyMiddleware",
    "relais.www.middleware.MethodNotAllowedPageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "relais" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "relais.www.context_processors.layout",
            ],
            "builtins": ["relais.www.templatetags.dates"],
        },
    },
]

# Forms are rendered by the project's template engine (one, shared, with its cached
# loader): django-dsfr's field templates, and Relais's own form template
# (relais/templates/dsfr/form_snippet.html), which announces a form-wide error.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("RELAIS_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if env_bool("RELAIS_DB_TRANSACTION_POOLER", False):
    # Behind a pooler in transaction mode (PgBouncer's pool_mode = transaction), each
    # transaction may run on another server connection: a server-side cursor that
    # `.iterator()` keeps open outside a transaction, or a statement prepared on one
    # connection (psycopg prepares those run five times), would not be found on the next.
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "RELAIS_DB_TRANSACTION_POOLER ne vaut que pour PostgreSQL (DATABASE_URL=postgres://…)."
        )
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at
    # BEGIN so that the audit chain never sees two writers read the same chain head.
    # A 64 MiB page cache per (persistent) connection instead of SQLite's 2 MiB keeps a
    # caseload's files in memory however large the persons table grows.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA cache_size=-65536;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "www:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "relais.accounts.validators.ZxcvbnValidator", "OPTIONS": {"min_score": 3}},
]

AUTHENTICATION_BACKENDS = ["relais.accounts.backends.AccountBackend"]

LANGUAGE_CODE = "fr"
# The professionals' pages are in French whatever the browser asks (no LocaleMiddleware);
# only the person's own space offers these languages (relais.www.portal.i18n).
LANGUAGES = [("fr", "Français"), ("en", "English"), ("ar", "العربية")]
LOCALE_PATHS = [BASE_DIR / "relais" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "relais" / "static"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(timedelta(hours=12).total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# The server runs several processes (gunicorn's workers), and a request may reach any of
# them: what one writes to the cache or to a session, the others must read. With Redis,
# sessions are kept there and in the database. Without it, the processes of one server
# share a cache in files (a published charter reaches them all; failed logins are counted
# in the database) and read sessions from the database, so that a logout, a timeout or
# a change of acting organisation holds at once in every process.
REDIS_URL = env_str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env_str("RELAIS_CACHE_DIR", str(BASE_DIR / "var" / "cache")),
        }
    }
    SESSION_ENGINE = "relais.accounts.session_store"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

EMAIL_BACKEND = env_str("RELAIS_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("RELAIS_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("RELAIS_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("RELAIS_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("RELAIS_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("RELAIS_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("RELAIS_FROM_EMAIL", "Relais <ne-pas-repondre@relais.localhost>")

# Public address used in e-mailed links (invitation). No trailing slash.
RELAIS_PUBLIC_URL = env_str("RELAIS_PUBLIC_URL", "http://127.0.0.1:8000")

# Sessions of professionals (issue: foundation). Minutes.
RELAIS_IDLE_TIMEOUT = timedelta(minutes=env_int("RELAIS_IDLE_TIMEOUT_MINUTES", 30))
RELAIS_ABSOLUTE_TIMEOUT = timedelta(hours=env_int("RELAIS_ABSOLUTE_TIMEOUT_HOURS", 12))
RELAIS_RECENT_SECOND_FACTOR = timedelta(minutes=env_int("RELAIS_REVERIFY_MINUTES", 15))

# Failed-login throttling, counted per typed identifier and per IP address.
RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
RELAIS_LOGIN_MAX_FAILURES_PER_IP = env_int("RELAIS_LOGIN_MAX_FAILURES_PER_IP", 30)
RELAIS_LOGIN_LOCKOUT = timedelta(minutes=env_int("RELAIS_LOGIN_LOCKOUT_MINUTES", 15))

RELAIS_INVITATION_VALIDITY = timedelta(hours=72)

# `identifier:base64-key` pairs, the first one current (see relais/crypto.py).
RELAIS_ENCRYPTION_KEYS = env_str("RELAIS_ENCRYPTION_KEYS", "")
# Supporting documents: encrypted blobs in the "documents" storage (see STORAGES below).
RELAIS_DOCUMENT_MAX_BYTES = env_int("RELAIS_DOCUMENT_MAX_MB", 20) * 1024 * 1024
RELAIS_DOCUMENT_QUOTA_BYTES = env_int("RELAIS_DOCUMENT_QUOTA_MB", 500) * 1024 * 1024
RELAIS_CLAMD_SOCKET = env_str("RELAIS_CLAMD_SOCKET", "")
RELAIS_DOCUMENT_PURGE_DAYS = env_int("RELAIS_DOCUMENT_PURGE_DAYS", 30)
# Files: active two years after the last contact, then archived five years (the common
# limitation period), then anonymised (relais/persons/retention.py). A mistyped 0 would
# archive every file at the next run: the active period is at least three months.
RELAIS_RETENTION_ACTIVE = timedelta(days=env_int("RELAIS_RETENTION_ACTIVE_DAYS", 730, minimum=90))
RELAIS_RETENTION_ARCHIVE = timedelta(days=env_int("RELAIS_RETENTION_ARCHIVE_DAYS", 1826, minimum=1))
# The journal's rows: one year, the CNIL's advice for access logs (relais/audit/trimming.py);
# never less than six months, or a trim could erase the traces an inquiry is looking for.
RELAIS_RETENTION_JOURNAL = timedelta(
    days=env_int("RELAIS_RETENTION_JOURNAL_DAYS", 365, minimum=180)
)
# The task queue's finished tasks: a week to read a failure. A login code's task names the
# account and the visitor's IP address (relais/portal/tasks.py), a failed task keeps its
# traceback.
RELAIS_RETENTION_TASKS = timedelta(days=env_int("RELAIS_RETENTION_TASKS_DAYS", 7, minimum=1))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Files are received in memory only, within one document's maximum size: none reaches a
# temporary file unencrypted (relais/documents/uploads.py).
FILE_UPLOAD_HANDLERS = ["relais.documents.uploads.DocumentUploadHandler"]

_DOCUMENTS_BUCKET = env_str("RELAIS_DOCUMENTS_S3_BUCKET", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Never under MEDIA_ROOT and never served by URL: blobs are read by the download view.
    "documents": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": _DOCUMENTS_BUCKET,
                "endpoint_url": env_str("RELAIS_DOCUMENTS_S3_ENDPOINT", "") or None,
                "region_name": env_str("RELAIS_DOCUMENTS_S3_REGION", "") or None,
                "access_key": env_str("RELAIS_DOCUMENTS_S3_ACCESS_KEY", "") or None,
                "secret_key": env_str("RELAIS_DOCUMENTS_S3_SECRET_KEY", "") or None,
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        }
        if _DOCUMENTS_BUCKET
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": env_str("RELAIS_DOCUMENTS_DIR", str(BASE_DIR / "var" / "documents")),
                "base_url": None,
            },
        }
    ),
}

RELAIS_SMS_BACKEND = env_str("RELAIS_SMS_BACKEND", "relais.notifications.sms.ConsoleBackend")
RELAIS_CONSENT_CODE_VALIDITY = timedelta(minutes=10)

# The person's own space (relais/portal). Shorter than professionals' sessions: persons
# often log in on a shared or public computer.
RELAIS_PORTAL_IDLE_TIMEOUT = env_int("RELAIS_PORTAL_IDLE_TIMEOUT", 600)  # seconds
RELAIS_PORTAL_ABSOLUTE_TIMEOUT = env_int("RELAIS_PORTAL_ABSOLUTE_TIMEOUT", 8 * 3600)  # seconds
RELAIS_PORTAL_CODE_VALIDITY = timedelta(minutes=10)
RELAIS_PORTAL_CODE_MAX_ATTEMPTS = 5
RELAIS_PORTAL_INVITATION_VALIDITY = timedelta(hours=env_int("RELAIS_PORTAL_INVITATION_HOURS", 72))
# Codes sent to one account: at most this many per 15 minutes and per day.
RELAIS_PORTAL_CODES_PER_15_MIN = env_int("RELAIS_PORTAL_CODES_PER_15_MIN", 3)
RELAIS_PORTAL_CODES_PER_DAY = env_int("RELAIS_PORTAL_CODES_PER_DAY", 10)
RELAIS_PORTAL_CODES_PER_IP_HOUR = env_int("RELAIS_PORTAL_CODES_PER_IP_HOUR", 30)
RELAIS_PORTAL_RECOVERY_CODES = 8

# SMS provider (relais/notifications/sms.py). Brevo's transactional SMS API in production.
RELAIS_SMS_API_URL = env_str("RELAIS_SMS_API_URL", "https://api.brevo.com/v3/transactionalSMS/sms")
RELAIS_SMS_API_KEY = env_str("RELAIS_SMS_API_KEY", "")
RELAIS_SMS_SENDER = env_str("RELAIS_SMS_SENDER", "Relais")
RELAIS_SMS_TIMEOUT = env_int("RELAIS_SMS_TIMEOUT_SECONDS", 10)
RELAIS_SMS_FILE = env_str("RELAIS_SMS_FILE", str(BASE_DIR / "var" / "sms.log"))
RELAIS_BREAK_GLASS_DURATION = timedelta(hours=env_int("RELAIS_BREAK_GLASS_HOURS", 4))

# Demo mode lets every demo professional share one TOTP secret. Never in production:
# config.settings.prod refuses to start with it.
RELAIS_DEMO_MODE = False
RELAIS_DEMO_TOTP_SECRET = ""

# Deployment-specific contact shown on the privacy page.
RELAIS_DPO_CONTACT = env_str("RELAIS_DPO_CONTACT", "")
RELAIS_OPERATOR_NAME = env_str("RELAIS_OPERATOR_NAME", "")

OTP_TOTP_ISSUER = "Relais"
# Relais counts second-factor attempts itself, per account, before checking them, and
# locks them out for RELAIS_LOGIN_LOCKOUT (relais/accounts/throttling.py). django-otp's own
# delay doubled on a device at each failure and was reset only by that device's success:
# months of typos on the app's code left the recovery codes refused for days, when the
# phone is lost. The security keys' device (accounts.models.WebAuthnDevice) has no delay.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# Relais takes django-otp's device pages out of the administration (accounts/admin.py);
# should they come back, they show no secret, QR code or recovery code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# The WebAuthn relying party is the site's domain; empty means the host of each request
# (browsers refuse IP addresses: open http://localhost:8000 to try security keys).
WEBAUTHN_RP_ID = env_str("RELAIS_WEBAUTHN_RP_ID", "")
WEBAUTHN_RP_NAME = "Relais"

DSFR_MARK_OPTIONAL_FIELDS = True
# django-dsfr marks the text of its components safe unless told otherwise: the messages
# shown after an action quote names typed by users (an organisation, a member).
DSFR_CONTENT_IS_SAFE = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"secret_tokens": {"()": "config.access_log.SecretTokenFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env_str("RELAIS_LOG_LEVEL", "INFO")},
    # Request logs carry URLs and addresses only; bodies and parameters are never logged,
    # and the token in the path of an invitation or a password reset link is masked.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["secret_tokens"]},
        "django.security.csrf": {"filters": ["secret_tokens"]},
        # runserver's request lines, as Django writes them by default.
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["secret_tokens"],
        },
    },
}

# Which request header holds the client address. Behind a reverse proxy that sets it,
# use e.g. HTTP_X_FORWARDED_FOR; never trust it when Relais is reached directly.
RELAIS_CLIENT_IP_HEADER = env_str("RELAIS_CLIENT_IP_HEADER", "REMOTE_ADDR")
