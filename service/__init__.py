"""hipaa-gate: a thin Flask shim in front of the OPA sidecar that decides HIPAA disclosures."""

from service.app import create_app

__all__ = ["create_app"]
