"""POST /v1/disclosures/decide against the real OPA: shape, server-side facts, decision log."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from service.records.patient_ref import DEVELOPMENT_KEY, patient_ref
from tests.conftest import SAMPLE_PATIENT_ID, TEST_NOW, fixed_clock, read_log, request_body
from tests.contract import LOG_FIELDS

DECIDE = "/v1/disclosures/decide"
RESPONSE_KEYS = {
    "decision_id",
    "request_id",
    "allow",
    "basis",
    "reasons",
    "requirements",
    "obligations",
    "minimum_necessary",
    "jurisdictions",
    "policy_revision",
    "evaluated_at",
}
RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def p1_treatment():
    """Rule P1: treatment, to a provider, MFA done."""
    return request_body()


def s1_no_mfa():
    """Rule S1: MFA missing."""
    body = request_body()
    body["requester"]["mfa"] = False
    return body


def decide(client, body):
    resp = client.post(DECIDE, json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp, resp.get_json()


def codes(items):
    return {item["code"] for item in items}


def test_p1_treatment_to_a_provider_is_allowed(client, opa_server):
    _resp, body = decide(client, p1_treatment())
    assert set(body) >= RESPONSE_KEYS
    assert body["allow"] is True
    assert "TREATMENT" in codes(body["basis"])
    assert body["reasons"] == []
    assert all({"code", "citation", "summary"} <= set(b) for b in body["basis"])
    assert body["policy_revision"] == opa_server.revision
    assert "CA" in body["jurisdictions"]
    assert set(body["minimum_necessary"]["permitted_elements"]) <= {"problem_list", "medications"}


def test_s1_missing_mfa_is_denied(client):
    _resp, body = decide(client, s1_no_mfa())
    assert body["allow"] is False
    assert "MFA_REQUIRED" in codes(body["reasons"])
    assert "COMPLETE_MFA" in codes(body["requirements"])
    assert all({"code", "citation", "message"} <= set(r) for r in body["reasons"])


def test_server_side_facts(client, decision_log_path):
    # The decision time is the app's clock (TEST_NOW here), never one the request carries.
    resp, body = decide(client, request_body(now="1999-01-01T00:00:00Z"))
    assert body["request_id"] == "gw-test-0001"
    assert resp.headers["X-Request-ID"] == "gw-test-0001"
    assert uuid.UUID(body["decision_id"]).version == 4
    assert RFC3339_Z.match(body["evaluated_at"])
    assert body["evaluated_at"] == TEST_NOW
    assert read_log(decision_log_path)[-1]["input"]["now"] == TEST_NOW


def marketing_with_authorization(expires_on: str) -> dict:
    """Marketing (164.508(a)(3)) with an authorization in force until ``expires_on``."""
    return request_body(
        requester={"user_id": "u-po-0001", "roles": ["privacy_officer"], "mfa": True},
        recipient={
            "type": "other",
            "id": "org-0001",
            "name": "Synthetic Marketing Partner",
            "identity_verified": True,
        },
        purpose="marketing",
        authorizations=[
            {
                "id": "auth-test-0002",
                "type": "hipaa_authorization",
                "signed": True,
                "signed_on": "2026-01-10",
                "expires_on": expires_on,
                "revoked": False,
                "recipients": ["*"],
                "purposes": ["marketing"],
                "categories": ["general"],
            }
        ],
        data={"categories": ["general"]},
    )


def test_the_app_clock_decides_whether_an_authorization_is_in_force(app_factory):
    body = marketing_with_authorization("2026-12-31")
    last_day = app_factory(CLOCK=fixed_clock("2026-12-31T23:59:59Z")).test_client()
    _resp, answer = decide(last_day, body)
    assert answer["allow"] is True, answer["reasons"]
    assert "PATIENT_AUTHORIZATION" in codes(answer["basis"])
    assert answer["evaluated_at"] == "2026-12-31T23:59:59Z"
    day_after = app_factory(CLOCK=fixed_clock("2027-01-01T00:00:00Z")).test_client()
    _resp, answer = decide(day_after, body)
    assert answer["allow"] is False
    assert answer["evaluated_at"] == "2027-01-01T00:00:00Z"
    assert "AUTHORIZATION_INVALID" in codes(answer["reasons"])


def test_request_id_is_generated_when_absent(client):
    body = request_body()
    del body["request_id"]
    resp, answer = decide(client, body)
    assert uuid.UUID(answer["request_id"])
    assert resp.headers["X-Request-ID"] == answer["request_id"]


def test_each_decision_gets_a_new_id(client):
    ids = {decide(client, p1_treatment())[1]["decision_id"] for _ in range(3)}
    assert len(ids) == 3


def test_one_log_record_per_decision_with_exactly_the_contract_fields(client, decision_log_path):
    _resp, allowed = decide(client, p1_treatment())
    _resp, denied = decide(client, s1_no_mfa())
    records = read_log(decision_log_path)
    assert [r["decision_id"] for r in records] == [allowed["decision_id"], denied["decision_id"]]
    for record, answer in zip(records, (allowed, denied), strict=True):
        assert set(record) == LOG_FIELDS
        assert record["event"] == "disclosure_decision"
        assert record["timestamp"].endswith("Z")
        assert record["request_id"] == answer["request_id"]
        assert record["allow"] is answer["allow"]
        # v1.2: each basis with its rule and citation (the accounting quotes the policy's own).
        assert record["basis"] == [
            {"code": b["code"], "rule": b["rule"], "citation": b["citation"]}
            for b in answer["basis"]
        ]
        assert record["reasons"] == [r["code"] for r in answer["reasons"]]
        assert record["obligations"] == [o["code"] for o in answer["obligations"]]
        assert record["policy_revision"] == answer["policy_revision"]
        assert record["elements_permitted"] == answer["minimum_necessary"]["permitted_elements"]
        assert record["accountable"] is answer.get("accountable", False)
        assert record["requester"] == {
            "user_id": "u-102",
            "roles": ["physician"],
            "organization_id": "org-test",
        }
        assert record["recipient"] == {
            "type": "provider",
            "id": "npi-0000000001",
            "name": "Test Cardiology",
        }
        assert record["purpose"] == "treatment"
        assert record["categories"] == ["general"]
        assert record["patient_state"] == "CA"
        assert isinstance(record["latency_ms"], float)
        assert record["latency_ms"] > 0


def test_patient_id_is_pseudonymised_everywhere_in_the_record(client, decision_log_path):
    body = p1_treatment()
    body["context"] = {"rationale": "free text about the visit"}
    decide(client, body)
    raw = decision_log_path.read_text(encoding="utf-8")
    assert SAMPLE_PATIENT_ID not in raw
    assert "free text about the visit" not in raw
    record = json.loads(raw)
    expected = patient_ref(DEVELOPMENT_KEY, SAMPLE_PATIENT_ID)
    assert record["patient_ref"] == expected
    assert record["input"]["patient"]["id"] == expected
    assert record["input"]["patient"]["patient_ref"] == expected
    assert record["input"]["context"]["rationale"] == "[redacted]"
    assert record["input"]["now"]
    assert record["input"]["request_id"] == "gw-test-0001"


def test_patient_id_repeated_elsewhere_in_the_request_never_reaches_the_log(
    client, decision_log_path, capsys
):
    # Right of access: the patient is the recipient, so the recipient id is the patient id; a
    # patient portal may also use it as the requester's user id and in an authorization.
    body = request_body(
        requester={"user_id": SAMPLE_PATIENT_ID, "roles": ["patient_portal"], "mfa": True},
        recipient={"type": "patient", "id": SAMPLE_PATIENT_ID, "identity_verified": True},
        purpose="individual_access",
        authorizations=[
            {
                "id": "auth-test-0001",
                "type": "hipaa_authorization",
                "signed": True,
                "signed_on": "2026-01-15",
                "recipients": [SAMPLE_PATIENT_ID, "npi-0000000001"],
                "purposes": ["individual_access"],
                "categories": ["general"],
            }
        ],
    )
    resp, _answer = decide(client, body)
    assert resp.status_code == 200
    raw = decision_log_path.read_text(encoding="utf-8")
    assert SAMPLE_PATIENT_ID not in raw
    assert SAMPLE_PATIENT_ID not in capsys.readouterr().out  # the stdout copy
    record = json.loads(raw)
    ref = patient_ref(DEVELOPMENT_KEY, SAMPLE_PATIENT_ID)
    assert record["recipient"] == {"type": "patient", "id": ref, "name": None}
    assert record["requester"]["user_id"] == ref
    assert record["input"]["recipient"]["id"] == ref
    assert record["input"]["authorizations"][0]["recipients"] == [ref, "npi-0000000001"]
    assert record["input"]["recipient"]["type"] == "patient"


def test_logged_input_replays_to_the_same_decision(client, decision_log_path, opa_server):
    import requests

    _resp, answer = decide(client, s1_no_mfa())
    record = read_log(decision_log_path)[0]
    replay = requests.post(
        f"{opa_server.url}/v1/data/hipaa/decision", json={"input": record["input"]}, timeout=5
    ).json()["result"]
    assert replay["allow"] is answer["allow"]
    assert codes(replay["reasons"]) == codes(answer["reasons"])


def test_a_configured_key_changes_the_pseudonym(app_factory, decision_log_path):
    key = "k" * 32
    client = app_factory(PATIENT_REF_KEY=key, DEV_MODE=False).test_client()
    decide(client, p1_treatment())
    record = read_log(decision_log_path)[0]
    assert record["patient_ref"] == patient_ref(key, SAMPLE_PATIENT_ID)
    assert record["patient_ref"] != patient_ref(DEVELOPMENT_KEY, SAMPLE_PATIENT_ID)


@pytest.mark.parametrize("fsync", ["always", "never"])
def test_record_is_on_disk_when_the_answer_arrives(app_factory, decision_log_path, fsync):
    client = app_factory(LOG_FSYNC=fsync).test_client()
    _resp, answer = decide(client, p1_treatment())
    assert read_log(decision_log_path)[-1]["decision_id"] == answer["decision_id"]


def test_log_record_also_goes_to_stdout(client, capfd):
    _resp, answer = decide(client, p1_treatment())
    out = capfd.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if "disclosure_decision" in line]
    assert [rec["decision_id"] for rec in lines] == [answer["decision_id"]]
    assert SAMPLE_PATIENT_ID not in out
