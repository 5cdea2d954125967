"""Break-glass through the shim and a real OPA: the 400 without a rationale, the flag on the
decision and on its decision-log record, the obligations, the deny that says why, the metric."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import read_log, request_body
from tests.test_operations import metric

DECIDE = "/v1/disclosures/decide"
RATIONALE = "Synthetic: unresponsive patient; covering clinician outside the role catalog."
BG_OBLIGATIONS = {"DOCUMENT_RATIONALE", "NOTIFY_PRIVACY_OFFICER", "POST_EVENT_REVIEW"}
COUNTER = "hipaa_gate_break_glass_decisions_total"

pytestmark = pytest.mark.integration


def body(*, roles: list[str], purpose: str = "treatment", **context: Any) -> dict[str, Any]:
    b = request_body(purpose=purpose)
    b["requester"]["roles"] = roles
    if purpose == "payment":
        b["recipient"] = {"type": "health_plan", "id": "plan-0001", "identity_verified": True}
    if context:
        b["context"] = context
    return b


def bg1(decision: dict[str, Any]) -> set[str]:
    return {o["code"] for o in decision["obligations"] if o.get("rule") == "BG1"}


def test_break_glass_overrides_the_role_and_flags_decision_and_record(client, decision_log_path):
    plain = client.post(DECIDE, json=body(roles=["billing_specialist"]))
    assert plain.status_code == 200
    assert plain.get_json()["allow"] is False
    assert [r["code"] for r in plain.get_json()["reasons"]] == ["ROLE_NOT_PERMITTED"]

    resp = client.post(
        DECIDE,
        json=body(roles=["billing_specialist"], break_glass=True, rationale=RATIONALE),
    )
    assert resp.status_code == 200
    decision = resp.get_json()
    assert decision["allow"] is True
    assert decision["break_glass"] is True
    assert [b["code"] for b in decision["basis"]] == ["TREATMENT"]  # the basis stays the legal one
    assert bg1(decision) == BG_OBLIGATIONS
    documented = next(o for o in decision["obligations"] if o["code"] == "DOCUMENT_RATIONALE")
    assert documented["rationale"] == RATIONALE

    records = read_log(decision_log_path)
    assert [r.get("break_glass") for r in records] == [None, True]
    assert records[1]["decision_id"] == decision["decision_id"]
    assert set(records[1]["obligations"]) >= BG_OBLIGATIONS
    # the rationale is free text: the log keeps a marker, not the words
    assert RATIONALE not in decision_log_path.read_text(encoding="utf-8")


def test_break_glass_that_overrides_nothing_is_not_flagged(client, decision_log_path):
    resp = client.post(
        DECIDE, json=body(roles=["physician"], break_glass=True, rationale=RATIONALE)
    )
    decision = resp.get_json()
    assert decision["allow"] is True
    assert "break_glass" not in decision
    assert bg1(decision) == set()
    assert "break_glass" not in read_log(decision_log_path)[0]


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"break_glass": True}, "is required when context.break_glass is true"),
        ({"break_glass": True, "rationale": None}, "must be of type string"),
        ({"break_glass": True, "rationale": ""}, "must not be empty"),
        ({"break_glass": "yes", "rationale": RATIONALE}, None),
    ],
)
def test_break_glass_without_a_rationale_is_a_400_naming_it(client, context, message):
    resp = client.post(DECIDE, json=body(roles=["physician"], **context))
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_request"
    if message is None:
        assert error["details"] == [
            {"path": "/context/break_glass", "message": "must be of type boolean"}
        ]
    else:
        assert error["details"] == [{"path": "/context/rationale", "message": message}]


def test_break_glass_with_a_blank_rationale_is_denied_as_invalid_input(client):
    resp = client.post(DECIDE, json=body(roles=["physician"], break_glass=True, rationale="  "))
    assert resp.status_code == 200
    decision = resp.get_json()
    assert decision["allow"] is False
    assert decision["reasons"][0]["code"] == "INVALID_INPUT"
    assert decision["reasons"][0]["details"] == [
        {
            "path": "/context/rationale",
            "message": "a non-blank rationale is required when context.break_glass is true",
        }
    ]


def test_break_glass_for_another_purpose_is_denied_saying_why(client):
    resp = client.post(
        DECIDE,
        json=body(roles=["researcher"], purpose="payment", break_glass=True, rationale=RATIONALE),
    )
    decision = resp.get_json()
    assert decision["allow"] is False
    assert {r["code"] for r in decision["reasons"]} == {
        "ROLE_NOT_PERMITTED",
        "BREAK_GLASS_NOT_HONOURED",
    }
    assert "break_glass" not in decision


def test_break_glass_never_overrides_mfa(client):
    b = body(roles=["billing_specialist"], break_glass=True, rationale=RATIONALE)
    b["requester"]["mfa"] = False
    decision = client.post(DECIDE, json=b).get_json()
    assert decision["allow"] is False
    assert {r["code"] for r in decision["reasons"]} == {
        "MFA_REQUIRED",
        "BREAK_GLASS_CANNOT_OVERRIDE",
    }
    assert decision["obligations"] == []


def test_the_metric_counts_break_glass_decisions_by_result(client):
    before = client.get("/metrics").get_data(as_text=True)
    ok = {"break_glass": True, "rationale": RATIONALE}
    client.post(DECIDE, json=body(roles=["billing_specialist"], **ok))  # overrode
    client.post(DECIDE, json=body(roles=["billing_specialist"], **ok))  # overrode
    client.post(DECIDE, json=body(roles=["physician"], **ok))  # not needed
    client.post(DECIDE, json=body(roles=["researcher"], purpose="payment", **ok))  # denied
    client.post(DECIDE, json=body(roles=["billing_specialist"]))  # no break-glass: not counted
    after = client.get("/metrics").get_data(as_text=True)

    def delta(**labels: str) -> float:
        return metric(after, COUNTER, **labels) - metric(before, COUNTER, **labels)

    assert delta(purpose="treatment", result="overrode") == 2
    assert delta(purpose="treatment", result="not_needed") == 1
    assert delta(purpose="payment", result="denied") == 1
    assert delta(purpose="treatment", result="denied") == 0
