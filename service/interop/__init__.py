"""Health-IT interoperability (docs/interop.md): CDS Hooks ``patient-consent-consult``, FHIR
Consent in, HL7 security labels and FHIR AuditEvents out. Format conversion only: every decision
still comes from OPA through the decide path's steps (validation, fail closed, log first)."""

from __future__ import annotations

from typing import Any


def register(app: Any) -> None:
    """Add the interop blueprint, its configuration and its OpenAPI paths to ``app``."""
    from service.interop.routes import init_app

    init_app(app)
