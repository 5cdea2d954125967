"""Faults: OPA killed, OPA hung or frozen, the decision log unwritable, SIGTERM under load.

In every case the shim fails closed: a 503 with the fixed code, never an allow, and the
decision log stays whole (complete JSON lines, one per answered decision).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import time
from pathlib import Path

import pytest
import requests

from . import harness

pytestmark = pytest.mark.integration

# Generous slack over the configured OPA timeouts for a loaded 2-core machine: the assertion is
# "answers within the timeout budget instead of hanging", not a speed target.
SLACK_S = 4.0


def _readyz(stack: harness.Stack) -> tuple[int, str]:
    r = requests.get(stack.url + "/readyz", timeout=30)
    return r.status_code, r.text


def _records_by_request(stack: harness.Stack) -> dict[str, list[dict]]:
    log = harness.read_decision_log(stack.decision_log)
    assert not log.partial_tail, "decision log ends in a partial line"
    out: dict[str, list[dict]] = {}
    for rec in log.records:
        harness.check_record(rec)
        out.setdefault(rec["request_id"], []).append(rec)
    return out


def _assert_fail_closed(outcomes: list[harness.Outcome], code: str) -> None:
    for o in outcomes:
        assert o.status == 503, (o.status, o.payload, o.error)
        assert harness.check_error_shape(503, o.payload) == code
        assert not o.allowed


def test_opa_killed_during_load_fails_closed_and_recovers(stack_factory):
    stack = stack_factory(workers=2, threads=4)
    with harness.LoadThread(stack.url, clients=8, sink=stack.secrets) as load:
        harness.wait_for(lambda: load.count() >= 60, 60, what="load before the kill")
        kill_sent = time.monotonic()
        stack.opa.kill()  # SIGKILL and reap
        killed_at = time.monotonic()
        at_kill = load.count()
        harness.wait_for(lambda: load.count() >= at_kill + 60, 60, what="load after the kill")
    during = list(load.outcomes)

    before = [o for o in during if o.finished < kill_sent]
    assert before, "no request completed before the kill"
    assert all(o.status == 200 for o in before), [o for o in before if o.status != 200][:3]
    assert all(o.allowed for o in before), "the treatment stream should be allowed while OPA runs"

    # While OPA is down: nothing but a decision made before the kill or the fail-closed 503.
    for o in during:
        assert o.status in (200, 503), (o.status, o.payload, o.error)
        if o.status == 503:
            assert harness.check_error_shape(503, o.payload) == "policy_engine_unavailable"
    after_kill = [o for o in during if o.started > killed_at]
    assert len(after_kill) >= 50
    _assert_fail_closed(after_kill, "policy_engine_unavailable")

    status, text = _readyz(stack)
    assert status == 503, text
    assert "opa" in text.lower() or "policy" in text.lower(), text

    # OPA comes back on the same address: readiness and allows return without a shim restart.
    stack.restart_opa()
    stack.shim.wait_http("/readyz", 30)
    recovered = harness.run_load(
        stack.url, [harness.valid_request(0, stack.secrets) for _ in range(8)], clients=4
    )
    assert all(o.status == 200 and o.allowed for o in recovered), recovered[:2]

    # Every answered request (200 or 503) left exactly one complete log line.
    records = _records_by_request(stack)
    answered = [o for o in during + recovered if o.status in (200, 503)]
    assert sorted(records) == sorted(o.request_id for o in answered)
    assert all(len(v) == 1 for v in records.values())
    for o in answered:
        rec = records[o.request_id][0]
        if o.status == 503:
            assert rec["allow"] is False
            assert rec["reasons"] == ["policy_engine_unavailable"]
        else:
            assert rec["decision_id"] == o.payload["decision_id"]
            assert rec["allow"] is o.payload["allow"]


def test_hung_opa_answers_503_within_the_timeout_budget(stack_factory):
    connect_s, read_s = 0.5, 1.0
    with harness.BlackHole() as hole:
        stack = stack_factory(
            opa_url=hole.url,
            wait="/healthz",
            env={
                "HIPAA_GATE_OPA_CONNECT_TIMEOUT": str(connect_s),
                "HIPAA_GATE_OPA_READ_TIMEOUT": str(read_s),
            },
        )
        bodies = [harness.valid_request(0, stack.secrets) for _ in range(6)]
        outcomes = harness.run_load(stack.url, bodies, clients=6)
        _assert_fail_closed(outcomes, "policy_engine_unavailable")
        for o in outcomes:
            elapsed = o.finished - o.started
            # It waited for the hung peer (a read timeout cannot fire early) and then gave up.
            assert read_s * 0.9 <= elapsed < connect_s + read_s + SLACK_S, elapsed
        assert hole.accepted >= 1, "the shim never reached the hung OPA"

        started = time.monotonic()
        status, text = _readyz(stack)
        assert status == 503, text
        assert time.monotonic() - started < connect_s + read_s + SLACK_S

    records = _records_by_request(stack)
    assert sorted(records) == sorted(b["request_id"] for b in bodies)
    for [rec] in records.values():
        assert rec["allow"] is False
        assert rec["reasons"] == ["policy_engine_unavailable"]


def test_frozen_opa_sigstop_fails_closed_then_recovers(stack_factory):
    read_s = 2.0  # long enough for a loaded machine before the freeze, short enough to wait out
    stack = stack_factory(env={"HIPAA_GATE_OPA_READ_TIMEOUT": str(read_s)})
    first = harness.decide(stack.url, harness.valid_request(0, stack.secrets))
    assert first.status == 200
    assert first.allowed
    stack.opa.signal(signal.SIGSTOP)
    try:
        bodies = [harness.valid_request(0, stack.secrets) for _ in range(4)]
        outcomes = harness.run_load(stack.url, bodies, clients=4)
        _assert_fail_closed(outcomes, "policy_engine_unavailable")
        for o in outcomes:
            assert o.finished - o.started < 0.25 + read_s + SLACK_S
        status, text = _readyz(stack)
        assert status == 503, text
    finally:
        stack.opa.signal(signal.SIGCONT)
    stack.shim.wait_http("/readyz", 30)
    again = harness.decide(stack.url, harness.valid_request(0, stack.secrets))
    assert again.status == 200
    assert again.allowed


def test_full_decision_log_denies_with_503(stack_factory):
    # /dev/full accepts the open and fails every write with ENOSPC: a full disk.
    stack = stack_factory(decision_log=Path("/dev/full"), wait="/healthz")
    bodies = [harness.valid_request(0, stack.secrets) for _ in range(12)]
    outcomes = harness.run_load(stack.url, bodies, clients=6)
    _assert_fail_closed(outcomes, "decision_log_unavailable")
    # The same requests are allowed once the log is writable: the 503s above came from the log.
    good = stack_factory(secrets_=stack.secrets)
    allowed = harness.run_load(good.url, bodies, clients=6)
    assert all(o.status == 200 and o.allowed for o in allowed)


def test_readiness_reports_a_full_decision_log(stack_factory):
    """Contract §2: /readyz is 200 only if the decision log is writable. /dev/full can be opened
    but not written: once a record has failed to go out, the instance must not report ready
    (a load balancer would keep sending it traffic that it can only refuse)."""
    stack = stack_factory(decision_log=Path("/dev/full"), wait="/healthz")
    o = harness.decide(stack.url, harness.valid_request(0, stack.secrets))
    assert o.status == 503
    assert o.code == "decision_log_unavailable"
    status, text = _readyz(stack)
    assert status == 503, text
    assert "log" in text.lower(), text


def test_a_partial_record_write_leaves_no_fragment_in_the_log(stack_factory):
    """The disk fills in the middle of a record (here: a file-size limit put on the worker, so
    write(2) stores only part of the line). The request is denied with the fixed 503, and the
    fragment must not stay in the file, where it would fuse with the next record into a line
    that is not JSON (losing that decision's record too)."""
    stack = stack_factory(workers=1, threads=1, pipe_output=True)
    first = harness.decide(stack.url, harness.valid_request(0, stack.secrets))
    assert first.status == 200
    size = stack.decision_log.stat().st_size
    workers = [p for p in stack.shim.child_pids() if p != stack.shim.proc.pid]
    assert len(workers) == 1
    _soft, hard = resource.prlimit(workers[0], resource.RLIMIT_FSIZE)
    resource.prlimit(workers[0], resource.RLIMIT_FSIZE, (size + 300, hard))
    try:
        cut = harness.decide(stack.url, harness.valid_request(0, stack.secrets))
    finally:
        resource.prlimit(workers[0], resource.RLIMIT_FSIZE, (hard, hard))
    assert cut.status == 503, (cut.status, cut.payload)
    assert cut.code == "decision_log_unavailable"
    after = harness.decide(stack.url, harness.valid_request(0, stack.secrets))
    assert after.status == 200
    records = _records_by_request(stack)  # every line complete JSON
    assert sorted(records) == sorted([first.request_id, after.request_id])


def test_full_disk_under_the_log_and_stdout_is_still_a_503(stack_factory):
    """`hipaa-gate serve >> /var/log/hipaa-gate.out` with the decision log on the same disk: when
    that disk is full, writing the record fails and so does every diagnostic line on stdout.
    The answer must still be the contract's 503 `decision_log_unavailable` (a failed diagnostic
    write must not turn it into a 500). Here stdout goes to a file, as the harness captures it,
    and a file-size limit at the log's current size makes both writes fail."""
    stack = stack_factory(workers=1, threads=1)
    first = harness.decide(stack.url, harness.valid_request(0, stack.secrets))
    assert first.status == 200
    size = stack.decision_log.stat().st_size
    workers = [p for p in stack.shim.child_pids() if p != stack.shim.proc.pid]
    assert len(workers) == 1
    assert stack.shim.stdout_path.stat().st_size > size  # stdout is past the limit as well
    _soft, hard = resource.prlimit(workers[0], resource.RLIMIT_FSIZE)
    resource.prlimit(workers[0], resource.RLIMIT_FSIZE, (size, hard))
    try:
        bodies = [harness.valid_request(0, stack.secrets) for _ in range(3)]
        full = [harness.decide(stack.url, body) for body in bodies]
    finally:
        resource.prlimit(workers[0], resource.RLIMIT_FSIZE, (hard, hard))
    _assert_fail_closed(full, "decision_log_unavailable")
    after = harness.decide(stack.url, harness.valid_request(0, stack.secrets))
    assert after.status == 200
    assert sorted(_records_by_request(stack)) == sorted([first.request_id, after.request_id])


def test_decision_log_directory_removed_denies_until_it_is_back(stack_factory, tmp_path):
    logdir = tmp_path / "logdir"
    logdir.mkdir()
    stack = stack_factory(decision_log=logdir / "decisions.jsonl")
    ok = harness.run_load(stack.url, [harness.valid_request(0, stack.secrets)] * 3, clients=3)
    assert all(o.status == 200 and o.allowed for o in ok)

    shutil.rmtree(logdir)
    bodies = [harness.valid_request(0, stack.secrets) for _ in range(10)]
    outcomes = harness.run_load(stack.url, bodies, clients=5)
    _assert_fail_closed(outcomes, "decision_log_unavailable")
    status, text = _readyz(stack)
    assert status == 503, text
    assert "log" in text.lower(), text

    logdir.mkdir()
    stack.shim.wait_http("/readyz", 30)
    back = harness.decide(stack.url, harness.valid_request(0, stack.secrets))
    assert back.status == 200
    assert back.allowed
    records = _records_by_request(stack)
    assert list(records) == [back.request_id], "the recreated file holds exactly the new record"


def _send_half_request(port: int, body: bytes) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = (
        "POST /v1/disclosures/decide HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    half = len(body) // 2
    sock.sendall(head + body[:half])
    return sock, body[half:]


def _read_http_response(sock: socket.socket) -> tuple[int, dict]:
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            break
        chunks.append(data)
    sock.close()
    raw = b"".join(chunks)
    head, _, payload = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, harness.strict_json_loads(payload)


def test_sigterm_during_load_completes_in_flight_requests(stack_factory):
    stack = stack_factory(workers=2, threads=4)
    held_body = harness.valid_request(0, stack.secrets)
    # A request that is in flight when SIGTERM arrives: headers and half of the body are in.
    sock, rest = _send_half_request(stack.shim.port, json.dumps(held_body).encode())
    time.sleep(0.5)
    with harness.LoadThread(stack.url, clients=6, sink=stack.secrets) as load:
        harness.wait_for(lambda: load.count() >= 40, 60, what="load before SIGTERM")
        stack.shim.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        sock.sendall(rest)
        status, payload = _read_http_response(sock)
        exit_code = stack.shim.proc.wait(timeout=60)
    assert status == 200, payload
    harness.check_decision_shape(payload)
    assert exit_code == 0
    assert stack.shim.child_pids() == [], "gunicorn left processes behind"

    during = list(load.outcomes)
    for o in during:
        # Served, or refused at the door once the listener closed; never a broken answer.
        assert o.status == 200 or (o.status is None and o.error), (o.status, o.payload)
    served = [o for o in during if o.status == 200]
    assert len(served) >= 40

    records = _records_by_request(stack)  # also: no partial line at the end
    expected = sorted([held_body["request_id"], *(o.request_id for o in served)])
    assert sorted(records) == expected
    assert all(len(v) == 1 for v in records.values())


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_serve_sigterm_under_load_stops_gunicorn_then_opa_cleanly(tmp_path):
    """`hipaa-gate serve` (the production entry point: OPA + gunicorn, supervised) under load:
    SIGTERM completes the in-flight requests and both processes exit cleanly, in order."""
    sec = harness.Secrets()
    opa_port = harness.free_port()
    log = tmp_path / "decisions.jsonl"
    shim = harness.Shim(
        tmp_path,
        {
            "HIPAA_GATE_OPA_ADDR": f"127.0.0.1:{opa_port}",
            "HIPAA_GATE_BUILD_DIR": str(tmp_path / "build"),
            "HIPAA_GATE_DECISION_LOG": str(log),
            "HIPAA_GATE_PATIENT_REF_KEY": sec.hmac_key,
            "HIPAA_GATE_WORKERS": "2",
            "HIPAA_GATE_THREADS": "4",
            "HIPAA_GATE_GRACEFUL_TIMEOUT": "20",
        },
        argv=[str(harness.HIPAA_GATE), "serve"],
    )
    tree: set[int] = set()
    try:
        shim.start(wait="/readyz", timeout=90)
        # OPA, the gunicorn master and both workers (the second may still be booting).
        harness.wait_for(
            lambda: len(harness.descendants(shim.proc.pid)) >= 4, 60, what="serve's processes"
        )
        tree = harness.descendants(shim.proc.pid)
        commands = {p: Path(f"/proc/{p}/cmdline").read_bytes() for p in tree}
        opa_pids = [p for p, cmd in commands.items() if b"--server" in cmd]
        assert len(opa_pids) == 1
        # Everything serve started listens on exactly the two configured loopback sockets.
        assert harness.listening_sockets(tree | {shim.proc.pid}) == {
            ("127.0.0.1", shim.port),
            ("127.0.0.1", opa_port),
        }

        held_body = harness.valid_request(0, sec)
        sock, rest = _send_half_request(shim.port, json.dumps(held_body).encode())
        time.sleep(0.5)
        with harness.LoadThread(shim.url, clients=6, sink=sec) as load:
            harness.wait_for(lambda: load.count() >= 40, 60, what="load before SIGTERM")
            shim.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            sock.sendall(rest)
            status, payload = _read_http_response(sock)
            exit_code = shim.proc.wait(timeout=60)
        assert status == 200, payload
        assert payload["allow"] is True
        assert exit_code == 0
        harness.wait_for(lambda: not any(_alive(p) for p in tree), 20, what="children to exit")
    finally:
        for pid in tree:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        shim.stop()

    during = list(load.outcomes)
    for o in during:
        assert o.status == 200 or (o.status is None and o.error), (o.status, o.payload)
    served = [o for o in during if o.status == 200]
    assert len(served) >= 40
    records = harness.read_decision_log(log)
    assert not records.partial_tail
    by_request = sorted(r["request_id"] for r in records.records)
    assert by_request == sorted([held_body["request_id"], *(o.request_id for o in served)])

    # OPA outlived gunicorn's drain (the held request was decided after SIGTERM, above) and then
    # shut down gracefully itself.
    lines = [harness.strict_json_loads(x) for x in shim.output().splitlines() if x.strip()]
    assert any(line.get("msg") == "Server shutdown." for line in lines)  # every line is JSON, too
    files = [p for p in tmp_path.rglob("*") if p.is_file() and "build" not in p.parts]
    assert harness.scan_for_secrets(files, sec.needles()) == []
