"""Production server settings: `gunicorn config.wsgi -c config/gunicorn.conf.py`."""

import multiprocessing
import os

from config.access_log import ACCESS_LOG_FORMAT

bind = os.environ.get("RELAIS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("RELAIS_WORKERS", multiprocessing.cpu_count()))
worker_class = "sync"
timeout = 60
# Recycle workers now and then so that a slow leak never grows unbounded.
max_requests = 10_000
max_requests_jitter = 1_000
# The application is loaded once, before the workers fork: they share its memory, and a
# recycled worker starts at once instead of importing Django again. Nothing opens a
# database connection at import time. A code update needs a restart of the master (not HUP).
preload_app = True
# Access logs name the path (without its query string, an invitation's token masked), the
# status, the size and the duration only: no client address, browser or referring page.
accesslog = os.environ.get("RELAIS_ACCESS_LOG") or None
logger_class = "config.access_log.AccessLogger"
access_log_format = ACCESS_LOG_FORMAT
