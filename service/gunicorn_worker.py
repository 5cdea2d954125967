"""gunicorn's gthread worker, answering the requests it refuses itself in the API's JSON shape.

gunicorn refuses a malformed or oversized request head (request line, headers, body framing)
before the app runs, with an HTML page that quotes the offending input. Gateways get the contract's
error shape instead (``{"error": {"code", "message", "details"}}``, docs/api.md (errors)) with the
status gunicorn chose, naming the part of the request that was refused and never echoing it.
gunicorn still decides what to refuse and with which status: only the page it writes is replaced.
"""

from __future__ import annotations

import socket
import uuid
from http import HTTPStatus
from typing import Any

import structlog
from gunicorn.workers.gthread import ThreadWorker

from service import jsonio

#: Codes for the statuses gunicorn answers with (400 is the contract's ``invalid_request``).
_CODES = {
    400: ("invalid_request", "The HTTP request is malformed and was not read."),
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


class _JsonErrorPage:
    """The client socket as gunicorn's error-page writer sees it: what it sends is replaced."""

    def __init__(self, sock: socket.socket, exc: BaseException | None) -> None:
        self._sock = sock
        self._exc = exc

    def sendall(self, data: bytes) -> None:
        self._sock.sendall(error_response(bytes(data), self._exc))

    def __getattr__(self, name: str) -> Any:  # gettimeout, setblocking, ... as the socket's
        return getattr(self._sock, name)


class JsonErrorThreadWorker(ThreadWorker):
    """gunicorn's ``gthread`` worker; only the error page of a refused request changes."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        # The refused request never reached the app: its log lines must not carry the request
        # id this thread's previous request bound.
        structlog.contextvars.clear_contextvars()
        super().handle_error(req, _JsonErrorPage(client, exc), addr, exc)
