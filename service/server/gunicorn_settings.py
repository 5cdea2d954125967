"""gunicorn settings for the shim (``gunicorn.conf.py`` at the repo root re-exports these).

gthread workers (``service.server.worker``: gunicorn's own refusals in the API's JSON error
shape); ``HIPAA_GATE_WORKERS`` x ``HIPAA_GATE_THREADS``; bind ``HIPAA_GATE_BIND``; idle
keep-alive connections kept ``HIPAA_GATE_KEEPALIVE`` seconds;
access and error logs as JSON lines on stdout; graceful shutdown on SIGTERM. gunicorn's
``Server`` header is the bare word ``gunicorn``, without a version.
"""

from __future__ import annotations

import os

from service import config as _config
from service.log_config import configure_logging

try:
    _CFG = _config.load()  # every top-level name here is a gunicorn setting: private names only
except _config.ConfigError as exc:
    # gunicorn run directly (the image, the manifests) reports this and exits; `hipaa-gate
    # serve` refuses the value earlier, with the same message.
    raise SystemExit(str(exc)) from None

bind = _CFG.bind
# gunicorn's gthread worker; a request gunicorn refuses itself (malformed or oversized head) gets
# the API's JSON error instead of gunicorn's HTML page.
worker_class = "service.server.worker.JsonErrorThreadWorker"
# gunicorn's Python request parser, also where its optional C parser (gunicorn_h1c) is installed:
# the C parser saved ~20 us of ~1.2 ms per decision here, not worth a native parser of untrusted
# input on this path (docs/benchmarks.md).
http_parser = "python"
workers = _CFG.workers
threads = _CFG.threads
wsgi_app = "service.app:create_app()"
timeout = 30
graceful_timeout = _CFG.graceful_timeout
# Seconds an idle keep-alive connection stays open. A gateway in front pools its connections and
# reuses an idle one without warning; if this side closes it first, the gateway's next request
# can meet the close and fail with a reset (a POST is not retried), as one of ~30,000 benchmark
# requests did with gunicorn's 5 s. So the gateway must close first: keep its idle timeout for
# upstream connections below this (nginx's upstream `keepalive_timeout` and an AWS ALB's idle
# timeout are 60 s by default). An idle connection holds no thread, only a slot in the poller
# (`worker_connections`).
keepalive = _CFG.keepalive
# Connections one worker holds at once (in use, idle keep-alive, or not yet sending): beyond it
# the worker stops accepting (the rest wait in the listen backlog). Idle keep-alive connections
# may take all but `threads` of them. Reading a request is bounded by HIPAA_GATE_HEAD_TIMEOUT and
# HIPAA_GATE_BODY_TIMEOUT (service.server.worker).
worker_connections = _CFG.worker_connections
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - tmpfs heartbeat
# gunicorn >= 25 opens a runtime-management socket in $HOME by default; this service needs none.
control_socket_disable = True
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
loglevel = "info"
# Access lines are JSON records rendered by service.log_config.AccessLogger (method, path, status,
# bytes, duration_us, request_id): no client address or query string (queries might carry PHI).
logger_class = "service.log_config.AccessLogger"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.log_config.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["stdout"], "level": "INFO"},
}


def on_starting(server):
    configure_logging()


def child_exit(server, worker):
    """Drop a dead worker's live metrics files (prometheus-client multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


_MAX_BODY_BYTES = _CFG.max_body_bytes


def pre_request(worker, req):
    """Announce ``Connection: close`` when the body may be refused before it is read.

    The shim answers 413 without reading a body over ``HIPAA_GATE_MAX_BODY_BYTES``; gunicorn
    then drains at most 64 KiB of it and otherwise drops the connection, after an answer that
    said keep-alive, so a client's next request on that connection would get no answer at all.
    A declared ``Content-Length`` over the limit (or an unreadable one) and a chunked body
    (whose size is unknown here) therefore close the connection after the answer, announced.
    """
    if getattr(req, "chunked", False):
        req.force_close()
        return
    for name, value in req.headers:
        if name == "CONTENT-LENGTH":
            try:
                too_big = int(value) > _MAX_BODY_BYTES
            except ValueError:
                too_big = True
            if too_big:
                req.force_close()
