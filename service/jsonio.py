"""JSON on the hot path: orjson, with the standard library where orjson refuses the value.

orjson encodes and decodes several times faster than ``json`` (the decision request's OPA
input, OPA's answer, the decision record and the response are each a few kilobytes). It refuses
integers beyond 64 bits, which the standard library writes exactly: such a value (none passes
the request schema today) is then encoded by ``json``, so nothing that was accepted before is
refused now; nor does a string holding a lone surrogate (a JSON string may escape one, UTF-8
cannot encode it), which the standard library writes as a backslash-u escape. NaN and infinities
never get here (request bodies refuse them).
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider


def dumps(value: Any, **_ignored: Any) -> bytes:
    """Compact UTF-8 JSON, keys in insertion order (keyword arguments, e.g. structlog's
    ``JSONRenderer`` passing ``default``, are ignored: every value here is plain JSON)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        # Backslash-u escapes only: a lone surrogate (valid in a JSON string, not in UTF-8) stays
        # representable.
        return json.dumps(value, allow_nan=False, separators=(",", ":")).encode("ascii")


loads = orjson.loads


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON provider with ``jsonify`` bodies encoded by orjson (compact, keys in order)."""

    sort_keys = False
    compact = True

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        try:
            return orjson.dumps(obj).decode("utf-8")
        except TypeError:  # a value orjson refuses: Flask's own encoder (and its ``default``)
            return super().dumps(obj, **kwargs)
