"""The one blueprint: decisions, the other policy documents, health, readiness, metrics, OpenAPI."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC
from functools import cache
from typing import Any

import structlog
from flask import Blueprint, Response, current_app, g, jsonify, request

from service import metrics
from service.api.body import read_json
from service.api.request_warnings import request_warnings
from service.errors import (
    DecisionLogUnavailable,
    NotFound,
    PolicyEngineUnavailable,
    RequestValidationError,
)
from service.opa.client import OpaError
from service.opa.input import build_opa_input, inlined_schema, load_schema, validate_request
from service.records.decision_log import EVENT, DecisionLogError, decision_record
from service.records.patient_ref import patient_ref, replace_patient_id

bp = Blueprint("hipaa_gate", __name__)
log = structlog.get_logger("hipaa_gate.api")

DECISION_DOCUMENT = "hipaa/decision"
BREACH_DOCUMENT = "hipaa/breach/plan"
STATE_LAW_DOCUMENT = "hipaa/state/law"
STATE_LAWS_DOCUMENT = "hipaa/state/laws"
FINDINGS_DOCUMENT = "hipaa/vendors/findings"
_DECISION_LISTS = ("basis", "reasons", "requirements", "obligations", "jurisdictions")
_STATE_CODE = re.compile(r"^[A-Za-z]{2}$")


def utc_now() -> str:
    """The decision time (RFC 3339, UTC) from the app's clock (``CLOCK``, service.config)."""
    return _state().config.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _state() -> Any:
    return current_app.extensions["hipaa_gate"]


def decision_problem(result: Any) -> str | None:
    """Why ``result`` is not a usable decision (then the request is denied with a 503)."""
    if not isinstance(result, dict):
        return "undefined" if result is None else "malformed"
    if not isinstance(result.get("allow"), bool):
        return "malformed"
    # Every field of the contract's response (§4) must be there: a gateway reads them blindly.
    for name in _DECISION_LISTS:
        if not isinstance(result.get(name), list):
            return "malformed"
    if not isinstance(result.get("minimum_necessary"), dict):
        return "malformed"
    if not isinstance(result.get("policy_revision"), str) or not result["policy_revision"]:
        return "malformed"
    if result["allow"] and (not result.get("basis") or result.get("reasons")):
        return "malformed"  # allow needs a basis and no deny reason (docs/api.md)
    return None


def query(document: str, opa_input: Any, *, label: str | None = None):
    """Ask OPA; record the round trip; ``OpaError`` propagates to the caller."""
    state = _state()
    label = label or document.replace("/", ".")
    try:
        answer = state.opa.query(document, opa_input)
    except OpaError as exc:
        metrics.OPA_ERRORS.labels(label, exc.kind).inc()
        raise
    metrics.OPA_SECONDS.labels(label).observe(answer.seconds)
    return answer


def write_decision_record(state: Any, record: dict[str, Any], failure: str | None) -> None:
    """Write a decision's record before it is answered (the file, fsync'd, and stdout).

    A write that fails denies the request: the record becomes a denial with the failure's code,
    written where it still can be, and ``DecisionLogUnavailable`` is raised (unless OPA had
    already failed: the caller then answers its own 503)."""
    try:
        state.decision_logger.info(EVENT, **record)
    except DecisionLogError as exc:
        metrics.DECISION_LOG_FAILURES.inc()
        log.error("decision_log_write_failed", errno=exc.errno)
        # The request is denied: record that (on stdout, the file failed) and answer 503.
        record["allow"] = False
        record["accountable"] = False
        record["basis"] = record["obligations"] = record["elements_permitted"] = []
        record["reasons"] = [failure or DecisionLogUnavailable.code]
        # If the record reached the file (only its fsync failed), the denial goes there too, as
        # a later line with the same decision_id: the reader takes the failure (logfiles).
        logged = False
        if exc.written:
            try:
                state.decision_logger.info(EVENT, **record)  # the file, and stdout
                logged = True
            except DecisionLogError:
                pass
        if not logged:
            state.fallback_logger.info(EVENT, **record)
        if failure is None:
            raise DecisionLogUnavailable() from None


