"""Reading a JSON request body strictly: transfer coding, size limit, media type, UTF-8, JSON."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from service.errors import (
    InvalidJson,
    RequestTooLarge,
    TransferCodingNotImplemented,
    UnsupportedMediaType,
    pointer,
)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


#: A ``\\uD800``-``\\uDFFF`` escape: the only way a JSON text can hold a string UTF-8 cannot encode.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


_NOT_UNICODE = "not Unicode text (lone surrogate)"


def _lone_surrogates(value: Any, path: tuple[str, ...] = ()) -> list[str]:
    """JSON Pointers of the strings (keys included) in ``value`` that hold a lone surrogate."""
    found: list[str] = []
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # The pointer names the field; the offending key itself is shown escaped.
            found.append(pointer([p.encode("utf-8", "backslashreplace").decode() for p in path]))
    elif isinstance(value, dict):
        for key, item in value.items():
            found += _lone_surrogates(key, (*path, key)) or _lone_surrogates(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _lone_surrogates(item, (*path, str(index)))
    return found


def parse_json(data: bytes) -> Any:
    """Strict JSON: UTF-8 only, no NaN/Infinity, no duplicate keys, no lone surrogates."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJson("The request body is not valid UTF-8.") from None
    try:
        parsed = json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys
        )
    except RecursionError:
        raise InvalidJson("The request body is nested too deeply.") from None
    except ValueError as exc:
        reason = str(exc).split(":")[0] if "duplicate key" not in str(exc) else "duplicate key"
        raise InvalidJson(f"The request body is not valid JSON ({reason}).") from None
    # A string escaping half of a UTF-16 surrogate pair is not Unicode text (RFC 8259 §8.2,
    # I-JSON RFC 7493 §2.1): no id, name or code can hold one, and UTF-8 (the HMAC of the patient
    # id, the decision log) cannot encode it. Most bodies hold no such escape at all.
    if _SURROGATE_ESCAPE.search(text):
        paths = _lone_surrogates(parsed)
        if paths:
            raise InvalidJson(
                "The request body holds a string with a lone UTF-16 surrogate escape.",
                details=[
                    {"path": p, "message": "not Unicode text (lone surrogate)"} for p in paths
                ],
            )
    return parsed


def read_json(request: Request, max_bytes: int) -> Any:
    """The parsed body, or the matching ``ApiError`` (501, 413, 415, 400 ``invalid_json``).

    Checks run in the documented order: transfer coding, size, media type (and no
    ``Content-Encoding`` other than ``identity``), then UTF-8 and JSON.
    A chunked body has no declared size, so it is read (at most ``max_bytes``) before its media
    type is judged.
    """
    codings = request.headers.get("Transfer-Encoding", "")
    if codings and any(c.strip(" \t").lower() not in _PASSED_CODINGS for c in codings.split(",")):
        # gunicorn refuses a coding it does not know, and one that is not followed by chunked;
        # it passes e.g. `gzip, chunked` on after undoing only the chunking.
        raise TransferCodingNotImplemented()
    if request.content_length is not None and request.content_length > max_bytes:
        raise RequestTooLarge(f"The request body is larger than {max_bytes} bytes.")
    data = _read_body(request, max_bytes) if request.content_length is None else None
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()
    codings = request.headers.get("Content-Encoding", "")
    if any(c.strip(" \t").lower() not in ("", "identity") for c in codings.split(",")):
        # A compressed body would be read as bytes that are not JSON (a misleading 400).
        raise UnsupportedMediaType(
            "Content-Encoding is not supported: send the body as plain application/json."
        )
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.lower().replace("-", "") != "utf8":
        raise UnsupportedMediaType("The request body must be UTF-8 encoded application/json.")
    if data is None:
        data = _read_body(request, max_bytes)
    if not data:
        raise InvalidJson("The request body is empty.")
    return parse_json(data)


#: Transfer codings the server undoes before the app reads the body.
_PASSED_CODINGS = frozenset({"chunked", "identity"})


def _read_body(request: Request, max_bytes: int) -> bytes:
    try:
        # MAX_CONTENT_LENGTH makes werkzeug stop reading (chunked bodies too) past the limit.
        data = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise RequestTooLarge(f"The request body is larger than {max_bytes} bytes.") from None
    if len(data) > max_bytes:
        raise RequestTooLarge(f"The request body is larger than {max_bytes} bytes.")
    return data
