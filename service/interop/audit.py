"""Offline views of the decision log for consents: ``hipaa-gate consents impact`` (the
disclosures made under a consent: for a revocation, and the 42 CFR 2.24 list of disclosures) and
a decision record rendered as a FHIR R4 ``AuditEvent`` (``hipaa-gate consents audit-event``)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from fhir.resources.R4B.auditevent import AuditEvent

from service.interop.vocabulary import load_vocabulary
from service.paths import policy_dir
from service.records.files import read_records

CONSENT_REF = re.compile(r"^Consent/[A-Za-z0-9\-.]{1,64}$")
PATIENT_REF_SYSTEM = "urn:hipaa-gate:patient-ref"
_AUDIT_TYPE = {
    "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
    "code": "rest",
    "display": "RESTful Operation",
}
_DISCLOSE = {
    "system": "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle",
    "code": "disclose",
    "display": "Disclose Record Lifecycle Event",
}


def impact(consent: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The allowed disclosures whose record names ``consent`` in ``consent_refs``, oldest first."""
    made = [
        {
            "timestamp": r.get("timestamp"),
            "decision_id": r.get("decision_id"),
            "source": r.get("source"),
            "hook_instance": r.get("hook_instance"),
            "patient_ref": r.get("patient_ref"),
            "recipient": r.get("recipient"),
            "purpose": r.get("purpose"),
            "categories": r.get("categories"),
            "elements_permitted": r.get("elements_permitted"),
            "basis": r.get("basis"),
        }
        for r in records
        if r.get("allow") is True and consent in (r.get("consent_refs") or [])
    ]
    made.sort(key=lambda e: (str(e["timestamp"]), str(e["decision_id"])))
    return {"consent": consent, "disclosures": made, "count": len(made)}


def audit_event(record: dict[str, Any], *, patient_id: str | None = None) -> dict[str, Any]:
    """The decision record as a FHIR R4 AuditEvent (validated with the R4B model).

    The patient entity carries the record's ``patient_ref``; the raw id only when the caller
    supplies it (``patient_id``), since the log never holds it.
    """
    vocab = load_vocabulary(policy_dir())
    allow = record.get("allow") is True
    failed = any(str(r).islower() for r in record.get("reasons") or [])
    outcome = "0" if allow else ("8" if failed else "4")
    requester = record.get("requester") or {}
    recipient = record.get("recipient") or {}
    reasons = ", ".join(map(str, record.get("reasons") or []))
    basis = ", ".join(map(str, _codes(record.get("basis"))))
    patient: dict[str, Any] = {
        "identifier": {"system": PATIENT_REF_SYSTEM, "value": record.get("patient_ref")}
    }
    if patient_id:
        patient = {"reference": f"Patient/{patient_id}"}
    labels = [
        {"system": vocab.act_code, "code": vocab.category_labels[c]}
        for c in record.get("categories") or []
        if c in vocab.category_labels
    ]
    entities: list[dict[str, Any]] = [
        {
            "what": patient,
            "type": {
                "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                "code": "1",
                "display": "Person",
            },
            "role": {
                "system": "http://terminology.hl7.org/CodeSystem/object-role",
                "code": "1",
                "display": "Patient",
            },
            **(
                {"securityLabel": list({lab["code"]: lab for lab in labels}.values())}
                if labels
                else {}
            ),
        }
    ]
    entities += [
        {"what": {"reference": ref}, "description": "consent relied on"}
        for ref in record.get("consent_refs") or []
    ]
    entities.append(
        {
            "what": {
                "identifier": {
                    "system": "urn:hipaa-gate:decision",
                    "value": record.get("decision_id"),
                }
            },
            "description": "hipaa-gate decision record",
            "detail": [
                {"type": "policy_revision", "valueString": str(record.get("policy_revision"))},
                {"type": "source", "valueString": str(record.get("source") or "decide")},
            ],
        }
    )
    agents: list[dict[str, Any]] = [
        {
            "who": {
                "identifier": {"value": str(requester.get("user_id"))},
                **(
                    {"display": str(requester.get("organization_id"))}
                    if requester.get("organization_id")
                    else {}
                ),
            },
            "requestor": True,
            "role": [{"text": str(role)} for role in requester.get("roles") or []],
        }
    ]
    if recipient.get("id") or recipient.get("name"):
        who: dict[str, Any] = {}
        if recipient.get("id"):
            who["identifier"] = {"value": str(recipient["id"])}
        if recipient.get("name"):
            who["display"] = str(recipient["name"])
        agents.append(
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "code": "IRCP",
                            "display": "information recipient",
                        }
                    ]
                },
                "who": who,
                "requestor": False,
            }
        )
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(record.get("decision_id")),
        "type": _AUDIT_TYPE,
        "subtype": [_DISCLOSE],
        "action": "E",
        "recorded": record.get("timestamp"),
        "outcome": outcome,
        "outcomeDesc": f"allowed: {basis}" if allow else f"denied: {reasons}",
        "agent": agents,
        "source": {
            "observer": {"display": "hipaa-gate"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
        "entity": entities,
    }
    code = vocab.reason_code(str(record.get("purpose")))
    if code:
        event["purposeOfEvent"] = [{"coding": [{"system": vocab.act_reason, "code": code}]}]
    AuditEvent.model_validate(event)  # a rendering the model rejects is a bug: it raises
    return event


def _codes(items: Any) -> list[str]:
    return [i.get("code") if isinstance(i, dict) else str(i) for i in items or []]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="consents_command", required=True, metavar="COMMAND")
    p = sub.add_parser("impact", help="the disclosures made under a consent (revocation, 2.24)")
    p.add_argument("consent", help="Consent/<id>")
    p.add_argument("logs", nargs="+", metavar="LOG", help="decision log files (plain or gzip)")
    p.set_defaults(func=_run_impact)
    p = sub.add_parser("audit-event", help="a decision record as a FHIR R4 AuditEvent")
    p.add_argument("decision_id")
    p.add_argument("logs", nargs="+", metavar="LOG", help="decision log files (plain or gzip)")
    p.add_argument(
        "--patient-id", default=None, help="the patient's id to reference (else patient_ref)"
    )
    p.set_defaults(func=_run_audit_event)


def _run_impact(args: argparse.Namespace) -> int:
    if not CONSENT_REF.match(args.consent):
        print(
            json.dumps({"error": "invalid_argument", "message": "expected Consent/<id>"}),
            file=sys.stderr,
        )
        return 2
    print(json.dumps(impact(args.consent, read_records(args.logs)), indent=2))
    return 0


def _run_audit_event(args: argparse.Namespace) -> int:
    for record in read_records(args.logs):
        if record.get("decision_id") == args.decision_id:
            print(json.dumps(audit_event(record, patient_id=args.patient_id), indent=2))
            return 0
    print(
        json.dumps({"error": "not_found", "message": "no record with this decision_id"}),
        file=sys.stderr,
    )
    return 1
