"""PolicyHub settings: one module, driven by the environment (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF

from .env import env_bool, env_choice, env_days, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("POLICYHUB_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# "development" gives a working local setup; "production" demands real secrets and HTTPS.
ENVIRONMENT = env_choice("POLICYHUB_ENV", "development", {"development", "production"})
PRODUCTION = ENVIRONMENT == "production"

# Development keys are recognisable so the `policyhub.E001` check can refuse them in production.
DEV_SECRET_KEY_PREFIX = "dev-insecure-"  # noqa: S105 (a marker, not a key)
SECRET_KEY = env_str("SECRET_KEY", None if PRODUCTION else DEV_SECRET_KEY_PREFIX + "policyhub-local-only")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "policyhub",
    "incidents",
    "dataprotection",
    "approvals",
    "obligations",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "policyhub.middleware.RequestSizeLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below whitenoise, so static files keep their long cache lifetimes.
    "accounts.security.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Right below the session: its response hook runs just before the session is saved.
    "accounts.security.SessionTouchMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.security.SessionLifetimeMiddleware",
    "accounts.two_factor.OTPMiddleware",  # django-otp's, with its device look-up prepared
    # Before two-factor, which reads the memberships it fetches (once per request, lazily).
    "accounts.middleware.CurrentSchoolMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.two_factor.TwoFactorMiddleware",
    "accounts.audit_reads.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "policyhub.urls"
WSGI_APPLICATION = "policyhub.wsgi.application"

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
                "accounts.context_processors.navigation",
                "policyhub.context_processors.policy_banner",
            ],
        },
    },
]

# SQLite by default; DATABASE_URL=postgres://user:pass@host:5432/name selects PostgreSQL (psycopg2).
_DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'policyhub.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        _DATABASE_URL,
        # PostgreSQL keeps each worker's connection for a minute: opening one per request (a new
        # server process and a password exchange) cost more than a whole page (docs/performance.md).
        # Checked before reuse, so a restarted database costs one reconnect, not an error (without a
        # round trip while the server has sent nothing: policyhub/postgresql/base.py is_usable).
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60 if _DATABASE_URL.startswith("postgres") else 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, with each connection preparing the SELECTs it runs again and again
    # (policyhub/postgresql/base.py). DATABASE_PREPARE_THRESHOLD=0 turns it off (needed behind a
    # pooler in transaction mode); statements are prepared the 5th time a connection runs them.
    DATABASES["default"]["ENGINE"] = "policyhub.postgresql"
DATABASE_PREPARE_THRESHOLD = env_int("DATABASE_PREPARE_THRESHOLD", 5, minimum=0)
DATABASE_PREPARED_MAX = env_int("DATABASE_PREPARED_MAX", 100, minimum=1)
# PostgreSQL's JIT compiler, off for the app's connections unless asked for (policyhub/postgresql/base.py).
DATABASE_JIT = env_bool("DATABASE_JIT", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web (several threads), worker and beat share one file, and SQLite takes one writer at a time.
    # - WAL journal: readers never wait for the writer, nor the writer for readers.
    # - IMMEDIATE transactions take the write lock when they begin. With SQLite's default
    #   (DEFERRED) a transaction that read first and then writes while another holds the lock
    #   fails at once with "database is locked" (waiting could deadlock), whatever the timeout.
    # - timeout: a writer waits up to 20 s for the lock instead of failing. Transactions are short,
    #   so writers queue; only a write held for 20 s by someone else still fails.
    # - synchronous stays FULL (SQLite's default): with NORMAL a power cut could lose the last
    #   commits, and a report once confirmed must not be lost.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The sign-in guard first: it refuses locked-out sign-ins before any password is checked.
AUTHENTICATION_BACKENDS = [
    "accounts.security.SignInGuardBackend",
    "accounts.backends.PersonBackend",  # Django's ModelBackend with its look-up prepared
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded evidence is private: it lives under MEDIA_ROOT and is never given a public URL.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production, whitenoise serves straight from the source folders: no collectstatic needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing

# Uploads: at most 10 evidence files of 10 MB in one request (incidents/evidence.py checks each
# file's size and content, and the form says so up to 20 files); more files, or a larger body, is
# refused before it is read (400 and 413).
DATA_UPLOAD_MAX_NUMBER_FILES = 20
MAX_REQUEST_BYTES = 10 * 10 * 1024 * 1024 + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger files spool to a temporary file
FILE_UPLOAD_PERMISSIONS = 0o600

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: console locally; set EMAIL_BACKEND and the SMTP variables in production.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))  # for the filebased backend
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds before a silent mail server counts as a failed attempt; well inside incidents.notify.SEND_LEASE.
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "PolicyHub <policyhub@localhost>")
# Absolute links in emails (password reset, notifications) are built from this. Unset, it follows the
# port `make run` serves on (PORT, also seen by the worker that sends the emails).
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{env_int('PORT', 8000)}")

# Django's cache (the SSO keys) in each process's memory; what pages keep between views
# (reporting/figures_cache.py) in "kept": the process's own objects, not copies (policyhub/kept_objects.py).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "kept": {"BACKEND": "policyhub.kept_objects.KeptObjects", "OPTIONS": {"MAX_ENTRIES": 1000}},
}

# Sessions: a case system on shared staff-room computers must not stay signed in for ever.
# Django's database sessions, read with SQL written once (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
# The age above is an inactivity timeout: accounts.security.SessionTouchMiddleware saves the session
# (pushing its expiry on) at most once a minute, not on every request as SESSION_SAVE_EVERY_REQUEST
# would (a database write per page view).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# ... and must not stay signed in past this many seconds, however busy (accounts.security).
SESSION_ABSOLUTE_AGE = env_int("SESSION_ABSOLUTE_AGE", 12 * 60 * 60)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script or style anywhere: JavaScript lives in static/js, CSS in static/css.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # data: for the two-factor QR code
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"

# Sign-in throttling (django-axes + accounts.security). Five failures for one address *and* one
# account lock that pair for the cool-off; the account as a whole takes at most
# LOGIN_FAILURES_PER_HOUR failures an hour from addresses it has never signed in from. Keying on
# the pair means nobody can lock the DSL out from their own address, and the lock always ends.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.security.login_username"
# The one function that decides the client's address: axes, the hourly cap and the audit trail use it.
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"
# A browser that opened a one-time sign-in link from the account's email gets a few password tries
# that neither the cap nor a lockout refuse: the way in a stranger cannot block (accounts.sign_in_link).
AXES_WHITELIST_CALLABLE = "accounts.security.holds_sign_in_pass"
AXES_RESET_ON_SUCCESS = True
# Attempts refused during a lockout neither count nor extend it: the lock ends on time.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
LOGIN_FAILURES_PER_HOUR = env_int("LOGIN_FAILURES_PER_HOUR", 100)
# Single sign-on (accounts.sso, docs/notes/sso.md). The Fernet key that encrypts client secrets
# stored in the database (a secret can instead be named by an environment variable), and the cap
# on refused callbacks per address per hour, the SSO counterpart of the sign-in lockouts.
SSO_SECRET_KEY = env_str("SSO_SECRET_KEY", "")
SSO_CALLBACK_FAILURES_PER_HOUR = env_int("SSO_CALLBACK_FAILURES_PER_HOUR", 20)
# How many proxies in front of the app append to X-Forwarded-For; 0 means use REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if PRODUCTION and env_bool("BEHIND_TLS_PROXY", True) else 0)

# Two-factor sign-in (django-otp): required for every role but plain staff (accounts.two_factor).
OTP_TOTP_ISSUER = "PolicyHub"
# django-otp's per-device throttle is off: it let anyone with the password freeze the real
# person's authenticator. accounts.two_factor throttles per session instead, and bounds wrong
# authenticator codes per account to this many an hour (docs/notes/sign-in.md has the sums).
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
SECOND_FACTOR_FAILURES_PER_HOUR = 10

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # The container's own health check asks over plain HTTP; /healthz says one word and sets no cookie.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Celery. The embedded default is kombu's filesystem transport: no server needed, and web,
# worker and beat share the folder. CELERY_BROKER_URL=redis://... selects Redis.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
REDIS_BROKER_TRANSPORT_OPTIONS = {
    # A task held longer than this is redelivered by Redis; nothing may be scheduled past it.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    # Publishing fails fast when Redis is down (a request must not hang): the database keeps the
    # work and the beat sweeps deliver it once Redis is back.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
}
CELERY_BROKER_DIR = VAR_DIR / "celery" / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_DIR.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR),
        "data_folder_out": str(CELERY_BROKER_DIR),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The embedded setup (`make run`: SQLite, or the filesystem broker) runs one task at a time in the
# worker's own process: SQLite takes one writer at a time, so parallel tasks only queue for its
# lock, and the prefork pool's children kept Ctrl-C waiting in warm shutdown for minutes.
# PostgreSQL with Redis (docker compose) keeps Celery's default, the prefork pool.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" or CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_WORKER_POOL = "solo"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# No result backend: nothing waits on results, and a backend that is down would block requests.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "policyhub.tasks.heartbeat", "schedule": timedelta(minutes=5)},
    "policy-acknowledgement-reminders": {
        "task": "policyhub.tasks.send_acknowledgement_reminders",
        "schedule": timedelta(hours=1),
    },
    # The guarantee behind every deadline: the database is swept every minute.
    "sweep-deadlines": {"task": "incidents.tasks.sweep_deadlines", "schedule": timedelta(minutes=1)},
    "sweep-outbox": {"task": "incidents.tasks.sweep_outbox", "schedule": timedelta(minutes=1)},
    "seal-audit": {"task": "accounts.tasks.seal_audit", "schedule": timedelta(minutes=1)},
    # The seals are checked every minute; the events themselves are recomputed hourly (accounts/audit.py).
    "verify-audit": {"task": "accounts.tasks.verify_audit", "schedule": timedelta(hours=1)},
    # Retention (dataprotection/retention.py): deletes the cases that are due, at a quiet hour.
    "retention-sweep": {"task": "dataprotection.tasks.sweep_retention", "schedule": crontab(hour=2, minute=30)},
    # The rows that tell the governors' pack a school's figures changed (reporting/stamps.py).
    "prune-figures-changes": {"task": "reporting.tasks.prune_figures_changes", "schedule": timedelta(hours=1)},
}

# Staff who have not acknowledged the policy in force are reminded every this many days.
POLICY_ACK_REMINDER_DAYS = env_int("POLICY_ACK_REMINDER_DAYS", 3)

# Heads (and, for a trust's model policy, trust admins) are reminded this many days before a policy
# version's next review date, and told when it has passed (policyhub/review.py).
POLICY_REVIEW_REMINDER_DAYS = env_days("POLICY_REVIEW_REMINDER_DAYS", [30, 7])

# A take-down request the platform has not acted on after this many hours prompts the case's owner to
# escalate (POSH, Report Harmful Content): incidents/takedowns.py, docs/take-downs.md.
TAKEDOWN_FOLLOW_UP_HOURS = env_int("TAKEDOWN_FOLLOW_UP_HOURS", 48, minimum=1)

# Closed cases of a category without its own retention rule (Django admin) are kept this many years.
RETENTION_DEFAULT_YEARS = env_int("RETENTION_DEFAULT_YEARS", 6)

# Official accounts and authorisations (approvals/clocks.py): working days an approver has to decide a
# request before the approvers are reminded, and days between an official account's reviews.
APPROVALS_DECISION_WORKING_DAYS = env_int("APPROVALS_DECISION_WORKING_DAYS", 5)
APPROVALS_REVIEW_DAYS = env_int("APPROVALS_REVIEW_DAYS", 365)

# The audit chain's newest hash is appended here (and logged) every minute: keep this file, or
# ship the "audit anchor" log lines, somewhere the database's administrators cannot rewrite.
AUDIT_ANCHOR_FILE = env_str("AUDIT_ANCHOR_FILE", str(VAR_DIR / "audit-anchor.log"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes logs every sign-in at INFO (addresses masked); lockouts are WARNING and still show.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
