"""gunicorn settings; override any of them with GUNICORN_CMD_ARGS."""

import multiprocessing
import os

bind = os.environ.get("LMS_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("LMS_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("LMS_THREADS", 2))
timeout = 60
graceful_timeout = 20
accesslog = "-" if os.environ.get("LMS_ACCESS_LOG") else None
# The path without its query string: a search typed by a team member (a name, a phone,
# even a whole ID number) must not end up in the access log.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
