"""Reading a JSON request body strictly: size limit first, then media type, UTF-8 and JSON."""

from __future__ import annotations

import json
from typing import Any

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from service.errors import InvalidJson, RequestTooLarge, UnsupportedMediaType


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def parse_json(data: bytes) -> Any:
    """Strict JSON: UTF-8 only, no NaN/Infinity, no duplicate keys."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJson("The request body is not valid UTF-8.") from None
    try:
        return json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys
        )
    except RecursionError:
        raise InvalidJson("The request body is nested too deeply.") from None
    except ValueError as exc:
        reason = str(exc).split(":")[0] if "duplicate key" not in str(exc) else "duplicate key"
        raise InvalidJson(f"The request body is not valid JSON ({reason}).") from None


def read_json(request: Request, max_bytes: int) -> Any:
    """The parsed body, or the matching ``ApiError`` (413, 415, 400 ``invalid_json``)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise RequestTooLarge(f"The request body is larger than {max_bytes} bytes.")
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.lower().replace("-", "") != "utf8":
        raise UnsupportedMediaType("The request body must be UTF-8 encoded application/json.")
    try:
        # MAX_CONTENT_LENGTH makes werkzeug stop reading (chunked bodies too) past the limit.
        data = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise RequestTooLarge(f"The request body is larger than {max_bytes} bytes.") from None
    if len(data) > max_bytes:
        raise RequestTooLarge(f"The request body is larger than {max_bytes} bytes.")
    if not data:
        raise InvalidJson("The request body is empty.")
    return parse_json(data)