@bp.post("/v1/disclosures/decide")
def decide() -> Response:
    g.endpoint_label = "decide"
    state = _state()
    body = read_json(request, state.config.max_body_bytes)
    decision_id = str(uuid.uuid4())
    now = utc_now()
    request_id = g.request_id
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    opa_input = build_opa_input(body, now=now, request_id=request_id, elements=state.elements)
    ref = patient_ref(state.config.patient_ref_key, opa_input["patient"]["id"])
    # A request id made from the patient id is PHI: it is answered, sent as X-Request-ID and
    # logged (every line, the access log too) with the patient id replaced by patient_ref.
    request_id = opa_input["request_id"] = replace_patient_id(
        request_id, opa_input["patient"]["id"], ref
    )
    g.request_id = request_id
    structlog.contextvars.bind_contextvars(request_id=request_id, decision_id=decision_id)

    failure: str | None = None
    decision: dict[str, Any] | None = None
    opa_decision_id = None
    try:
        answer = query(DECISION_DOCUMENT, opa_input, label="hipaa.decision")
        opa_decision_id = answer.decision_id
        problem = decision_problem(answer.result if answer.defined else None)
        if problem:
            metrics.OPA_ERRORS.labels("hipaa.decision", problem).inc()
            log.error("opa_decision_unusable", problem=problem)
            failure = PolicyEngineUnavailable.code
        else:
            decision = answer.result
    except OpaError as exc:
        log.error("opa_unavailable", kind=exc.kind)
        failure = PolicyEngineUnavailable.code

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
    write_decision_record(state, record, failure)
    if failure is not None or decision is None:
        raise PolicyEngineUnavailable()

    g.outcome = "allow" if decision["allow"] else "deny"
    metrics.count_break_glass(opa_input, decision)
    shaped = {"decision_id": decision_id, "request_id": request_id}
    shaped.update(decision)
    shaped["evaluated_at"] = now
    # What the request held that the decision ignored (never part of the decision itself).
    shaped["warnings"] = request_warnings(body, inlined_schema(), state.roles)
    return jsonify(shaped)


@bp.post("/v1/breach-notifications/plan")
def breach_plan() -> Response:
    g.endpoint_label = "breach_plan"
    state = _state()
    body = read_json(request, state.config.max_body_bytes)
    try:
        validate_request(body, schema="breach_plan.schema.json")
    except RequestValidationError as exc:
        # The schema owns the shape; the policy checks what it cannot (calendar dates, known
        # states): ask it too, so that every problem is listed at once, not the policy's only
        # after a second attempt. Its errors are read in one place (_policy_errors).
        exc.details = _with_policy_problems(exc.details, body)
        raise
    # A schema-valid body goes to the policy as sent: it applies the defaults itself.
    answer = _answer_or_503(BREACH_DOCUMENT, body)
    errors = _policy_errors(answer)
    if errors is None:
        raise _unusable("hipaa.breach.plan")
    if errors:
        raise RequestValidationError(details=errors)
    return jsonify(answer)


def _policy_errors(answer: Any) -> list[dict[str, str]] | None:
    """The breach policy's ``errors`` as details (``[]`` for a plan; ``None``: not an answer)."""
    errors = answer.get("errors", []) if isinstance(answer, dict) else None
    if isinstance(errors, list) and all(
        isinstance(e, dict) and isinstance(e.get("path"), str) and isinstance(e.get("message"), str)
        for e in errors
    ):
        return [{"path": e["path"], "message": e["message"]} for e in errors]
    return None


def _with_policy_problems(details: list[dict[str, str]], body: Any) -> list[dict[str, str]]:
    """``details`` plus the breach policy's own problems on fields the schema found no fault in."""
    if not isinstance(body, dict):
        return details
    try:
        answer = query(BREACH_DOCUMENT, body, label="hipaa.breach.plan")
    except OpaError:
        return details  # the schema's problems are enough for a 400
    seen = {d["path"] for d in details}
    extra = [
        e
        for e in _policy_errors(answer.result) or []
        if not any(e["path"] == p or e["path"].startswith(p + "/") for p in seen)
    ]
    return sorted(details + extra, key=lambda d: (d["path"], d["message"]))


