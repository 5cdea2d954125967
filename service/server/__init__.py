"""Serving: `hipaa-gate serve` (OPA + gunicorn, supervised), gunicorn settings and worker."""
