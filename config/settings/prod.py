"""Production settings. Refuse to start without the secrets and with demo mode."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool, env_int, env_str
from relais.crypto import parse_keyring

SECRET_KEY = env_str("RELAIS_SECRET_KEY")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("RELAIS_SECRET_KEY doit compter au moins 50 caractères.")
RELAIS_ENCRYPTION_KEYS = env_str("RELAIS_ENCRYPTION_KEYS")
parse_keyring(RELAIS_ENCRYPTION_KEYS)

if env_bool("RELAIS_DEMO_MODE", False):
    raise ImproperlyConfigured("Le mode démonstration est interdit en production.")
RELAIS_DEMO_MODE = False
RELAIS_DEMO_TOTP_SECRET = ""

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
