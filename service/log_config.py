"""structlog, configured once: JSON lines on stdout, ISO UTC timestamps, request id bound in
contextvars.

Exceptions are logged as their type and the stack's file/line/function only: exception messages
and local variables can carry request data (a patient id), so they never reach a log line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import threading
import traceback
from typing import Any

import structlog

from service import jsonio

_configured = False
_config_lock = threading.Lock()
_stdout_lock = threading.Lock()
#: Where log lines go: ``None`` means ``sys.stdout``; ``hipaa-gate decide`` sets 2 (stderr).
STDOUT_FD: int | None = None


def as_line(line: str | bytes) -> bytes:
    """``line`` as UTF-8 bytes ending in exactly one newline."""
    data = line if isinstance(line, bytes) else line.encode("utf-8")
    return data.rstrip(b"\n") + b"\n"


def write_stdout(line: str | bytes) -> None:
    """One ``os.write`` per complete line, serialised between threads."""
    data = as_line(line)
    fd = STDOUT_FD if STDOUT_FD is not None else sys.stdout.fileno()
    with _stdout_lock:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]


class StdoutLineLogger:
    """structlog logger that writes each rendered line to stdout with one write."""

    def msg(self, message: str | bytes) -> None:
        try:
            write_stdout(message)
        except (OSError, ValueError, AttributeError):
            # pytest's capture replaces sys.stdout with an object without a real fd. When stdout
            # itself cannot be written (a full disk), the line is lost: a diagnostic line never
            # turns a request's answer into a 500.
            if isinstance(message, bytes):
                message = message.decode("utf-8", "replace")
            with contextlib.suppress(OSError, ValueError):
                print(message, file=sys.stdout, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


class StdoutHandler(logging.Handler):
    """stdlib handler writing formatted records through ``write_stdout`` (one write per line)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            try:
                write_stdout(line)
            except (OSError, ValueError, AttributeError):
                print(line, file=sys.stdout, flush=True)
        except Exception:
            self.handleError(record)


def _logger_factory(*_args: Any) -> StdoutLineLogger:
    return StdoutLineLogger()


def safe_exception(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Replace ``exc_info`` by the exception type and frame locations (no message, no locals)."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if exc_info and exc_info[0] is not None:
        event_dict["exc_type"] = exc_info[0].__name__
        event_dict["stack"] = [
            f"{frame.filename}:{frame.lineno}:{frame.name}"
            for frame in traceback.extract_tb(exc_info[2])
        ]
    return event_dict


def expand_access_log(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """gunicorn's access line (a JSON ``access_log_format``) becomes fields of the record."""
    event = event_dict.get("event")
    if event_dict.get("logger") == "gunicorn.access" and isinstance(event, str):
        try:
            fields = json.loads(event)
        except ValueError:
            return event_dict
        if isinstance(fields, dict):
            event_dict["event"] = "http_access"
            event_dict.update(fields)
    return event_dict


SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    safe_exception,
]


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """stdlib ``logging`` formatter (gunicorn, libraries) rendering the same JSON lines."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[
                structlog.stdlib.add_logger_name,
                *SHARED_PROCESSORS,
                expand_access_log,
            ],
        )


def configure_logging(level: int = logging.INFO) -> None:
    """Configure structlog and the stdlib root logger once per process."""
    global _configured
    with _config_lock:
        if _configured:
            return
        structlog.configure(
            processors=[*SHARED_PROCESSORS, structlog.processors.JSONRenderer()],
            wrapper_class=structlog.make_filtering_bound_logger(level),
            logger_factory=_logger_factory,
            cache_logger_on_first_use=False,
        )
        root = logging.getLogger()
        if not any(isinstance(h, StdoutHandler) for h in root.handlers):
            handler = StdoutHandler()
            handler.setFormatter(JsonFormatter())
            root.addHandler(handler)
        root.setLevel(level)
        # urllib3 logs retries and connection details at DEBUG/WARNING; keep it quiet.
        logging.getLogger("urllib3").setLevel(logging.ERROR)
        _configured = True


_access_stamp = structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp")


def access_record(resp: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
    """One access-log record: the line ``JsonFormatter`` renders for gunicorn's access logger.

    Field for field what the former JSON ``access_log_format`` produced (values as strings),
    after the request's bound context (``request_id``, ``decision_id``); no client address and
    no query string (paths carry no PHI, queries might).
    """
    status = resp.status
    if isinstance(status, str):
        status = status.split(None, 1)[0]
    sent = getattr(resp, "sent", None)
    request_id = "-"
    for name, value in getattr(resp, "headers", None) or ():
        if name.lower() == "x-request-id":
            request_id = value
    record: dict[str, Any] = {"event": "http_access", "logger": "gunicorn.access"}
    record.update(structlog.contextvars.get_contextvars())
    record["level"] = "info"
    _access_stamp(None, "info", record)
    record["method"] = environ.get("REQUEST_METHOD") or "-"
    record["path"] = environ.get("PATH_INFO") or "-"
    record["status"] = str(status)
    record["bytes"] = "-" if sent is None else str(sent)
    record["duration_us"] = str(request_time.seconds * 1_000_000 + request_time.microseconds)
    record["request_id"] = request_id
    return record


_REFUSED_PREFIX = "Invalid request from ip="
_KIND_END = re.compile(r"[:(']")


def refusal_kind(error: str) -> str:
    """What gunicorn refused, without the input it quotes ("Invalid HTTP Version: 'x'" -> its
    first words); at most 80 characters."""
    return _KIND_END.split(error, maxsplit=1)[0].strip()[:80] or "malformed request"


try:  # gunicorn is absent where the package is only imported (the decide CLI in a slim env)
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = object  # type: ignore[assignment,misc]


class AccessLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """gunicorn's logger with an access log rendered directly as one JSON line.

    gunicorn's own ``access`` builds a dict of every atom and every request and response header,
    formats ``access_log_format`` with it and sends the text through ``logging`` and the
    structlog ``ProcessorFormatter``, which parses it back from JSON: about a tenth of a worker's
    CPU per decision. This writes the same record (``access_record``) with one ``jsonio.dumps``.
    """

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        # gunicorn logs a request head it refuses as "Invalid request from ip=<client>: <error>",
        # the error quoting the raw request line or header, which could carry PHI: keep its kind.
        if isinstance(msg, str) and msg.startswith(_REFUSED_PREFIX):
            msg = "Invalid request refused: " + refusal_kind(msg.partition(": ")[2])
        super().warning(msg, *args, **kwargs)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.cfg.accesslog:
            return
        try:
            write_stdout(jsonio.dumps(access_record(resp, environ, request_time)))
        except Exception as exc:  # an access line never fails a request
            self.error("access log line not written: %s", type(exc).__name__)
