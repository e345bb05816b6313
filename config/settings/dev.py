"""Local development and `make run`: SQLite, console e-mail, demo mode."""

from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool, env_str

# `make run` shows what a user of the platform sees: its own French error pages, not Django's
# technical ones (which list every address of the site). RELAIS_DEBUG=1 for development.
DEBUG = env_bool("RELAIS_DEBUG", False)
# Fictitious load data (`generate_load_data`) is for this machine, whatever DEBUG says.
RELAIS_ALLOW_LOAD_DATA = True
SECRET_KEY = env_str(
    "RELAIS_SECRET_KEY", "dev-only-insecure-key-never-use-in-production-0123456789"
)
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

RELAIS_DEMO_MODE = True
# Shared by every demo professional, printed by `make run`; base32 as TOTP apps expect.
RELAIS_DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPRELAISDEMO234567"
RELAIS_ENCRYPTION_KEYS = env_str(
    "RELAIS_ENCRYPTION_KEYS", "dev:ZGV2LW9ubHkta2V5LW5ldmVyLWluLXByb2R1Y3Rpb24="
)
