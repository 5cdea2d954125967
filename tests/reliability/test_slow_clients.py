"""Slow and broken clients against the real gunicorn + OPA stack (security round 2, defect 3).

Slowloris (half a request head, then silence), a head dripped byte by byte, a body that stalls,
connections opened and never used (half-open), malformed and truncated chunked bodies. Each
holds a worker thread at most the configured head or body timeout, gets a JSON 408 (or 400 for a
malformed body) in the contract's shape, and never keeps a decision from being answered.
Bounded: at most a dozen sockets per test, loopback only, free ports; every wait has a limit.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time

import pytest

from . import harness

pytestmark = pytest.mark.integration

HEAD_TIMEOUT = 2
BODY_TIMEOUT = 2
#: Generous bounds for liveness on a loaded 2-core machine (never speed assertions).
ANSWER_WITHIN = 30


@pytest.fixture(scope="module")
def slow(rel_bundle, tmp_path_factory):
    # One worker with two threads: two stuck connections would be enough to starve it.
    stack = harness.start_stack(
        tmp_path_factory.mktemp("slow"),
        rel_bundle[0],
        workers=1,
        threads=2,
        env={
            "HIPAA_GATE_HEAD_TIMEOUT": str(HEAD_TIMEOUT),
            "HIPAA_GATE_BODY_TIMEOUT": str(BODY_TIMEOUT),
        },
    )
    yield stack
    stack.stop()
    leaks = harness.scan_for_secrets(stack.captured_files(), stack.secrets.needles())
    assert not leaks, leaks


def _connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _response(sock: socket.socket) -> tuple[int | None, dict, bytes]:
    """(status, headers, body) of one response; (None, {}, b"") when the server only closed."""
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    if b"\r\n\r\n" not in data:
        return None, {}, b""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split(" ")[1]), headers, body


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, TimeoutError):
        return False


def _head(port: int, extra: str = "", length: int | None = None) -> bytes:
    framing = f"Content-Length: {length}\r\n" if length is not None else ""
    return (
        "POST /v1/disclosures/decide HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n{framing}{extra}\r\n"
    ).encode()


def _refused_count(stack: harness.Stack, code: str) -> float:
    import requests

    text = requests.get(stack.url + "/metrics", timeout=ANSWER_WITHIN).text
    total = 0.0
    for line in text.splitlines():
        labels = ('endpoint="refused"', f'code="{code}"')
        if line.startswith("hipaa_gate_requests_total{") and all(x in line for x in labels):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _check_timeout_answer(sock: socket.socket) -> None:
    status, headers, body = _response(sock)
    assert status == 408, (status, body)
    assert headers["content-type"] == "application/json"
    assert headers.get("connection") == "close"
    assert headers.get("x-request-id")
    assert json.loads(body)["error"]["code"] == "request_timeout"
    assert _closed(sock)


def _decide_answered(stack: harness.Stack) -> harness.Outcome:
    outcome = harness.decide(
        stack.url, harness.valid_request(0, stack.secrets), timeout=ANSWER_WITHIN
    )
    assert outcome.status == 200, (outcome.status, outcome.error, outcome.payload)
    return outcome


def test_slowloris_half_heads_do_not_starve_decisions(slow):
    port = slow.shim.port
    refused = _refused_count(slow, "408")
    socks = [_connect(port) for _ in range(8)]
    try:
        for s in socks:
            s.sendall(b"POST /v1/disclosures/decide HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.5)  # let both threads pick up half-sent heads
        _decide_answered(slow)
        for s in socks:
            _check_timeout_answer(s)
    finally:
        for s in socks:
            s.close()
    # Answers the app never saw are counted too (one worker: its counters are the endpoint's).
    assert _refused_count(slow, "408") == refused + len(socks)


def test_a_head_dripped_byte_by_byte_is_cut_off_at_the_head_timeout(slow):
    port = slow.shim.port
    s = _connect(port)
    try:
        head = _head(port, "X-Padding: " + "a" * 200 + "\r\n", length=2)
        started = time.monotonic()
        sent = 0
        # One byte every 0.25 s: each recv sees data in time; only a total deadline stops it.
        while sent < len(head) and time.monotonic() - started < HEAD_TIMEOUT + 6:
            # Stop once the server has answered: bytes sent after its close would draw a reset
            # that can discard the answer before it is read.
            if select.select([s], [], [], 0)[0]:
                break
            try:
                s.sendall(head[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
            time.sleep(0.25)
        assert sent < len(head), "the server waited for the whole dripped head"
        _check_timeout_answer(s)
    finally:
        s.close()


def test_a_stalled_body_is_a_408_and_leaves_no_record(slow):
    port = slow.shim.port
    before = len(harness.read_decision_log(slow.decision_log).records)
    socks = [_connect(port) for _ in range(4)]
    try:
        for s in socks:
            s.sendall(_head(port, length=500) + b'{"requester": ')
        _decide_answered(slow)
        for s in socks:
            _check_timeout_answer(s)
    finally:
        for s in socks:
            s.close()
    assert len(harness.read_decision_log(slow.decision_log).records) == before + 1


def test_half_open_connections_hold_no_thread_and_are_closed(slow):
    port = slow.shim.port
    socks = [_connect(port) for _ in range(12)]  # connect, send nothing
    try:
        _decide_answered(slow)
        _decide_answered(slow)
        # Closed by the server after the head timeout, not kept for the keep-alive time (75 s).
        for s in socks:
            s.settimeout(HEAD_TIMEOUT + 10)
            assert _closed(s)
    finally:
        for s in socks:
            s.close()


def test_a_malformed_chunked_body_gets_a_400(slow):
    port = slow.shim.port
    for body in (b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n", b"-1\r\n{}\r\n0\r\n\r\n"):
        s = _connect(port)
        try:
            s.sendall(_head(port, "Transfer-Encoding: chunked\r\n") + body)
            status, headers, payload = _response(s)
            assert status == 400, (body, status, payload)
            assert json.loads(payload)["error"]["code"] in {"invalid_request", "invalid_json"}
            assert headers.get("x-request-id")
        finally:
            s.close()
    _decide_answered(slow)


def test_a_truncated_chunked_body_is_a_408(slow):
    port = slow.shim.port
    s = _connect(port)
    try:
        s.sendall(_head(port, "Transfer-Encoding: chunked\r\n") + b'40\r\n{"requester"')
        _check_timeout_answer(s)
    finally:
        s.close()
    _decide_answered(slow)


def test_clients_that_never_close_after_an_answer_do_not_stall_the_worker(slow):
    """gunicorn lingers up to 2 s for the peer's FIN when it closes a connection, on the worker's
    main loop: 20 clients that ask for `Connection: close` (no token needed) and then neither
    read nor close stalled every request of the worker for 40 s."""
    port = slow.shim.port
    socks = [_connect(port) for _ in range(20)]
    try:
        for s in socks:
            head = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            s.sendall(head.encode())
        time.sleep(0.5)
        _decide_answered(slow)
        for s in socks:
            status, _headers, _body = _response(s)
            assert status == 200
    finally:
        for s in socks:
            s.close()
