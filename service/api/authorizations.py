"""``POST /v1/authorizations/requirements`` (docs/authorizations.md): the requirements a valid
authorization or Part 2 consent must meet, from ``data.hipaa.authorization_forms.requirements``."""

from __future__ import annotations

import structlog
from flask import Blueprint, Response, current_app, g, jsonify, request

from service import metrics
from service.api.body import read_json
from service.api.decisions import query
from service.authorization_forms import (
    REQUIREMENTS_DOCUMENT,
    SCHEMA,
    problems,
    requirements_input,
    usable,
)
from service.errors import PolicyEngineUnavailable, RequestValidationError
from service.opa.client import OpaError
from service.opa.input import validate_request

bp = Blueprint("authorization_forms", __name__)
log = structlog.get_logger("hipaa_gate.authorization_forms")
LABEL = "hipaa.authorization_forms.requirements"


@bp.post("/v1/authorizations/requirements")
def authorization_requirements() -> Response:
    g.endpoint_label = "authorization_requirements"
    state = current_app.extensions["hipaa_gate"]
    body = read_json(request, state.config.max_body_bytes)
    validate_request(body, schema=SCHEMA)
    try:
        answer = query(REQUIREMENTS_DOCUMENT, requirements_input(body), label=LABEL)
    except OpaError as exc:
        log.error("opa_unavailable", kind=exc.kind, document=LABEL)
        raise PolicyEngineUnavailable("The policy engine did not answer.") from None
    details = problems(answer.result if answer.defined else None)
    if details:
        raise RequestValidationError(details=details)
    if not answer.defined or not usable(answer.result):
        metrics.OPA_ERRORS.labels(LABEL, "malformed").inc()
        raise PolicyEngineUnavailable("The policy engine did not return a usable answer.")
    return jsonify(answer.result)
