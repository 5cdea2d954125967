"""Errors the API answers with, and their JSON shape.

Every error answer is ``{"error": {"code", "message", "details"}}`` (docs/api.md, errors).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error with a fixed snake_case ``code`` that maps to one HTTP status."""

    status = 500
    code = "internal_error"
    message = "The server could not complete the request."

    def __init__(self, message: str | None = None, details: list[Any] | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details or []

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidJson(ApiError):
    status = 400
    code = "invalid_json"
    message = "The request body is not valid JSON."


class RequestValidationError(ApiError):
    """The JSON does not satisfy the request schema.

    ``details`` is a list of ``{"path": "/json/pointer", "message": str}``, one per problem.
    """

    status = 400
    code = "invalid_request"
    message = "The request does not satisfy the request schema."


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"
    message = "A valid bearer token is required."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    message = "No such resource."


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"
    message = "This method is not allowed on this resource."


class MalformedBody(ApiError):
    """The body's framing (chunked transfer coding) is broken: where it ends is unknown."""

    status = 400
    code = "invalid_request"
    message = "The HTTP request is malformed and was not read."

    def __init__(self) -> None:
        super().__init__(details=[{"path": "", "message": "the body framing cannot be accepted"}])


class RequestTimeout(ApiError):
    """The client did not send the request head or body within its timeout."""

    status = 408
    code = "request_timeout"
    message = "The request was not received in time; the connection is closed."


class RequestTooLarge(ApiError):
    status = 413
    code = "request_too_large"
    message = "The request body is larger than the configured limit."


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"
    message = "The request body must be sent as application/json."


class TransferCodingNotImplemented(ApiError):
    status = 501
    code = "not_implemented"
    message = "The request's transfer coding is not supported (only chunked is)."


class PolicyEngineUnavailable(ApiError):
    status = 503
    code = "policy_engine_unavailable"
    message = "The policy engine did not return a decision; the request is denied."


class DecisionLogUnavailable(ApiError):
    status = 503
    code = "decision_log_unavailable"
    message = "The decision could not be recorded; the request is denied."


class InternalError(ApiError):
    status = 500
    code = "internal_error"
    message = "The server could not complete the request."


def pointer(parts: Any) -> str:
    """JSON Pointer (RFC 6901) for a sequence of keys and indexes."""
    out = ""
    for part in parts:
        out += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return out
