"""Synthetic FHIR Consents and LEAP-shaped CDS Hooks consult requests for the interop tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "cds-hooks"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
NPI = "http://hl7.org/fhir/sid/us-npi"
MRN = "http://hospital.example.org/mrn"
PATIENT = "p-test-0001"
CONSULT = "/cds-services/patient-consent-consult"
VOLATILE = "<volatile>"


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def recipient_actor(system: str, value: str, role: str = "IRCP") -> dict[str, Any]:
    return {
        "role": {"coding": [{"system": PARTICIPATION, "code": role}]},
        "reference": {"identifier": {"system": system, "value": value}},
    }


def labels(*codes: str) -> list[dict[str, str]]:
    return [{"system": ACT_CODE, "code": c} for c in codes]


def purposes(*codes: str) -> list[dict[str, str]]:
    return [{"system": ACT_REASON, "code": c} for c in codes]


def r4_consent(cid: str, provision: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A complete R4 Consent for PATIENT (signed form attached, verified, custodian named)."""
    consent: dict[str, Any] = {
        "resourceType": "Consent",
        "id": cid,
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"identifier": {"system": MRN, "value": PATIENT}},
        "dateTime": "2026-02-01T09:00:00Z",
        "organization": [{"display": "Synthetic Hospital"}],
        "sourceAttachment": {"contentType": "application/pdf", "title": "signed form"},
        "verification": [{"verified": True}],
        "provision": provision,
    }
    consent.update(changes)
    return consent


def r5_consent(cid: str, decision: str, provisions: list[dict[str, Any]], **changes: Any):
    consent: dict[str, Any] = {
        "resourceType": "Consent",
        "id": cid,
        "status": "active",
        "subject": {"identifier": {"system": MRN, "value": PATIENT}},
        "date": "2026-02-01",
        "period": {"start": "2026-02-01", "end": "2030-01-31"},
        "controller": [{"display": "Synthetic Hospital"}],
        "sourceAttachment": [{"contentType": "application/pdf", "title": "signed form"}],
        "verification": [{"verified": True}],
        "decision": decision,
    }
    if provisions:
        consent["provision"] = provisions
    consent.update(changes)
    return consent


def part2_consent(cid: str = "c-test-part2", **changes: Any) -> dict[str, Any]:
    """A Part 2 consent (42CFRPart2 policy, ETH label) to NPI 0000000002 for treatment."""
    return r4_consent(
        cid,
        {
            "type": "deny",
            "period": {"start": "2026-02-01", "end": "2030-01-31"},
            "provision": [
                {
                    "type": "permit",
                    "actor": [recipient_actor(NPI, "0000000002")],
                    "purpose": purposes("TREAT"),
                    "securityLabel": labels("ETH"),
                }
            ],
        },
        policyRule={"coding": [{"system": ACT_CODE, "code": "42CFRPart2"}]},
        **changes,
    )


def hiv_payment_authorization(cid: str = "c-test-hiv") -> dict[str, Any]:
    """R4 root permit (HIV and PSY to a health plan for payment) with a nested deny for PSY."""
    return r4_consent(
        cid,
        {
            "type": "permit",
            "period": {"start": "2026-02-01", "end": "2030-01-31"},
            "actor": [recipient_actor("http://hospital.example.org/payer", "hp-0000000001")],
            "purpose": purposes("HPAYMT"),
            "securityLabel": labels("HIV", "PSY"),
            "provision": [{"type": "deny", "securityLabel": labels("PSY")}],
        },
    )


def extension(**changes: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "requester": {
            "user_id": "u-test-17",
            "roles": ["physician"],
            "mfa": True,
            "organization_id": "org-test",
            "state": "CA",
        },
        "patient": {"state": "CA", "age": 41},
        "recipient": {
            "type": "provider",
            "name": "Synthetic Community Clinic",
            "identity_verified": True,
            "state": "CA",
        },
        "data": {
            "categories": ["substance_use_disorder"],
            "elements": ["problem_list", "medications"],
            "part2_program": True,
        },
    }
    facts.update(changes)
    return facts


def consult(
    consents: list[dict[str, Any]] | None = None,
    *,
    purpose: Any = "TREAT",
    actor: str = "0000000002",
    facts: dict[str, Any] | None = None,
    prefetch: bool = False,
) -> dict[str, Any]:
    """A LEAP-shaped consult request with the org.hipaa-gate.request extension."""
    body: dict[str, Any] = {
        "hook": "patient-consent-consult",
        "hookInstance": "d1f0c7e2-0000-4000-8000-00000000test",
        "context": {
            "patientId": [{"system": MRN, "value": PATIENT}],
            "scope": "patient-privacy",
            "purposeOfUse": purpose,
            "actor": [{"system": NPI, "value": actor}],
        },
        "extension": {"org.hipaa-gate.request": facts if facts is not None else extension()},
    }
    if consents is not None:
        if prefetch:
            body["prefetch"] = {
                "consents": {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "entry": [{"resource": c} for c in consents],
                }
            }
        else:
            body["context"]["consent"] = consents
    return copy.deepcopy(body)


def hiv_payment_facts() -> dict[str, Any]:
    return extension(
        requester={"user_id": "u-test-40", "roles": ["billing_specialist"], "mfa": True},
        recipient={
            "type": "health_plan",
            "id": "hp-0000000001",
            "name": "Synthetic Health Plan",
            "identity_verified": True,
            "state": "CA",
        },
        data={"categories": ["hiv"], "elements": ["member_id", "billing_codes"]},
    )


def normalized(card_response: dict[str, Any]) -> dict[str, Any]:
    """The response with the per-call values (decision ids, times, policy revision) blanked."""
    out = copy.deepcopy(card_response)
    for card in out.get("cards", []):
        card["uuid"] = VOLATILE
        decisions = [card["extension"]["org.hipaa-gate.decision"]]
        decisions += card["extension"].get("org.hipaa-gate.decisions", [])
        for decision in decisions:
            for key in ("decision_id", "evaluated_at", "policy_revision"):
                decision[key] = VOLATILE
    return out
