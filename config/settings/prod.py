"""Production settings. Refuse to start without the secrets, in demo mode, or with an SMS
or e-mail backend that sends nothing."""

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool, env_int, env_str
from relais.crypto import parse_keyring
from relais.notifications.sms import DEVELOPMENT_BACKENDS

SECRET_KEY = env_str("RELAIS_SECRET_KEY")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("RELAIS_SECRET_KEY doit compter au moins 50 caractères.")
RELAIS_ENCRYPTION_KEYS = env_str("RELAIS_ENCRYPTION_KEYS")
parse_keyring(RELAIS_ENCRYPTION_KEYS)

if env_bool("RELAIS_DEMO_MODE", False):
    raise ImproperlyConfigured("Le mode démonstration est interdit en production.")
RELAIS_DEMO_MODE = False
RELAIS_DEMO_TOTP_SECRET = ""

# The development backends print, write to a file or keep in memory the codes meant for a
# person's phone: in production they would hand the codes to whoever reads the logs.
RELAIS_SMS_BACKEND = env_str("RELAIS_SMS_BACKEND", "relais.notifications.sms.BrevoBackend")
try:
    _sms_backend = import_string(RELAIS_SMS_BACKEND)
except ImportError as error:
    raise ImproperlyConfigured(
        f"RELAIS_SMS_BACKEND={RELAIS_SMS_BACKEND} ne désigne aucune classe d'envoi de SMS."
    ) from error
if isinstance(_sms_backend, type) and issubclass(_sms_backend, DEVELOPMENT_BACKENDS):
    raise ImproperlyConfigured(
        f"RELAIS_SMS_BACKEND={RELAIS_SMS_BACKEND} n'envoie aucun SMS : il est réservé au "
        "développement et interdit en production (choisissez "
        "relais.notifications.sms.BrevoBackend)."
    )

# The same for e-mail: Django's console, file and in-memory backends would hand login codes
# and addresses to whoever reads the logs or the disk; its dummy backend drops them.
_DEVELOPMENT_EMAIL_BACKENDS = ("console", "filebased", "locmem", "dummy")
try:
    _email_backend = import_string(EMAIL_BACKEND)  # noqa: F405
except ImportError as error:
    raise ImproperlyConfigured(
        f"RELAIS_EMAIL_BACKEND={EMAIL_BACKEND} ne désigne aucune classe d'envoi de courriels."  # noqa: F405
    ) from error
if issubclass(
    _email_backend,
    tuple(
        import_string(f"django.core.mail.backends.{name}.EmailBackend")
        for name in _DEVELOPMENT_EMAIL_BACKENDS
    ),
):
    raise ImproperlyConfigured(
        f"RELAIS_EMAIL_BACKEND={EMAIL_BACKEND} n'envoie aucun courriel : il est réservé au "  # noqa: F405
        "développement et interdit en production."
    )

SECURE_SSL_REDIRECT = env_bool("RELAIS_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("RELAIS_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
}
