"""``create_app(config)``: the Flask application factory."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from service import config as config_mod
from service import metrics
from service.api.auth import token_allowed
from service.api.authorizations import bp as authorization_forms_bp
from service.api.decisions import bp
from service.api.openapi_examples import attach_examples
from service.api.request_warnings import load_role_catalog
from service.config import Config
from service.errors import (
    ApiError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    RequestTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from service.interop import register as register_interop
from service.jsonio import JsonProvider
from service.log_config import configure_logging
from service.opa.client import OpaClient
from service.opa.input import ecma_regex, load_element_catalog, load_schema, prepare_validation
from service.paths import PACKAGE_DIR
from service.records.decision_log import DecisionLogFile, StdoutOnly, make_decision_logger

log = structlog.get_logger("hipaa_gate")


@dataclass
class AppState:
    config: Config
    opa: OpaClient
    log_sink: DecisionLogFile
    decision_logger: Any
    fallback_logger: Any
    elements: frozenset[str] | None
    openapi: dict[str, Any]
    expected_revision: str | None
    roles: frozenset[str] | None = None


def load_openapi(explorer: bool = True) -> dict[str, Any]:
    """``service/api/openapi.json`` with the request schemas from ``service/schemas`` embedded (and
    without the explorer's paths when the explorer is off: then they are not routed)."""
    doc = json.loads((PACKAGE_DIR / "api" / "openapi.json").read_text(encoding="utf-8"))
    if not explorer:
        doc["paths"] = {k: v for k, v in doc["paths"].items() if not k.startswith("/explorer")}
    schemas = doc["components"]["schemas"]
    schemas["DecisionRequest"] = load_schema("request.schema.json")
    schemas["BreachPlanRequest"] = load_schema("breach_plan.schema.json")
    schemas["AuthorizationRequirementsRequest"] = load_schema(
        "authorization_requirements.schema.json"
    )
    return doc


#: The identifier syntax (request.schema.json ``$defs.identifier``), with ``\\Z`` for its ``$``.
_HEADER_SAFE_ID = ecma_regex(load_schema("request.schema.json")["$defs"]["identifier"]["pattern"])


def _http_error(exc: HTTPException) -> ApiError:
    if exc.code == 500:
        return InternalError()
    if exc.code == 404:
        return NotFound()
    if exc.code == 405:
        return MethodNotAllowed()
    if exc.code == 413:
        return RequestTooLarge()
    if exc.code == 415:
        return UnsupportedMediaType()
    error = ApiError(exc.description or exc.name)
    error.status = exc.code or 500
    error.code = (exc.name or "error").lower().replace(" ", "_").replace("-", "_")
    error.message = f"{exc.name}."
    return error


def create_app(config: Config | dict[str, Any] | None = None) -> Flask:
    """Build the app from ``config``: a ``Config``, or overrides of the ``HIPAA_GATE_*``
    variables by name (``service.config.resolve``)."""
    configure_logging()
    cfg = config_mod.resolve(config)
    app = Flask(__name__)
    app.config.update(
        # One byte over the limit: werkzeug stops reading a chunked body there (without raising),
        # so a body longer than the limit is seen as limit + 1 bytes and refused (service.api.body).
        MAX_CONTENT_LENGTH=cfg.max_body_bytes + 1,
        JSON_SORT_KEYS=False,
        TRUSTED_HOSTS=None,
    )
    app.json = JsonProvider(app)
    sink = DecisionLogFile(
        cfg.decision_log, fsync=cfg.log_fsync == "always", runtime_dir=cfg.runtime_dir
    )
    state = AppState(
        config=cfg,
        opa=OpaClient(
            cfg.opa_url,
            connect_timeout=cfg.opa_connect_timeout,
            read_timeout=cfg.opa_read_timeout,
            ca_bundle=cfg.opa_ca_bundle,
            token=cfg.opa_token,
        ),
        log_sink=sink,
        decision_logger=make_decision_logger(sink),
        fallback_logger=make_decision_logger(StdoutOnly()),
        elements=load_element_catalog(Path(cfg.policy_dir)),
        openapi=load_openapi(explorer=cfg.explorer),
        expected_revision=cfg.policy_revision or None,
        roles=load_role_catalog(Path(cfg.policy_dir)),
    )
    app.extensions["hipaa_gate"] = state
    prepare_validation()
    structlog.contextvars.clear_contextvars()
    if cfg.patient_ref_key_is_development:
        log.warning(
            "development_patient_ref_key",
            message="HIPAA_GATE_DEV_MODE=1 and no HIPAA_GATE_PATIENT_REF_KEY: patient_ref values "
            "use the published DEVELOPMENT key and are not pseudonymous. Never use with real data.",
        )
    if state.elements is None:
        log.warning("element_catalog_missing", policy_dir=str(cfg.policy_dir))

    @app.before_request
    def start_request() -> None:
        ctx = g._get_current_object()  # one context look-up instead of one per attribute
        ctx.started = time.perf_counter()
        ctx.request_id = str(uuid.uuid4())
        ctx.endpoint_label = "other"
        ctx.outcome = None
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=ctx.request_id)
        if cfg.api_tokens:
            req = request._get_current_object()
            if req.path.startswith("/v1/") and not token_allowed(
                req.headers.get("Authorization"), cfg.api_tokens
            ):
                raise Unauthorized()

    @app.after_request
    def finish_request(response: Response) -> Response:
        # Nothing here may raise: a failure after the view would become a bare 500 without
        # these headers and uncounted. Counted first; the request id is sent only when it has
        # the identifier syntax (a caller's id always has; the header cannot be split).
        ctx = g._get_current_object()  # one context look-up instead of one per attribute
        endpoint = ctx.get("endpoint_label", "other")
        status = response.status_code
        outcome = ctx.get("outcome") or ("ok" if status < 400 else "error")
        metrics.count_request(endpoint, outcome, status)
        started = ctx.get("started")
        if started is not None:
            metrics.observe_request(endpoint, time.perf_counter() - started)
        headers = response.headers
        request_id = ctx.get("request_id")
        if not isinstance(request_id, str) or not _HEADER_SAFE_ID.match(request_id):
            request_id = ctx.request_id = str(uuid.uuid4())
        headers["X-Request-ID"] = request_id
        headers["Cache-Control"] = "no-store"
        headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> tuple[Response, int]:
        response = jsonify(exc.body())
        if isinstance(exc, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="hipaa-gate"'
        return response, exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        error = _http_error(exc)
        response = jsonify(error.body())
        if exc.code == 405:
            allowed = [m for m in (exc.valid_methods or []) if m]  # type: ignore[attr-defined]
            if allowed:
                response.headers["Allow"] = ", ".join(sorted(allowed))
        return response, error.status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        log.error("internal_error", exc_info=exc)
        error = InternalError()
        return jsonify(error.body()), error.status

    app.register_blueprint(bp)
    app.register_blueprint(authorization_forms_bp)
    register_interop(app)
    attach_examples(state.openapi)  # examples of the operations built in code (interop)
    if cfg.explorer:  # the decision explorer page: development, or switched on explicitly
        from service.api import explorer

        app.register_blueprint(explorer.bp)
    return app
