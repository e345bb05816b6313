"""Test settings: fast hashing, in-memory e-mail, immediate tasks."""

from config.settings.base import *  # noqa: F403

SECRET_KEY = "test-only-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "relais.accounts.session_store"
RELAIS_DEMO_MODE = True
RELAIS_DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPRELAISDEMO234567"
RELAIS_ENCRYPTION_KEYS = "test:dGVzdC1vbmx5LWtleS0wMTIzNDU2Nzg5YWJjZGVmZ2g="
RELAIS_SMS_BACKEND = "relais.notifications.sms.LocmemBackend"
STORAGES["documents"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.InMemoryStorage",
    "OPTIONS": {"location": "documents"},
}
