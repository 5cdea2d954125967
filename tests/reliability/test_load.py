"""Load and completeness: many concurrent clients, several gunicorn workers, one log line each.

Hundreds of decisions from concurrent clients against three gunicorn workers (each with
threads) appending to one decision log: every request is answered, every decision is logged
exactly once in the file and once on stdout, every line is valid JSON, decision ids are unique,
and the log agrees with what the clients were told.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest

from . import harness

pytestmark = pytest.mark.integration

REQUESTS = 400
CLIENTS = 32
WORKERS = 3


def test_concurrent_load_every_decision_logged_exactly_once(stack_factory, rel_bundle):
    stack = stack_factory(workers=WORKERS, threads=4)
    bodies = [harness.valid_request(i, stack.secrets) for i in range(REQUESTS)]
    outcomes = harness.run_load(stack.url, bodies, clients=CLIENTS)

    # Every request answered with a decision.
    unanswered = [o for o in outcomes if o.status != 200]
    assert not unanswered, f"{len(unanswered)} not answered 200, e.g. {unanswered[:3]}"
    for body, o in zip(bodies, outcomes, strict=True):
        harness.check_decision_shape(o.payload)
        assert o.payload["request_id"] == body["request_id"]
        assert o.payload["policy_revision"] == rel_bundle[1]
    decision_ids = [o.payload["decision_id"] for o in outcomes]
    assert not harness.duplicates(decision_ids), "decision_id reused across responses"
    allows = sum(1 for o in outcomes if o.payload["allow"])
    assert 0 < allows < REQUESTS, "the mixed stream should yield both allows and denies"

    # The gunicorn master is still the one we started, and all workers served.
    assert stack.shim.proc.poll() is None

    # The decision log file: exactly one complete JSON line per decision.
    log = harness.read_decision_log(stack.decision_log)
    assert not log.partial_tail
    assert len(log.records) == REQUESTS
    by_id = {r["decision_id"]: r for r in log.records}
    assert not harness.duplicates(r["decision_id"] for r in log.records)
    assert set(by_id) == set(decision_ids)
    assert sorted(r["request_id"] for r in log.records) == sorted(b["request_id"] for b in bodies)
    key = stack.secrets.hmac_key.encode()
    for body, o in zip(bodies, outcomes, strict=True):
        rec = by_id[o.payload["decision_id"]]
        harness.check_record(rec)
        assert rec["request_id"] == body["request_id"]
        assert rec["allow"] is o.payload["allow"]
        assert rec["basis"] == [
            {"code": b["code"], "rule": b["rule"], "citation": b["citation"]}
            for b in o.payload["basis"]
        ]
        assert rec["reasons"] == [r["code"] for r in o.payload["reasons"]]
        assert rec["policy_revision"] == rel_bundle[1]
        expected_ref = hmac.new(key, body["patient"]["id"].encode(), hashlib.sha256).hexdigest()
        assert rec["patient_ref"] == expected_ref

    # stdout carries the same records, each once, and nothing but JSON lines.
    stack.stop()
    stdout = stack.shim.stdout()
    non_json = [line for line in stdout.splitlines() if line.strip() and not _is_json(line)]
    assert not non_json, f"non-JSON lines on gunicorn stdout: {non_json[:3]}"
    on_stdout = [r["decision_id"] for r in harness.decision_records_in(stdout)]
    assert not harness.duplicates(on_stdout)
    assert set(on_stdout) == set(decision_ids)
    # OPA's own log is JSON lines too, and carries no request bodies.
    opa_lines = stack.opa.log_path.read_text().splitlines()
    assert opa_lines
    assert all(_is_json(line) for line in opa_lines)


def _is_json(line: str) -> bool:
    try:
        harness.strict_json_loads(line)
    except ValueError:
        return False
    return True
