"""gunicorn's gthread worker: firm read timeouts, and its own refusals in the API's JSON shape.

Slow clients. gunicorn's gthread worker reads a request head and body in a worker thread with no
time limit once the first byte is there, so a handful of connections sending half a head
(slowloris) or a stalled body hold every thread. Here each request must arrive in time: its head
within ``HIPAA_GATE_HEAD_TIMEOUT`` seconds of its first byte, then its body within
``HIPAA_GATE_BODY_TIMEOUT`` seconds of the end of the head — total deadlines, not per-``recv``
timeouts, so dripping a byte at a time does not extend them. A late client gets a 408
``request_timeout`` and the connection is closed. A new connection that has sent nothing yet
waits in the poller (no thread) and is closed after ``HIPAA_GATE_HEAD_TIMEOUT`` seconds; how many
connections a worker holds is bounded by ``HIPAA_GATE_WORKER_CONNECTIONS`` (gunicorn's
``worker_connections``). A chunked body whose framing breaks while the app reads it is a 400 in
the contract's shape (gunicorn would turn it into a 500). In production the shim sits behind the
gateway or a buffering proxy that sends whole requests (docs/reliability.md, deploy/nginx).

gunicorn refuses a malformed or oversized request head (request line, headers, body framing)
before the app runs, with an HTML page that quotes the offending input. Gateways get the contract's
error shape instead (``{"error": {"code", "message", "details"}}``, docs/api.md (errors)) with the
status gunicorn chose, naming the part of the request that was refused and never echoing it.
gunicorn still decides what to refuse and with which status: only the page it writes is replaced.
"""

from __future__ import annotations

import socket
import time
import uuid
from http import HTTPStatus
from typing import Any

import structlog
from gunicorn.http.errors import ParseException
from gunicorn.workers.gthread import _DEFER, ThreadWorker

from service import config, jsonio, metrics
from service.errors import MalformedBody, RequestTimeout

#: Codes for the statuses gunicorn answers with (400 is the contract's ``invalid_request``).
_CODES = {
    400: ("invalid_request", "The HTTP request is malformed and was not read."),
    408: (RequestTimeout.code, RequestTimeout.message),
    403: ("forbidden", "The request is forbidden."),
    414: ("uri_too_long", "The request line is longer than this server accepts."),
    417: ("expectation_failed", "The request's Expect header cannot be met."),
    431: ("request_header_fields_too_large", "The request headers are larger than allowed."),
    500: ("internal_error", "The server could not complete the request."),
    501: ("not_implemented", "The request's transfer coding is not supported."),
}

#: RFC 9110 reason phrases where Python's (RFC 7231) differ, for the statuses above.
_REASONS = {414: "URI Too Long"}

#: The part of the request each of gunicorn's parser errors is about (by exception class name).
_PARTS = {
    "InvalidRequestLine": "request line",
    "LimitRequestLine": "request line",
    "InvalidRequestMethod": "method",
    "InvalidHTTPVersion": "HTTP version",
    "InvalidHeader": "headers",
    "InvalidHeaderName": "headers",
    "LimitRequestHeaders": "headers",
    "ObsoleteFolding": "headers",
    "InvalidSchemeHeaders": "headers",
    "ExpectationFailed": "headers",
    "UnsupportedTransferCoding": "body framing",
    "InvalidChunkSize": "body framing",
    "ChunkMissingTerminator": "body framing",
    "InvalidChunkExtension": "body framing",
    "InvalidProxyLine": "PROXY protocol line",
    "ForbiddenProxyRequest": "PROXY protocol line",
}


def error_response(page: bytes, exc: BaseException | None) -> bytes:
    """The JSON error answer for the HTTP response ``page`` gunicorn would have sent."""
    status_line = page.split(b"\r\n", 1)[0].decode("latin-1")
    try:
        status = int(status_line.split(" ", 2)[1])
    except (IndexError, ValueError):
        status = 400
    # The standard reason phrase: gunicorn's page can pair a status with another's (501 "Bad
    # Request").
    try:
        reason = _REASONS.get(status) or HTTPStatus(status).phrase
    except ValueError:
        status, reason = (400, "Bad Request") if status < 500 else (500, "Internal Server Error")
    code, message = _CODES.get(status, _CODES[400 if status < 500 else 500])
    details = []
    part = _PARTS.get(type(exc).__name__) if exc is not None else None
    if part and status < 500:
        details.append({"path": "", "message": f"the {part} cannot be accepted"})
    body = jsonio.dumps({"error": {"code": code, "message": message, "details": details}})
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        # Like every answer of the app (docs/api.md); the request never got one of its own.
        f"X-Request-ID: {uuid.uuid4()}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def _count_refused(answer: bytes) -> None:
    """Count an answer the app never saw in ``/metrics`` (endpoint ``refused``)."""
    metrics.count_request("refused", "error", int(answer.split(b" ", 2)[1]))


class _JsonErrorPage:
    """The client socket as gunicorn's error-page writer sees it: what it sends is replaced."""

    def __init__(self, sock: socket.socket, exc: BaseException | None) -> None:
        self._sock = sock
        self._exc = exc

    def sendall(self, data: bytes) -> None:
        answer = error_response(bytes(data), self._exc)
        _count_refused(answer)
        self._sock.sendall(answer)

    def __getattr__(self, name: str) -> Any:  # gettimeout, setblocking, ... as the socket's
        return getattr(self._sock, name)


