"""CDS Hooks patient-consent-consult end to end against the real OPA: LEAP-shaped requests with
R4 and R5 FHIR Consents, the card's shape, the discovery document, feedback, translation, bad
input by JSON Pointer, and fail-closed answers (docs/interop.md)."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest
from jsonschema import Draft202012Validator

from service.opa.sidecar import free_port
from service.paths import policy_dir
from tests.conftest import read_log
from tests.contract import CDS_LOG_FIELDS
from tests.interop_fixtures import (
    CONSULT,
    EXAMPLES,
    MRN,
    consult,
    example,
    hiv_payment_authorization,
    hiv_payment_facts,
    labels,
    normalized,
    part2_consent,
    purposes,
    r4_consent,
    r5_consent,
    recipient_actor,
)

pytestmark = pytest.mark.integration

# The CDS Hooks 2.0 card and response shape (required fields and their types).
CARD_SCHEMA = {
    "type": "object",
    "required": ["cards"],
    "properties": {
        "cards": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["summary", "indicator", "source"],
                "properties": {
                    "uuid": {"type": "string", "format": "uuid"},
                    "summary": {"type": "string", "maxLength": 139},
                    "detail": {"type": "string"},
                    "indicator": {"enum": ["info", "warning", "critical"]},
                    "source": {
                        "type": "object",
                        "required": ["label"],
                        "properties": {"label": {"type": "string"}, "topic": {"type": "object"}},
                    },
                    "suggestions": {"type": "array"},
                    "links": {"type": "array"},
                    "extension": {"type": "object"},
                },
            },
        },
        "systemActions": {"type": "array"},
    },
}
# What a LEAP client reads in the card extension.
LEAP_EXTENSION = {
    "type": "object",
    "required": ["decision", "obligations", "basedOn"],
    "properties": {
        "decision": {"enum": ["CONSENT_PERMIT", "NO_CONSENT", "CONSENT_DENY"]},
        "obligations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "parameters"],
                "properties": {
                    "id": {
                        "type": "object",
                        "required": ["system", "code"],
                        "properties": {"code": {"enum": ["REDACT", "NORDSCLCD"]}},
                    },
                    "parameters": {"type": "object"},
                },
            },
        },
    },
}


def the_card(resp) -> dict:
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    errors = list(
        Draft202012Validator(
            CARD_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
        ).iter_errors(body)
    )
    assert errors == []
    assert len(body["cards"]) == 1
    card = body["cards"][0]
    assert list(Draft202012Validator(LEAP_EXTENSION).iter_errors(card["extension"])) == []
    assert card["summary"] == card["extension"]["decision"]
    decision = card["extension"]["org.hipaa-gate.decision"]
    assert card["uuid"] == decision["decision_id"]
    return card


def codes(items) -> list[str]:
    return [i["code"] for i in items]


def obligation(card, code):
    found = [o for o in card["extension"]["obligations"] if o["id"]["code"] == code]
    return found[0] if found else None


# ----------------------------------------------------------------------------- discovery


def test_discovery_has_the_cds_hooks_required_fields(client):
    resp = client.get("/cds-services")
    assert resp.status_code == 200
    services = resp.get_json()["services"]
    assert len(services) == 1
    service = services[0]
    for name in ("hook", "description", "id"):  # required by the CDS Hooks discovery response
        assert isinstance(service[name], str)
        assert service[name]
    assert service["hook"] == service["id"] == "patient-consent-consult"
    for value in service.get("prefetch", {}).values():
        assert isinstance(value, str)


# ----------------------------------------------------------------------------- worked examples


@pytest.mark.parametrize("name", ["part2-referral", "self-pay-restriction"])
def test_worked_example_gets_the_documented_card(client, decision_log_path, name):
    request = example(f"{name}.request.json")
    expected = example(f"{name}.response.json")
    resp = client.post(CONSULT, json=request)
    card = the_card(resp)
    assert normalized(resp.get_json()) == expected
    [record] = read_log(decision_log_path)
    assert set(record) == CDS_LOG_FIELDS
    assert record["decision_id"] == card["uuid"]
    assert record["source"] == "cds-hooks"
    assert record["hook_instance"] == request["hookInstance"]
    assert record["consent_refs"] == card["extension"]["basedOn"]
    assert "p-example" not in json.dumps(record)  # no raw patient id in the log


def test_examples_are_documented_in_docs_interop():
    text = (EXAMPLES.parents[1] / "docs" / "interop.md").read_text(encoding="utf-8")
    files = sorted(EXAMPLES.glob("*.json"))
    assert len(files) == 4
    for path in files:
        assert f"examples/cds-hooks/{path.name}" in text
        assert path.read_text(encoding="utf-8").rstrip() in text  # shown in full, as shipped


# ----------------------------------------------------------------------------- R4 / R5 consents


def test_part2_consent_permits_treatment_with_redisclosure_labels(client):
    card = the_card(client.post(CONSULT, json=consult([part2_consent()])))
    assert card["summary"] == "CONSENT_PERMIT"
    assert card["indicator"] == "info"
    decision = card["extension"]["org.hipaa-gate.decision"]
    assert "PART2_CONSENT" in codes(decision["basis"])
    assert card["extension"]["basedOn"] == ["Consent/c-test-part2"]
    notices = obligation(card, "NORDSCLCD")["parameters"]["notices"]
    assert notices[0]["citation"] == "42 CFR 2.32"
    redacted = {c["code"] for c in obligation(card, "REDACT")["parameters"]["codes"]}
    assert "ETH" not in redacted
    assert {"PSY", "HIV"} <= redacted
    security = {s["code"] for s in card["extension"]["org.hipaa-gate.security-labels"]}
    assert {"R", "42CFRPart2", "ETH", "NORDSCLCD"} <= security
    assert "42 CFR 2.31, 2.33" in card["detail"]


def test_part2_consent_in_a_prefetch_bundle(client):
    card = the_card(client.post(CONSULT, json=consult([part2_consent()], prefetch=True)))
    assert card["summary"] == "CONSENT_PERMIT"


def test_part2_consent_to_another_recipient_is_no_consent(client):
    card = the_card(client.post(CONSULT, json=consult([part2_consent()], actor="0000000009")))
    assert card["summary"] == "NO_CONSENT"
    assert card["indicator"] == "warning"
    decision = card["extension"]["org.hipaa-gate.decision"]
    assert decision["allow"] is False
    assert "OBTAIN_PART2_CONSENT" in codes(decision["requirements"])
    assert card["extension"]["obligations"] == []
    assert card["extension"]["org.hipaa-gate.security-labels"] == []


def test_part2_consent_without_signed_form_is_reported_and_not_relied_on(client, decision_log_path):
    consent = part2_consent()
    del consent["sourceAttachment"]
    card = the_card(client.post(CONSULT, json=consult([consent])))
    assert card["summary"] == "NO_CONSENT"
    findings = card["extension"]["org.hipaa-gate.consent-findings"]
    assert [(f["code"], f["element"], f["citation"]) for f in findings] == [
        ("PART2_CONSENT_ELEMENT_MISSING", "statements", "42 CFR 2.31(a)(6)")
    ]
    assert card["extension"]["basedOn"] == []
    [record] = read_log(decision_log_path)
    assert record["input"]["authorizations"] == []  # what data.hipaa.decision saw
    assert record["consent_refs"] == []
    assert record["consent_findings"] == [
        {"consent": "Consent/c-test-part2", "code": "PART2_CONSENT_ELEMENT_MISSING"}
    ]


def test_expired_consent_is_ignored_with_its_reason(client):
    consent = part2_consent()
    consent["provision"]["period"] = {"start": "2024-01-01", "end": "2025-01-01"}
    card = the_card(client.post(CONSULT, json=consult([consent])))
    assert card["summary"] == "NO_CONSENT"
    ignored = card["extension"]["org.hipaa-gate.consents-ignored"]
    assert [(i["consent"], i["reason"]) for i in ignored] == [("Consent/c-test-part2", "expired")]
    assert card["extension"]["basedOn"] == []


def test_inactive_consent_is_a_revoked_authorization(client, decision_log_path):
    card = the_card(client.post(CONSULT, json=consult([part2_consent(status="inactive")])))
    assert card["summary"] == "NO_CONSENT"
    ignored = card["extension"]["org.hipaa-gate.consents-ignored"]
    assert [i["reason"] for i in ignored] == ["status_inactive"]
    [record] = read_log(decision_log_path)
    assert [a["revoked"] for a in record["input"]["authorizations"]] == [True]


def test_consent_of_another_patient_is_ignored_not_used(client):
    consent = part2_consent()
    consent["patient"] = {"identifier": {"system": MRN, "value": "p-test-0099"}}
    card = the_card(client.post(CONSULT, json=consult([consent])))
    assert card["summary"] == "NO_CONSENT"
    ignored = card["extension"]["org.hipaa-gate.consents-ignored"]
    assert [i["reason"] for i in ignored] == ["patient_mismatch"]


def test_r4_permit_with_nested_deny_covers_the_named_plan_only(client):
    body = consult([hiv_payment_authorization()], purpose="HPAYMT", facts=hiv_payment_facts())
    card = the_card(client.post(CONSULT, json=body))
    assert card["summary"] == "CONSENT_PERMIT", card["detail"]
    assert card["extension"]["basedOn"] == ["Consent/c-test-hiv"]
    assert "PATIENT_AUTHORIZATION" in codes(card["extension"]["org.hipaa-gate.decision"]["basis"])
    facts = hiv_payment_facts()
    facts["recipient"]["id"] = "hp-0000000002"  # a plan the consent does not name
    body = consult([hiv_payment_authorization()], purpose="HPAYMT", facts=facts)
    denied = the_card(client.post(CONSULT, json=body))
    assert denied["summary"] == "NO_CONSENT"
    assert denied["extension"]["org.hipaa-gate.decision"]["allow"] is False


def test_r5_consent_with_permit_provision(client):
    consent = r5_consent(
        "c-test-r5",
        "deny",
        [
            {
                "actor": [recipient_actor("http://hospital.example.org/payer", "hp-0000000001")],
                "purpose": purposes("HPAYMT"),
                "securityLabel": labels("HIV"),
            }
        ],
    )
    body = consult([consent], purpose="HPAYMT", facts=hiv_payment_facts())
    card = the_card(client.post(CONSULT, json=body))
    assert card["summary"] == "CONSENT_PERMIT", card["detail"]
    assert card["extension"]["basedOn"] == ["Consent/c-test-r5"]


def test_r5_self_pay_restriction_denies_the_health_plan(client):
    card = the_card(client.post(CONSULT, json=example("self-pay-restriction.request.json")))
    decision = card["extension"]["org.hipaa-gate.decision"]
    assert card["summary"] == "CONSENT_DENY"
    assert card["indicator"] == "critical"
    assert codes(decision["reasons"]) == ["PATIENT_RESTRICTION"]
    assert decision["reasons"][0]["restriction_reasons"] == ["paid_in_full"]


def test_opt_out_is_reported_and_treatment_still_allowed(client):
    opt_out = r4_consent("c-test-optout", {"type": "deny"})
    facts = consult()["extension"]["org.hipaa-gate.request"]
    facts["data"] = {"categories": ["general"], "elements": ["problem_list"]}
    card = the_card(client.post(CONSULT, json=consult([opt_out], facts=facts)))
    assert card["summary"] == "CONSENT_PERMIT"
    findings = card["extension"]["org.hipaa-gate.consent-findings"]
    assert [(f["code"], f["citation"]) for f in findings] == [
        ("CONSENT_OPT_OUT_NOT_BINDING", "45 CFR 164.522(a)(1)(ii)")
    ]


def test_opt_out_honoured_by_option_is_an_agreed_restriction(app_factory, tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(policy_dir(), policies)
    options = policies / "config" / "options" / "data.json"
    data = json.loads(options.read_text())
    data["honor_consent_opt_out"] = True
    options.write_text(json.dumps(data))
    client = app_factory(POLICY_DIR=str(policies)).test_client()
    opt_out = r4_consent("c-test-optout", {"type": "deny"})
    facts = consult()["extension"]["org.hipaa-gate.request"]
    facts["data"] = {"categories": ["general"], "elements": ["problem_list"]}
    card = the_card(client.post(CONSULT, json=consult([opt_out], facts=facts)))
    assert card["summary"] == "CONSENT_DENY"
    decision = card["extension"]["org.hipaa-gate.decision"]
    assert codes(decision["reasons"]) == ["PATIENT_RESTRICTION"]
    assert decision["reasons"][0]["restriction_reasons"] == ["agreed"]
    assert card["extension"]["basedOn"] == ["Consent/c-test-optout"]


def test_several_purposes_one_card_deny_overrides(client, decision_log_path):
    body = consult([part2_consent()], purpose=["TREAT", "HMARKT"])
    card = the_card(client.post(CONSULT, json=body))
    assert card["summary"] != "CONSENT_PERMIT"
    decisions = card["extension"]["org.hipaa-gate.decisions"]
    assert [d["allow"] for d in decisions] == [True, False]
    assert card["uuid"] == decisions[1]["decision_id"]
    records = read_log(decision_log_path)
    assert [r["purpose"] for r in records] == ["treatment", "marketing"]
    assert {r["hook_instance"] for r in records} == {body["hookInstance"]}


# ----------------------------------------------------------------------------- bad input


def problem(resp) -> list[dict]:
    assert resp.status_code == 400, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_request"
    return error["details"]


def paths(resp) -> list[str]:
    return [d["path"] for d in problem(resp)]


def test_missing_extension_is_named(client, decision_log_path):
    body = consult([part2_consent()])
    del body["extension"]
    assert paths(client.post(CONSULT, json=body)) == ["/extension/org.hipaa-gate.request"]
    assert read_log(decision_log_path) == []


def test_missing_fact_is_named_inside_the_extension(client):
    body = consult()
    del body["extension"]["org.hipaa-gate.request"]["requester"]["mfa"]
    assert paths(client.post(CONSULT, json=body)) == [
        "/extension/org.hipaa-gate.request/requester/mfa"
    ]


def test_unmapped_purpose_of_use_is_named(client):
    assert paths(client.post(CONSULT, json=consult(purpose="XYZZY"))) == ["/context/purposeOfUse"]
    body = consult(purpose=["TREAT", "XYZZY"])
    assert paths(client.post(CONSULT, json=body)) == ["/context/purposeOfUse/1"]


def test_purpose_in_the_extension_is_refused(client):
    body = consult()
    body["extension"]["org.hipaa-gate.request"]["purpose"] = "treatment"
    assert paths(client.post(CONSULT, json=body)) == ["/extension/org.hipaa-gate.request/purpose"]


def test_consent_that_fails_to_parse_is_a_400_naming_it(client, decision_log_path):
    consent = part2_consent(dateTime="last tuesday")
    assert paths(client.post(CONSULT, json=consult([consent]))) == ["/context/consent/0/dateTime"]
    assert read_log(decision_log_path) == []


def test_consent_breaking_a_binding_is_a_400(client):
    bad_status = part2_consent(status="approved")
    assert paths(client.post(CONSULT, json=consult([bad_status]))) == ["/context/consent/0/status"]
    bad_type = part2_consent()
    bad_type["provision"]["type"] = "maybe"
    assert paths(client.post(CONSULT, json=consult([bad_type]))) == [
        "/context/consent/0/provision/type"
    ]


def test_consent_with_an_unmapped_purpose_code_is_named(client):
    consent = part2_consent()
    consent["provision"]["provision"][0]["purpose"] = purposes("HDIRECT")
    assert paths(client.post(CONSULT, json=consult([consent]))) == [
        "/context/consent/0/provision/provision/0/purpose/0/code"
    ]


def test_missing_patient_facts_are_named(client):
    body = consult()
    del body["extension"]["org.hipaa-gate.request"]["patient"]
    assert paths(client.post(CONSULT, json=body)) == [
        "/extension/org.hipaa-gate.request/patient/state"
    ]


def test_deeply_nested_provisions_are_refused_by_name(client):
    provision = {"type": "permit"}
    for _ in range(40):
        provision = {"type": "deny", "provision": [provision]}
    body = consult([r4_consent("c-test-deep", provision)])
    assert paths(client.post(CONSULT, json=body)) == ["/context/consent/0/provision"]


def test_not_a_consent_and_wrong_hook(client):
    body = consult([{"resourceType": "Patient", "id": "x"}])
    assert paths(client.post(CONSULT, json=body)) == ["/context/consent/0"]
    body = consult()
    body["hook"] = "patient-view"
    assert paths(client.post(CONSULT, json=body)) == ["/hook"]
    assert client.post(CONSULT, data="{", content_type="application/json").status_code == 400


# ----------------------------------------------------------------------------- fail closed


def test_opa_down_is_503_never_a_card(app_factory, decision_log_path):
    client = app_factory(OPA_URL=f"http://127.0.0.1:{free_port()}").test_client()
    resp = client.post(CONSULT, json=consult([part2_consent()]))
    assert resp.status_code == 503
    assert "cards" not in resp.get_json()
    assert resp.get_json()["error"]["code"] == "policy_engine_unavailable"
    [record] = read_log(decision_log_path)
    assert record["allow"] is False
    assert record["reasons"] == ["policy_engine_unavailable"]


def test_log_down_is_503_never_a_card(app_factory):
    client = app_factory(DECISION_LOG="/dev/full").test_client()
    resp = client.post(CONSULT, json=consult([part2_consent()]))
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "decision_log_unavailable"
    assert "cards" not in resp.get_json()


def test_an_fsync_failure_after_the_write_leaves_the_denial_last_in_the_file(
    client, decision_log_path, monkeypatch
):
    """The consult writes its record as decide does: an allow line whose fsync failed is
    followed in the file by the denial (same decision_id), and the client gets a 503."""
    import errno

    from service.records import decision_log

    calls = []

    def fsync_fails_once(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(decision_log.os, "fsync", fsync_fails_once)
    resp = client.post(CONSULT, json=example("part2-referral.request.json"))
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "decision_log_unavailable"
    assert "cards" not in resp.get_json()
    lines = read_log(decision_log_path)
    assert [x["allow"] for x in lines] == [True, False]
    assert lines[0]["decision_id"] == lines[1]["decision_id"]
    assert lines[1]["reasons"] == ["decision_log_unavailable"]
    assert lines[1]["source"] == "cds-hooks"


# ----------------------------------------------------------------------------- feedback, translate


def test_feedback_is_logged_against_the_card(client, decision_log_path):
    card = the_card(client.post(CONSULT, json=consult([part2_consent()])))
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {"system": "http://example.org/override", "code": "patient-request"},
                    "userComment": "synthetic comment",
                },
                "outcomeTimestamp": "2026-12-07T08:00:00Z",
            }
        ]
    }
    resp = client.post(CONSULT + "/feedback", json=feedback)
    assert resp.status_code == 200
    records = [json.loads(line) for line in decision_log_path.read_text().splitlines()]
    assert [r["event"] for r in records] == ["disclosure_decision", "card_feedback"]
    assert records[1]["decision_id"] == card["uuid"]
    assert records[1]["override_reasons"] == [
        {"system": "http://example.org/override", "code": "patient-request"}
    ]
    assert "synthetic comment" not in decision_log_path.read_text()


def test_feedback_bad_outcome_is_named(client):
    item = {"card": str(uuid.uuid4()), "outcome": "ignored", "outcomeTimestamp": "2026-12-07"}
    assert paths(client.post(CONSULT + "/feedback", json={"feedback": [item]})) == [
        "/feedback/0/outcome"
    ]
    assert paths(client.post(CONSULT + "/feedback", json={"feedback": []})) == ["/feedback"]


def test_translate_shows_requests_and_findings_without_deciding(client, decision_log_path):
    defective = part2_consent("c-test-nodate")
    del defective["dateTime"]
    body = consult([defective, hiv_payment_authorization()])
    resp = client.post("/v1/consents/translate", json=body)
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    [request] = out["requests"]
    assert request["patient"]["id"] == "p-test-0001"
    assert request["purpose"] == "treatment"
    assert [a["id"] for a in request["authorizations"]] == [
        "Consent/c-test-nodate",
        "Consent/c-test-hiv",
    ]
    assert request["authorizations"][0]["type"] == "part2_tpo_consent"
    assert request["authorizations"][1]["categories"] == ["hiv"]  # PSY denied by the nested deny
    assert [(f["consent"], f["element"]) for f in out["consent_findings"]] == [
        ("Consent/c-test-nodate", "date")
    ]
    assert out["consents_relied_on"] == ["Consent/c-test-hiv"]
    assert read_log(decision_log_path) == []


def test_translate_needs_the_api_token_when_configured(app_factory):
    client = app_factory(API_TOKENS="tok-interop-0000000001").test_client()
    body = consult([part2_consent()])
    assert client.post("/v1/consents/translate", json=body).status_code == 401
    assert client.post(CONSULT, json=body).status_code == 401
    ok = client.post(CONSULT, json=body, headers={"Authorization": "Bearer tok-interop-0000000001"})
    assert ok.status_code == 200
    assert client.get("/cds-services").status_code == 200


def test_decide_records_say_their_source(client, decision_log_path):
    from tests.conftest import request_body

    assert client.post("/v1/disclosures/decide", json=request_body()).status_code == 200
    [record] = read_log(decision_log_path)
    assert record["source"] == "decide"


def test_psychotherapy_notes_combined_with_other_information_is_not_relied_on(client):
    consent = r4_consent(
        "c-test-psy",
        {
            "type": "deny",
            "period": {"start": "2026-02-01", "end": "2030-01-31"},
            "provision": [
                {
                    "type": "permit",
                    "actor": [
                        recipient_actor("http://hospital.example.org/payer", "hp-0000000001")
                    ],
                    "purpose": purposes("HPAYMT"),
                    "securityLabel": labels("PSYTHPN"),
                },
                {
                    "type": "permit",
                    "actor": [
                        recipient_actor("http://hospital.example.org/payer", "hp-0000000001")
                    ],
                    "purpose": purposes("HPAYMT"),
                    "securityLabel": labels("HIV"),
                },
            ],
        },
    )
    body = consult([consent], purpose="HPAYMT", facts=hiv_payment_facts())
    card = the_card(client.post(CONSULT, json=body))
    findings = card["extension"]["org.hipaa-gate.consent-findings"]
    assert [(f["code"], f["citation"]) for f in findings] == [
        ("PSYCHOTHERAPY_NOTES_AUTHORIZATION_COMBINED", "45 CFR 164.508(b)(3)(ii)")
    ]
    assert card["summary"] == "NO_CONSENT"
    assert card["extension"]["basedOn"] == []


def test_agreed_restriction_consent_yields_to_an_emergency(client):
    consent = r4_consent(
        "c-test-agreed",
        {"type": "deny", "period": {"start": "2026-02-01", "end": "2030-01-31"}},
        policyRule={
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentpolicycodes",
                    "code": "hipaa-restrictions",
                }
            ]
        },
    )
    facts = consult()["extension"]["org.hipaa-gate.request"]
    facts["data"] = {"categories": ["general"], "elements": ["problem_list"]}
    treat = the_card(client.post(CONSULT, json=consult([consent], facts=facts)))
    assert treat["summary"] == "CONSENT_DENY"
    reasons = treat["extension"]["org.hipaa-gate.decision"]["reasons"]
    assert reasons[0]["restriction_reasons"] == ["agreed"]
    emergency = the_card(
        client.post(CONSULT, json=consult([consent], purpose="ETREAT", facts=facts))
    )
    assert emergency["summary"] == "CONSENT_PERMIT"
