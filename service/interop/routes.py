"""The interop blueprint: CDS Hooks discovery, ``patient-consent-consult`` and its feedback, and
``/v1/consents/translate`` (docs/interop.md). Decisions take the decide path's steps: validation,
OPA (``data.hipaa.interop.consult``, which evaluates ``data.hipaa.decision``), the decision log
record before the answer, 503 and never a card when OPA or the log fails."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from service import metrics
from service.api.auth import token_allowed
from service.api.body import read_json
from service.api.decisions import decision_problem, query, utc_now, write_decision_record
from service.errors import (
    DecisionLogUnavailable,
    PolicyEngineUnavailable,
    RequestValidationError,
    Unauthorized,
)
from service.interop import cards
from service.interop.client_jwt import JwtVerifier, load_verifier
from service.interop.translate import HOOK, Translation, rebase_errors, translate
from service.interop.vocabulary import Vocabulary, load_vocabulary
from service.opa.client import OpaError
from service.opa.input import build_opa_input, load_schema
from service.records.decision_log import DecisionLogError, decision_record
from service.records.patient_ref import patient_ref

bp = Blueprint("interop", __name__)
log = structlog.get_logger("hipaa_gate.interop")

CONSULT_DOCUMENT = "hipaa/interop/consult"
FINDINGS_DOCUMENT = "hipaa/consents/findings"
FEEDBACK_EVENT = "card_feedback"
SOURCE = "cds-hooks"
_OUTCOMES = ("accepted", "overridden")

DISCOVERY = {
    "services": [
        {
            "hook": HOOK,
            "id": HOOK,
            "title": "hipaa-gate disclosure decision",
            "description": (
                "Decides whether this disclosure of the patient's information is permitted under "
                "HIPAA, 42 CFR Part 2 and state law, applying the FHIR Consents sent in "
                "context.consent or prefetch.consents (never fetched), with citations. The facts "
                "the law needs travel in extension['org.hipaa-gate.request']."
            ),
            "usageRequirements": (
                "Send context.patientId, context.purposeOfUse (v3-ActReason) and the "
                "org.hipaa-gate.request extension; see docs/interop.md."
            ),
        }
    ]
}


@dataclass
class InteropState:
    vocab: Vocabulary
    options: dict[str, Any]
    enums: dict[str, list[str]]
    jwt: JwtVerifier | None


def init_app(app: Flask) -> None:
    state = app.extensions["hipaa_gate"]
    policies = state.config["POLICY_DIR"]
    options_path = policies / "config" / "options" / "data.json"
    options = json.loads(options_path.read_text(encoding="utf-8")) if options_path.exists() else {}
    defs = load_schema("request.schema.json")["$defs"]
    app.extensions["hipaa_gate_interop"] = InteropState(
        vocab=load_vocabulary(policies),
        options=options,
        enums={
            "recipient_type": defs["recipient_type"]["enum"],
            "purpose": defs["purpose"]["enum"],
        },
        jwt=load_verifier(state.config),
    )
    state.openapi["paths"].update(openapi_paths())
    app.register_blueprint(bp)


def _states() -> tuple[Any, InteropState]:
    return current_app.extensions["hipaa_gate"], current_app.extensions["hipaa_gate_interop"]


@bp.before_request
def authenticate() -> None:
    """POSTs to /cds-services: an API token or, when configured, a verified CDS client JWT."""
    if request.method != "POST" or not request.path.startswith("/cds-services/"):
        return  # discovery is public; /v1/ paths are checked by the app's token hook
    state, interop = _states()
    tokens = state.config["API_TOKENS"]
    if not tokens and interop.jwt is None:
        return
    header = request.headers.get("Authorization")
    if tokens and token_allowed(header, tokens):
        return
    if interop.jwt is not None and interop.jwt.verify(header) is not None:
        return
    raise Unauthorized()


@bp.get("/cds-services")
def discovery() -> Response:
    g.endpoint_label = "cds_discovery"
    return jsonify(DISCOVERY)


def _translation(body: Any) -> Translation:
    _, interop = _states()
    return translate(
        body,
        vocab=interop.vocab,
        today=utc_now()[:10],
        options=interop.options,
        enums=interop.enums,
    )


def _opa_inputs(tr: Translation, now: str) -> list[dict[str, Any]]:
    state, _ = _states()
    inputs = []
    for body in tr.requests:
        try:
            inputs.append(
                build_opa_input(
                    body, now=now, request_id=body["request_id"], elements=state.elements
                )
            )
        except RequestValidationError as exc:
            raise rebase_errors(exc, tr.sources) from None
    return inputs


def _ask(consult_input: dict[str, Any]) -> tuple[dict[str, Any] | None, Any, str | None]:
    """One consult query: (usable answer or None, OPA decision id, failure code or None)."""
    try:
        answer = query(CONSULT_DOCUMENT, consult_input, label="hipaa.interop.consult")
    except OpaError as exc:
        log.error("opa_unavailable", kind=exc.kind)
        return None, None, PolicyEngineUnavailable.code
    body = answer.result if answer.defined else None
    problem = decision_problem(body.get("decision")) if isinstance(body, dict) else "undefined"
    if problem is None and not isinstance(body.get("defective"), list):
        problem = "malformed"
    if problem:
        metrics.OPA_ERRORS.labels("hipaa.interop.consult", problem).inc()
        log.error("opa_decision_unusable", problem=problem)
        return None, answer.decision_id, PolicyEngineUnavailable.code
    return body, answer.decision_id, None


def _decide(opa_input: dict[str, Any], tr: Translation) -> dict[str, Any]:
    """One decision through OPA, logged before it is returned; 503 on any failure.

    When an authorization comes from a consent the policy finds defective, OPA is asked again
    without it: the decision (and the logged input) never rely on a consent the law would not
    honour, and the common case costs one query.
    """
    state, _ = _states()
    decision_id = str(uuid.uuid4())
    request_id = opa_input["request_id"]
    ref = patient_ref(state.config["PATIENT_REF_KEY"], opa_input["patient"]["id"])
    result, opa_decision_id, failure = _ask({**opa_input, "consents": tr.consent_facts})
    findings = result["consent_findings"] if result else []
    defective = set(result["defective"]) if result else set()
    if result is not None and defective & _auth_ids(opa_input):
        opa_input = dict(opa_input)
        opa_input["authorizations"] = [
            a for a in opa_input["authorizations"] if a.get("id") not in defective
        ]
        result, opa_decision_id, failure = _ask({**opa_input, "consents": tr.consent_facts})
    decision = result["decision"] if result else None
    relied = _auth_ids(opa_input)
    consent_refs = [
        r for r in tr.consent_refs if r not in defective and (r in relied or r not in tr.auth_refs)
    ]
    record = decision_record(
        decision_id=decision_id,
        request_id=request_id,
        opa_input=opa_input,
        patient_ref=ref,
        decision=decision,
        opa_decision_id=opa_decision_id,
        latency_ms=(time.perf_counter() - g.started) * 1000,
        failure=failure,
    )
    record["source"] = SOURCE
    record["hook_instance"] = tr.hook_instance
    record["consent_refs"] = consent_refs
    record["consent_findings"] = [
        {"consent": f.get("consent"), "code": f.get("code")}
        for f in findings
        if isinstance(f, dict)
    ]
    write_decision_record(state, record, failure)
    if failure is not None or decision is None:
        raise PolicyEngineUnavailable()
    metrics.count_break_glass(opa_input, decision)
    shaped = {"decision_id": decision_id, "request_id": request_id, **decision}
    shaped["evaluated_at"] = opa_input["now"]
    shaped["_purpose"] = opa_input["purpose"]
    shaped["_categories"] = opa_input["data"]["categories"]
    shaped["_part2"] = bool(opa_input["data"].get("part2_program")) and (
        "substance_use_disorder" in opa_input["data"]["categories"]
    )
    shaped["_findings"] = findings
    shaped["_consent_refs"] = consent_refs
    return shaped


def _auth_ids(opa_input: dict[str, Any]) -> set[Any]:
    return {a.get("id") for a in opa_input.get("authorizations") or [] if isinstance(a, dict)}


@bp.post("/cds-services/patient-consent-consult")
def consult() -> Response:
    g.endpoint_label = "cds_consult"
    state, interop = _states()
    body = read_json(request, state.config["MAX_BODY_BYTES"])
    tr = _translation(body)
    now = utc_now()
    inputs = _opa_inputs(tr, now)
    structlog.contextvars.bind_contextvars(hook_instance=tr.hook_instance)
    decisions = [_decide(opa_input, tr) for opa_input in inputs]
    findings = decisions[0]["_findings"]
    based_on = list(dict.fromkeys(r for d in decisions for r in d["_consent_refs"]))
    card = cards.card(
        decisions,
        vocab=interop.vocab,
        based_on=based_on,
        findings=findings,
        ignored=tr.consents_ignored,
    )
    g.outcome = "allow" if all(d["allow"] for d in decisions) else "deny"
    return jsonify({"cards": [card]})


@bp.post("/cds-services/patient-consent-consult/feedback")
def feedback() -> Response:
    """CDS Hooks feedback: one ``card_feedback`` log line per item, tied by the card uuid."""
    g.endpoint_label = "cds_feedback"
    state, _ = _states()
    body = read_json(request, state.config["MAX_BODY_BYTES"])
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise _invalid("/feedback", "is required (a non-empty array)")
    records = [_feedback_record(item, f"/feedback/{i}") for i, item in enumerate(items)]
    for record in records:
        try:
            state.decision_logger.info(FEEDBACK_EVENT, **record)
        except DecisionLogError as exc:
            metrics.DECISION_LOG_FAILURES.inc()
            log.error("decision_log_write_failed", errno=exc.errno)
            raise DecisionLogUnavailable("The feedback could not be recorded.") from None
    return jsonify({})


def _invalid(path: str, message: str) -> RequestValidationError:
    return RequestValidationError(
        "The feedback request is not valid.", details=[{"path": path, "message": message}]
    )


def _feedback_record(item: Any, path: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _invalid(path, "must be an object")
    card_id = item.get("card")
    try:
        uuid.UUID(str(card_id))
    except ValueError:
        raise _invalid(path + "/card", "must be the uuid of a card this service returned") from None
    outcome = item.get("outcome")
    if outcome not in _OUTCOMES:
        raise _invalid(path + "/outcome", "must be one of: accepted, overridden")
    stamp = item.get("outcomeTimestamp")
    if not isinstance(stamp, str) or not stamp:
        raise _invalid(path + "/outcomeTimestamp", "is required (an ISO 8601 time)")
    reasons = []
    override = item.get("overrideReason")
    if override is not None:
        if outcome != "overridden" or not isinstance(override, dict):
            raise _invalid(path + "/overrideReason", "is allowed only with outcome overridden")
        reason = override.get("reason")
        if reason is not None and not (
            isinstance(reason, dict) and isinstance(reason.get("code"), str)
        ):
            raise _invalid(path + "/overrideReason/reason", "must be a Coding with a code")
        if reason:
            reasons.append({"system": reason.get("system"), "code": reason["code"]})
    return {
        "decision_id": str(card_id),
        "card": str(card_id),
        "outcome": outcome,
        "outcome_timestamp": stamp[:64],
        "override_reasons": reasons,
        # The free-text comment may hold clinical detail: only its presence is logged.
        "user_comment_given": bool(isinstance(override, dict) and override.get("userComment")),
        "source": SOURCE,
    }


@bp.post("/v1/consents/translate")
def translate_consents() -> Response:
    """The decide requests and consent findings a consult would produce, without deciding."""
    g.endpoint_label = "consents_translate"
    state, _ = _states()
    body = read_json(request, state.config["MAX_BODY_BYTES"])
    tr = _translation(body)
    _opa_inputs(tr, utc_now())  # the same validation as the consult
    try:
        answer = query(FINDINGS_DOCUMENT, {"consents": tr.consent_facts})
    except OpaError as exc:
        log.error("opa_unavailable", kind=exc.kind, document="hipaa.consents.findings")
        raise PolicyEngineUnavailable("The policy engine did not answer.") from None
    findings = answer.result if answer.defined else None
    if not isinstance(findings, list):
        metrics.OPA_ERRORS.labels("hipaa.consents.findings", "malformed").inc()
        raise PolicyEngineUnavailable("The policy engine did not return a usable answer.")
    defective = {f.get("consent") for f in findings if isinstance(f, dict) and f.get("defective")}
    return jsonify(
        {
            "requests": tr.requests,
            "consent_findings": findings,
            "consents_ignored": tr.consents_ignored,
            "consents_relied_on": [r for r in tr.consent_refs if r not in defective],
        }
    )


def openapi_paths() -> dict[str, Any]:
    """The OpenAPI path items of this blueprint (merged into /openapi.json at start-up)."""
    from service.interop.openapi import PATHS

    return PATHS
