"""gunicorn settings; override any of them with GUNICORN_CMD_ARGS."""

import multiprocessing
import os

bind = os.environ.get("LMS_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("LMS_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("LMS_THREADS", 2))
timeout = 60
graceful_timeout = 20
accesslog = "-" if os.environ.get("LMS_ACCESS_LOG") else None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
