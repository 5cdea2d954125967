"""Security round 2: error paths, PHI in the log, answers never sent, Content-Encoding, dates.

Each test reproduces a defect the red-team pass found (it failed before the fix).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from flask import g
from prometheus_client import REGISTRY

from service.patient_ref import DEVELOPMENT_KEY, patient_ref
from tests.conftest import SAMPLE_PATIENT_ID, read_log, request_body

DECIDE = "/v1/disclosures/decide"


def _count(endpoint: str, outcome: str, code: str) -> float:
    value = REGISTRY.get_sample_value(
        "hipaa_gate_requests_total", {"endpoint": endpoint, "outcome": outcome, "code": code}
    )
    return value or 0.0


# ---------------------------------------------------------------- defect 2: every error path


def test_a_request_id_unfit_for_a_header_never_breaks_the_answer(app):
    """A newline in the request id once made werkzeug refuse the header after the view: a bare
    500 ``internal_server_error`` without X-Request-ID or Cache-Control, and not counted."""

    def view():
        g.endpoint_label = "test_fault"
        g.request_id = "gw-1\nInjected: yes"
        return {"ok": True}

    app.add_url_rule("/test-fault", view_func=view)
    before = _count("test_fault", "ok", "200")
    r = app.test_client().get("/test-fault")
    assert r.status_code == 200
    assert r.get_json() == {"ok": True}
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Request-ID"]
    assert "\n" not in r.headers["X-Request-ID"]
    assert "Injected" not in r.headers
    assert _count("test_fault", "ok", "200") == before + 1


def test_an_unexpected_error_in_a_view_is_counted(app):
    def view():
        g.endpoint_label = "test_boom"
        raise RuntimeError("boom")

    app.add_url_rule("/test-boom", view_func=view)
    before = _count("test_boom", "error", "500")
    r = app.test_client().get("/test-boom")
    assert r.status_code == 500
    assert r.get_json()["error"]["code"] == "internal_error"
    assert r.headers["X-Request-ID"]
    assert _count("test_boom", "error", "500") == before + 1
