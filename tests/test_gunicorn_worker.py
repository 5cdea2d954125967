"""The JSON answers for requests gunicorn refuses itself, and the redacted refusal log line.

The refusals themselves, through a real gunicorn, are in tests/reliability/test_hostile_input.py.
"""

from __future__ import annotations

import json
import uuid

import pytest
from gunicorn.http.errors import InvalidHTTPVersion, LimitRequestLine, UnsupportedTransferCoding

from service.log_config import refusal_kind
from service.server.worker import error_response


def _split(answer: bytes) -> tuple[str, dict[str, str], dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines)}
    assert int(headers["content-length"]) == len(body)
    return status_line, headers, json.loads(body)


def _page(status: str) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html>".encode()
    )


def test_deny_malformed_version_answers_invalid_request_naming_the_part():
    status, headers, body = _split(
        error_response(_page("400 Bad Request"), InvalidHTTPVersion("HTTP/9.9"))
    )
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert body == {
        "error": {
            "code": "invalid_request",
            "message": "The HTTP request is malformed and was not read.",
            "details": [{"path": "", "message": "the HTTP version cannot be accepted"}],
        }
    }


def test_deny_unsupported_coding_is_501_with_its_own_reason_and_a_request_id():
    # gunicorn writes "501 Bad Request" for a transfer coding it does not know.
    status, headers, body = _split(
        error_response(_page("501 Bad Request"), UnsupportedTransferCoding("br"))
    )
    assert status == "HTTP/1.1 501 Not Implemented"
    assert body["error"]["code"] == "not_implemented"
    assert uuid.UUID(headers["x-request-id"]).version == 4
    _, again, _ = _split(error_response(_page("400 Bad Request"), None))
    assert again["x-request-id"] != headers["x-request-id"]


def test_deny_long_request_line_keeps_gunicorns_status():
    status, _, body = _split(
        error_response(_page("414 URI Too Long"), LimitRequestLine(5000, 4094))
    )
    assert status == "HTTP/1.1 414 URI Too Long"
    assert body["error"]["code"] == "uri_too_long"
    assert body["error"]["details"] == [
        {"path": "", "message": "the request line cannot be accepted"}
    ]


def test_deny_server_error_has_no_details():
    status, _, body = _split(error_response(_page("500 Internal Server Error"), RuntimeError("x")))
    assert status == "HTTP/1.1 500 Internal Server Error"
    assert body == {
        "error": {
            "code": "internal_error",
            "message": "The server could not complete the request.",
            "details": [],
        }
    }


@pytest.mark.parametrize(
    ("page", "status", "code"),
    [
        (_page("418 I'm a teapot"), "HTTP/1.1 418 I'm a Teapot", "invalid_request"),
        (_page("502 Bad Gateway"), "HTTP/1.1 502 Bad Gateway", "internal_error"),
        (_page("499 Client Closed"), "HTTP/1.1 400 Bad Request", "invalid_request"),
        (_page("599 Odd"), "HTTP/1.1 500 Internal Server Error", "internal_error"),
        (b"garbage", "HTTP/1.1 400 Bad Request", "invalid_request"),
    ],
)
def test_deny_unknown_or_unreadable_status_falls_back_by_class(page, status, code):
    got_status, _, body = _split(error_response(page, None))
    assert (got_status, body["error"]["code"], body["error"]["details"]) == (status, code, [])


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("Invalid HTTP Version: 'HTTP/9.9 SYNTHMARK'", "Invalid HTTP Version"),
        ("Request Line is too large (5013 > 4094)", "Request Line is too large"),
        ("limit request headers fields size", "limit request headers fields size"),
        ("Invalid HTTP Header: 'X SYNTHMARK'", "Invalid HTTP Header"),
        ("'SYNTHMARK'", "malformed request"),
        ("x" * 200, "x" * 80),
    ],
)
def test_refusal_kind_drops_the_quoted_input(error, kind):
    assert refusal_kind(error) == kind
