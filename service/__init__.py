"""hipaa-gate: a thin Flask shim in front of the OPA sidecar that decides HIPAA disclosures.

Importing the package loads nothing else: the CLI's commands import only what they use, and the
app comes from ``service.app:create_app``.
"""
