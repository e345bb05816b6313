"""Production-like settings for `make bench`: no debug, real middleware stack, plain HTTP."""

import os

os.environ.setdefault("RELAIS_SECRET_KEY", "bench-" + "k" * 60)
os.environ.setdefault(
    "RELAIS_ENCRYPTION_KEYS", "bench:" + "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktMzI="
)
os.environ.setdefault("RELAIS_SSL_REDIRECT", "0")

from config.settings.prod import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
LOGGING = {"version": 1, "disable_existing_loggers": True}
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
RELAIS_ALLOW_LOAD_DATA = True
