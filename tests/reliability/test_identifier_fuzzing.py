"""The identifier fuzzing corpus against the real gunicorn + OPA stack (security round 2).

Every identifier field (request, user, organization, patient, recipient, authorization, context
ids) gets every hostile variant of tests/identifier_corpus.py: whitespace, case, Unicode
confusables, control characters. Each hostile value is a 400 naming the field and leaves no
decision record; a case variant is the same id (same decision); a revoked user is never
allowed under any disguise. A request id made from the patient id never shows it in any output
(the stack's teardown scans everything the processes printed for raw patient ids).
About 300 requests, bounded, loopback only.
"""

from __future__ import annotations

import pytest

from tests import identifier_corpus as corpus

from . import harness

pytestmark = pytest.mark.integration

REVOKED = "u-revoked-1"


@pytest.fixture(scope="module")
def fuzz(rel_bundle, tmp_path_factory):
    stack = harness.start_stack(tmp_path_factory.mktemp("idfuzz"), rel_bundle[0], workers=2)
    yield stack
    stack.stop()
    log = harness.read_decision_log(stack.decision_log)
    assert not log.partial_tail
    leaks = harness.scan_for_secrets(stack.captured_files(), stack.secrets.needles())
    assert not leaks, leaks


def _base(stack: harness.Stack) -> dict:
    body = corpus.full_request()
    pid = harness.patient_id()
    stack.secrets.patient_ids.add(pid)
    body["patient"]["id"] = pid
    body["request_id"] = harness.request_id()
    return body


def _records(stack: harness.Stack) -> list[dict]:
    return harness.read_decision_log(stack.decision_log).records


def test_every_hostile_identifier_is_a_400_naming_its_field(fuzz):
    before = len(_records(fuzz))
    wrong = []
    count = 0
    for path, variant, _value in corpus.hostile_cases():
        body = _base(fuzz)
        body = corpus.with_value(
            body, path, corpus.HOSTILE_VARIANTS_BY_NAME[variant](corpus.get(body, path))
        )
        outcome = harness.decide(fuzz.url, body)
        count += 1
        paths = []
        if isinstance(outcome.payload, dict) and isinstance(outcome.payload.get("error"), dict):
            paths = [d.get("path") for d in outcome.payload["error"].get("details", [])]
        if outcome.status != 400 or outcome.code != "invalid_request" or path not in paths:
            wrong.append((path, variant, outcome.status, outcome.code))
    assert count >= 250
    assert not wrong, wrong[:10]
    assert len(_records(fuzz)) == before


@pytest.mark.parametrize("path", corpus.IDENTIFIER_FIELDS)
def test_a_case_variant_is_the_same_identifier(fuzz, path):
    base = _base(fuzz)
    exact = harness.decide(fuzz.url, base)
    assert exact.status == 200
    for _name, make in corpus.SAME_ID_VARIANTS:
        body = corpus.with_value(base, path, make(corpus.get(base, path)))
        other = harness.decide(fuzz.url, body)
        assert other.status == 200
        for key in ("allow", "basis", "reasons", "requirements", "obligations"):
            assert other.payload[key] == exact.payload[key], (path, key)


def test_a_revoked_user_is_never_allowed_under_any_disguise(fuzz):
    variants = [REVOKED] + [make(REVOKED) for _n, make in corpus.HOSTILE_VARIANTS]
    variants += [make(REVOKED) for _n, make in corpus.SAME_ID_VARIANTS]
    allowed = []
    for user_id in variants:
        body = harness.base_request()
        fuzz.secrets.patient_ids.add(body["patient"]["id"])
        body["requester"]["user_id"] = user_id
        outcome = harness.decide(fuzz.url, body)
        if outcome.status == 200:
            assert outcome.payload["allow"] is False, user_id
            assert "ACCESS_REVOKED" in [r["code"] for r in outcome.payload["reasons"]]
        elif outcome.status != 400:
            allowed.append((user_id, outcome.status))
    assert not allowed


def test_a_request_id_made_from_the_patient_id_is_never_printed(fuzz):
    body = harness.base_request()
    pid = body["patient"]["id"]
    fuzz.secrets.patient_ids.add(pid)
    for request_id in (pid, f"portal:{pid}", pid.upper()):
        body["request_id"] = request_id
        outcome = harness.decide(fuzz.url, body)
        assert outcome.status == 200
        assert pid not in outcome.payload["request_id"]
    # The teardown scans every output (decision log, stdout, access log) for the raw id.