@bp.get("/v1/state-laws/<code>")
def state_law(code: str) -> Response:
    g.endpoint_label = "state_law"
    if not _STATE_CODE.match(code):
        raise NotFound("No state law entry for this code.")
    answer = _answer_or_503(STATE_LAW_DOCUMENT, {"state": code.upper()}, undefined_ok=True)
    if answer is None:
        if code.upper() in _valid_states():
            raise NotFound(
                f"{code.upper()} is a valid state with no overlay in the state law matrix: "
                "HIPAA alone applies there. GET /v1/state-laws lists the states that have one."
            )
        raise NotFound("No state law entry for this code.")
    if not isinstance(answer, dict):
        raise _unusable("hipaa.state.law")
    return jsonify(answer)


@bp.get("/v1/state-laws")
def state_laws() -> Response:
    g.endpoint_label = "state_laws"
    answer = _answer_or_503(STATE_LAWS_DOCUMENT, {})
    if not isinstance(answer, list):
        raise _unusable("hipaa.state.laws")
    return jsonify({"states": answer})


@cache
def _valid_states() -> frozenset[str]:
    """The state codes a request may name (the request schema's enumeration)."""
    return frozenset(load_schema("request.schema.json")["$defs"]["state"]["enum"])


@bp.get("/v1/business-associates/findings")
def vendor_findings() -> Response:
    g.endpoint_label = "vendor_findings"
    answer = _answer_or_503(FINDINGS_DOCUMENT, {"now": utc_now()})
    if not isinstance(answer, dict | list):
        raise _unusable("hipaa.vendors.findings")
    return jsonify(answer)


def _unusable(label: str) -> PolicyEngineUnavailable:
    metrics.OPA_ERRORS.labels(label, "malformed").inc()
    return PolicyEngineUnavailable("The policy engine did not return a usable answer.")


def _answer_or_503(document: str, opa_input: Any, *, undefined_ok: bool = False) -> Any:
    label = document.replace("/", ".")
    try:
        answer = query(document, opa_input, label=label)
    except OpaError as exc:
        log.error("opa_unavailable", kind=exc.kind, document=label)
        raise PolicyEngineUnavailable("The policy engine did not answer.") from None
    if not answer.defined or answer.result is None:
        if undefined_ok:
            return None
        metrics.OPA_ERRORS.labels(label, "undefined").inc()
        raise PolicyEngineUnavailable("The policy engine has no answer for this document.")
    return answer.result


# ----------------------------------------------------------------------------- operations


@bp.get("/healthz")
def healthz() -> Response:
    g.endpoint_label = "healthz"
    return jsonify({"status": "ok"})


def readiness() -> tuple[bool, dict[str, Any]]:
    state = _state()
    checks: dict[str, str] = {}
    revision = None
    problem = state.opa.bundles_ready()
    checks["opa"] = problem or "ok"
    if problem is None:
        probe = {
            "requester": {"user_id": "readiness-probe", "roles": ["readiness_probe"], "mfa": False},
            "patient": {"id": "readiness-probe", "state": "CA"},
            "recipient": {"type": "other"},
            "purpose": "treatment",
            "data": {"categories": ["general"]},
        }
        probe_input = build_opa_input(probe, now=utc_now(), request_id="readiness", elements=None)
        try:
            answer = state.opa.query(DECISION_DOCUMENT, probe_input)
            problem = decision_problem(answer.result if answer.defined else None)
            if problem is None:
                revision = answer.result.get("policy_revision")
                if not isinstance(revision, str) or not revision:
                    problem = "decision has no policy_revision"
                elif state.expected_revision and revision != state.expected_revision:
                    problem = f"policy revision {revision} is not the expected one"
            checks["policies"] = f"decision document {problem}" if problem else "ok"
        except OpaError as exc:
            checks["policies"] = str(exc)
    else:
        checks["policies"] = "not checked: OPA not ready"
    log_problem = state.log_sink.check_writable()
    checks["decision_log"] = log_problem or "ok"
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    body["policy_revision"] = revision
    return ready, body


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    g.endpoint_label = "readyz"
    ready, body = readiness()
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def metrics_endpoint() -> Response:
    g.endpoint_label = "metrics"
    payload, content_type = metrics.render()
    return Response(payload, content_type=content_type)


@bp.get("/openapi.json")
def openapi() -> Response:
    g.endpoint_label = "openapi"
    return jsonify(_state().openapi)