class ClientSocket:
    """The client socket with a total deadline on reading the current request.

    ``expect(seconds)`` arms a deadline that starts at the next ``recv`` (the first byte of a
    head is already there when the worker reads it); ``extend(seconds)`` sets it from now (the
    body, once the head is read). Every ``recv`` waits at most until the deadline, then raises
    ``RequestTimeout``; writing the answer ends the deadline (reading the request is over).
    Everything else is the socket's.
    """

    def __init__(self, sock: socket.socket, send_timeout: float) -> None:
        self._sock = sock
        self._send_timeout = send_timeout
        self._armed: float | None = None
        self._closing = False
        self.deadline: float | None = None
        self.request: Any = None

    def expect(self, seconds: float) -> None:
        self._armed, self.deadline, self.request = seconds, None, None

    def clear(self) -> None:
        self._armed = self.deadline = self.request = None

    def extend(self, seconds: float, request: Any) -> None:
        self._armed, self.deadline, self.request = None, time.monotonic() + seconds, request

    def shutdown(self, how: int) -> None:
        self._sock.shutdown(how)
        if how == socket.SHUT_WR:
            self._closing = True

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if self._closing:
            # gunicorn's graceful close (FIN sent, then wait up to 2 s for the peer's) runs on the
            # worker's main loop: a peer that never closes would stall every connection of the
            # worker. What has already arrived is read (so closing sends no RST over it); no wait.
            self._sock.setblocking(False)
            try:
                return self._sock.recv(bufsize, flags)
            except BlockingIOError:
                return b""
        if self._armed is not None:
            self.deadline, self._armed = time.monotonic() + self._armed, None
        if self.deadline is None:
            return self._sock.recv(bufsize, flags)
        remaining = self.deadline - time.monotonic()
        if remaining > 0:
            self._sock.settimeout(remaining)
            try:
                return self._sock.recv(bufsize, flags)
            except TimeoutError:
                pass
        if self.request is not None:
            self.request.force_close()  # the answer says `Connection: close`, and means it
        raise RequestTimeout()

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._armed = self.deadline = None
        self._sock.settimeout(self._send_timeout)
        self._sock.sendall(data, flags)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _GuardedBody:
    """``wsgi.input``: a broken chunked framing becomes ``MalformedBody`` (a 400) and closes."""

    def __init__(self, body: Any, request: Any) -> None:
        self._body = body
        self._request = request

    def _guard(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._body, method)(*args)
        except ParseException:
            self._request.force_close()
            raise MalformedBody() from None

    def read(self, size: int | None = None) -> bytes:
        return self._guard("read", size)

    def readline(self, size: int | None = None) -> bytes:
        return self._guard("readline", size)

    def readlines(self, size: int | None = None) -> list[bytes]:
        return self._guard("readlines", size)

    def __iter__(self) -> _GuardedBody:
        return self

    def __next__(self) -> bytes:
        return self._guard("__next__")

    def __getattr__(self, name: str) -> Any:  # failed, getsize, ... as gunicorn's Body
        return getattr(self._body, name)


class JsonErrorThreadWorker(ThreadWorker):
    """gunicorn's ``gthread`` worker with read deadlines; refusals answered in JSON."""

    head_timeout = float(config.load().head_timeout)
    body_timeout = float(config.load().body_timeout)

    def handle(self, conn: Any) -> Any:
        sock = conn.sock
        if not isinstance(sock, ClientSocket):
            sock = conn.sock = ClientSocket(sock, self.body_timeout)
        # A new connection with nothing to read yet waits in the poller, not in a thread
        # (gunicorn's own wait would hold the thread up to 5 s).
        if not conn.initialized and not conn.data_ready and not conn.wait_for_data(0):
            return _DEFER
        sock.expect(self.head_timeout)
        try:
            return super().handle(conn)
        finally:
            sock.clear()

    def handle_request(self, req: Any, conn: Any) -> Any:
        conn.sock.extend(self.body_timeout, req)
        if getattr(req, "body", None) is not None:
            req.body = _GuardedBody(req.body, req)
        return super().handle_request(req, conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        super().finish_request(conn, fs)
        # A connection that has sent nothing is closed after the head timeout (gunicorn keeps
        # it for the keep-alive time). Every pending connection gets the same window, so the
        # queue stays ordered by deadline.
        if self.pending_conns and self.pending_conns[-1] is conn:
            conn.timeout = min(conn.timeout, time.monotonic() + self.head_timeout)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        # The refused request never reached the app: its log lines must not carry the request
        # id this thread's previous request bound.
        structlog.contextvars.clear_contextvars()
        if isinstance(exc, RequestTimeout):
            self.log.warning("Request head not received in time; connection closed.")
            answer = error_response(b"HTTP/1.1 408 Request Timeout\r\n", exc)
            _count_refused(answer)
            try:
                client.sendall(answer)
            except OSError:
                self.log.debug("Failed to send the 408 answer.")
            return
        super().handle_error(req, _JsonErrorPage(client, exc), addr, exc)
