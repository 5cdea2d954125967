"""OpenAPI 3.1 path items of the interop endpoints (merged into ``/openapi.json`` at start-up)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}
_HEADERS = {"X-Request-ID": {"$ref": "#/components/headers/XRequestID"}}


def _response(description: str, schema: dict[str, Any] = _ERROR) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _HEADERS,
        "content": {"application/json": {"schema": schema}},
    }


_BODY_ERRORS = {
    "400": _response(
        "Body is not JSON, or cannot be translated: `details[].path` is a JSON Pointer into the "
        "request (`error.code`: `invalid_json`, `invalid_request`)"
    ),
    "401": _response("Auth is configured and the bearer token or client JWT is missing or wrong"),
    "405": _response("Method not allowed (`error.code`: `method_not_allowed`)"),
    "413": _response("Body over the configured limit (`error.code`: `request_too_large`)"),
    "415": _response("Body not sent as application/json (`error.code`: `unsupported_media_type`)"),
    "500": _response("Unexpected server error, without details (`error.code`: `internal_error`)"),
    "501": _response(
        "A transfer coding the server does not undo (`error.code`: `not_implemented`)"
    ),
}
_UNAVAILABLE = _response(
    "OPA or the decision log unavailable: denied, never a card (`error.code`: "
    "`policy_engine_unavailable`, `decision_log_unavailable`)"
)
_JSON_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object"}}},
}
_CARD = {
    "type": "object",
    "required": ["uuid", "summary", "indicator", "source", "extension"],
    "properties": {
        "uuid": {"type": "string", "format": "uuid"},
        "summary": {"enum": ["CONSENT_PERMIT", "NO_CONSENT", "CONSENT_DENY"]},
        "indicator": {"enum": ["info", "warning", "critical"]},
        "detail": {"type": "string"},
        "source": {"type": "object", "required": ["label"]},
        "extension": {
            "type": "object",
            "required": ["decision", "basedOn", "obligations", "org.hipaa-gate.decision"],
        },
    },
}

PATHS: dict[str, Any] = {
    "/cds-services": {
        "get": {
            "operationId": "getCdsServices",
            "summary": "CDS Hooks discovery: the patient-consent-consult service",
            "responses": {
                "200": _response(
                    "The discovery document",
                    {"type": "object", "required": ["services"]},
                ),
                "405": _BODY_ERRORS["405"],
                "500": _BODY_ERRORS["500"],
            },
        }
    },
    "/cds-services/patient-consent-consult": {
        "post": {
            "operationId": "consult",
            "summary": "CDS Hooks patient-consent-consult: one card from the OPA decision",
            "requestBody": _JSON_BODY,
            "responses": {
                "200": _response(
                    "One card",
                    {
                        "type": "object",
                        "required": ["cards"],
                        "properties": {
                            "cards": {"type": "array", "items": _CARD, "minItems": 1, "maxItems": 1}
                        },
                    },
                ),
                **_BODY_ERRORS,
                "503": _UNAVAILABLE,
            },
        }
    },
    "/cds-services/patient-consent-consult/feedback": {
        "post": {
            "operationId": "consultFeedback",
            "summary": "CDS Hooks feedback, logged as card_feedback events",
            "requestBody": _JSON_BODY,
            "responses": {
                "200": _response("Recorded", {"type": "object"}),
                **_BODY_ERRORS,
                "503": _UNAVAILABLE,
            },
        }
    },
    "/v1/consents/translate": {
        "post": {
            "operationId": "translateConsents",
            "summary": "The decide requests and consent findings of a consult, without deciding",
            "requestBody": _JSON_BODY,
            "responses": {
                "200": _response(
                    "The translation",
                    {
                        "type": "object",
                        "required": [
                            "requests",
                            "consent_findings",
                            "consents_ignored",
                            "consents_relied_on",
                        ],
                    },
                ),
                **_BODY_ERRORS,
                "503": _UNAVAILABLE,
            },
        }
    },
}
