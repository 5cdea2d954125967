"""Idle keep-alive connections: the gateway, not the shim, closes a pooled connection.

A gateway reuses an idle pooled connection without warning. If the shim closed it first, the
gateway's next request can cross the close and fail with a reset, and a POST is not retried:
`make bench` saw one such reset with gunicorn's 5 s keep-alive. The shim keeps idle connections
for ``HIPAA_GATE_KEEPALIVE`` seconds (75 by default), longer than gateways' usual 60 s.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from . import harness

pytestmark = pytest.mark.integration


def _request(port: int, body: dict) -> bytes:
    return harness.raw_decide_request(port, json.dumps(body).encode())


def _status(head: bytes | None) -> bytes | None:
    return None if head is None else head.split(b" ")[1]


def test_allow_a_pooled_connection_idle_longer_than_gunicorns_default_serves_the_next_request(
    stack_factory,
):
    stack = stack_factory()
    port = stack.shim.port
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(_request(port, harness.valid_request(0, stack.secrets)))
        first = harness.read_one_response(sock)
        assert _status(first) == b"200", first
        assert b"connection: close" not in first.lower()
        time.sleep(6)  # gunicorn's own default closes an idle connection after 5 s
        try:
            sock.sendall(_request(port, harness.valid_request(1, stack.secrets)))
            second = harness.read_one_response(sock)
        except OSError as exc:  # reset by the shim
            second = type(exc).__name__.encode()
    assert _status(second) == b"200", second


def test_deny_keep_alive_beyond_the_configured_idle_time(stack_factory):
    """HIPAA_GATE_KEEPALIVE reaches gunicorn: past it the shim closes the idle connection."""
    stack = stack_factory(env={"HIPAA_GATE_KEEPALIVE": "1"})
    port = stack.shim.port
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(_request(port, harness.valid_request(0, stack.secrets)))
        assert _status(harness.read_one_response(sock)) == b"200"
        started = time.monotonic()
        sock.settimeout(10)
        try:
            closed_by_shim = sock.recv(1) == b""  # blocks until the shim closes the connection
        except ConnectionResetError:
            closed_by_shim = True
        waited = time.monotonic() - started
    assert closed_by_shim
    assert waited < 5, f"the idle connection was closed only after {waited:.1f} s"
