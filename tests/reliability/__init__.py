"""Reliability and security proofs against real OPA and gunicorn processes (issue 8)."""
