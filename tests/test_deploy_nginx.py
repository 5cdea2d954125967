"""deploy/nginx/hipaa-gate.conf, the buffering proxy example, agrees with the shim's limits."""

from __future__ import annotations

import re
from pathlib import Path

from service.config import DEFAULTS

CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "hipaa-gate.conf"


def _directives() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    text = re.sub(r"#[^\n]*", "", CONF.read_text(encoding="utf-8"))
    for match in re.finditer(r"^\s*([a-z_0-9]+)\s+([^;{]*);", text, re.MULTILINE):
        found.setdefault(match.group(1), []).append(match.group(2).strip())
    return found


def _seconds(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(s|m)?", value).groups()
    return int(number) * (60 if unit == "m" else 1)


def _bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmM])?", value).groups()
    return int(number) * {None: 1, "k": 1024, "K": 1024, "m": 1 << 20, "M": 1 << 20}[unit]


def test_the_proxy_buffers_whole_requests_and_never_resends_them():
    d = _directives()
    assert d["proxy_request_buffering"] == ["on"]
    assert d["proxy_next_upstream"] == ["off"]
    assert d["proxy_http_version"] == ["1.1"]


def test_the_proxy_is_at_least_as_strict_as_the_shim():
    d = _directives()
    assert _seconds(d["client_header_timeout"][0]) <= DEFAULTS["HEAD_TIMEOUT"]
    assert _seconds(d["client_body_timeout"][0]) <= DEFAULTS["BODY_TIMEOUT"]
    assert _bytes(d["client_max_body_size"][0]) <= DEFAULTS["MAX_BODY_BYTES"]
    assert _bytes(d["client_body_buffer_size"][0]) >= _bytes(d["client_max_body_size"][0])


def test_the_proxy_closes_idle_upstream_connections_before_the_shim_does():
    upstream = [v for v in _directives()["keepalive_timeout"]]
    # The first is the upstream block's (to the shim), the second the clients'.
    assert _seconds(upstream[0]) < DEFAULTS["KEEPALIVE"]


def test_the_access_log_holds_no_query_string_or_client_address():
    d = _directives()
    fmt = " ".join(d["log_format"])
    assert "$request_uri" not in fmt
    assert "$args" not in fmt
    assert "$remote_addr" not in fmt
    assert all(line.endswith(" hipaa_gate") for line in d["access_log"])
