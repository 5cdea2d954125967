"""Security round 2: error paths, PHI in the log, answers never sent, Content-Encoding, dates.

Each test reproduces a defect the red-team pass found (it failed before the fix).
"""

from __future__ import annotations

import gzip
import json

import pytest
from flask import g
from prometheus_client import REGISTRY

from service.records.patient_ref import DEVELOPMENT_KEY, patient_ref
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


# ---------------------------------------------------------------- defect 4: PHI in the log

REF = patient_ref(DEVELOPMENT_KEY, SAMPLE_PATIENT_ID)


def _decide_and_capture(client, capfd, body):
    capfd.readouterr()
    r = client.post(DECIDE, json=body)
    out = capfd.readouterr()
    return r, out.out + out.err


def _assert_no_raw_patient_id(text: str) -> None:
    assert SAMPLE_PATIENT_ID not in text
    assert SAMPLE_PATIENT_ID.upper() not in text


@pytest.mark.parametrize(
    "request_id",
    [SAMPLE_PATIENT_ID, f"portal:{SAMPLE_PATIENT_ID}", f"gw-{SAMPLE_PATIENT_ID.upper()}-7"],
)
def test_a_request_id_holding_the_patient_id_is_pseudonymized(
    client, decision_log_path, capfd, request_id
):
    r, printed = _decide_and_capture(client, capfd, request_body(request_id=request_id))
    assert r.status_code == 200
    log_text = decision_log_path.read_text()
    (record,) = read_log(decision_log_path)
    for text in (log_text, printed, r.headers["X-Request-ID"], json.dumps(record)):
        _assert_no_raw_patient_id(text)
    assert REF in record["request_id"]
    assert record["request_id"] == r.headers["X-Request-ID"] == r.get_json()["request_id"]


@pytest.mark.parametrize("recipient_type", ["patient", "personal_representative"])
def test_the_patients_own_name_and_address_never_reach_the_log(
    client, decision_log_path, capfd, recipient_type
):
    name, address = "Pat Synthetic-Testperson", "1 Synthetic Test Way, Testville"
    body = request_body(
        purpose="individual_access",
        recipient={
            "type": recipient_type,
            "id": f"portal:{SAMPLE_PATIENT_ID}",
            "name": name,
            "address": address,
            "identity_verified": True,
        },
    )
    r, printed = _decide_and_capture(client, capfd, body)
    assert r.status_code == 200
    log_text = decision_log_path.read_text()
    for text in (log_text, printed):
        _assert_no_raw_patient_id(text)
        assert name not in text
        assert address not in text
    (record,) = read_log(decision_log_path)
    assert record["recipient"]["name"] == "[redacted]"
    assert record["input"]["recipient"]["address"] == "[redacted]"
    assert record["recipient"]["id"] == f"portal:{REF}"


def test_a_provider_recipients_name_is_still_logged(client, decision_log_path):
    r = client.post(DECIDE, json=request_body())
    assert r.status_code == 200
    (record,) = read_log(decision_log_path)
    assert record["recipient"]["name"] == "Test Cardiology"


def test_ids_that_contain_the_patient_id_are_pseudonymized_in_every_field(
    client, decision_log_path, capfd
):
    body = request_body()
    body["requester"] = {**body["requester"], "user_id": f"portal-{SAMPLE_PATIENT_ID}"}
    body["authorizations"] = [
        {
            "id": f"auth-{SAMPLE_PATIENT_ID.upper()}",
            "type": "hipaa_authorization",
            "signed": True,
            "signed_on": "2026-01-10",
            "recipients": [f"npi/{SAMPLE_PATIENT_ID}"],
            "purposes": ["treatment"],
            "categories": ["general"],
        }
    ]
    body["context"] = {"approval_id": f"{SAMPLE_PATIENT_ID}:approval"}
    r, printed = _decide_and_capture(client, capfd, body)
    assert r.status_code == 200
    for text in (decision_log_path.read_text(), printed):
        _assert_no_raw_patient_id(text)
    (record,) = read_log(decision_log_path)
    assert record["requester"]["user_id"] == f"portal-{REF}"
    assert record["input"]["context"]["approval_id"] == f"{REF}:approval"


# ---------------------------------------------------------------- defect 5: answers never sent


def test_an_fsync_failure_after_the_write_leaves_the_denial_last_in_the_file(
    app, decision_log_path, monkeypatch
):
    """The allow line reached the file, its fsync failed, the client got a 503: the file must
    say so (a later line, same decision_id, allow false), and the accounting must not list it."""
    import errno

    from service.audit import accounting
    from service.records import decision_log
    from service.records.files import read_records

    client = app.test_client()
    assert client.post(DECIDE, json=request_body()).status_code == 200  # the file exists
    calls = []

    def fsync_fails_once(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(decision_log.os, "fsync", fsync_fails_once)
    body = request_body(
        request_id="gw-fsync-1",
        purpose="public_health",
        # v1.2 rule A: an accountable disclosure names its recipient.
        recipient={
            "type": "public_health_authority",
            "id": "pha-1",
            "name": "County Public Health",
            "identity_verified": True,
        },
    )
    r = client.post(DECIDE, json=body)
    assert r.status_code == 503
    assert r.get_json()["error"]["code"] == "decision_log_unavailable"
    lines = [x for x in read_log(decision_log_path) if x["request_id"] == "gw-fsync-1"]
    assert [x["allow"] for x in lines] == [True, False]
    assert lines[0]["decision_id"] == lines[1]["decision_id"]
    assert lines[1]["reasons"] == ["decision_log_unavailable"]
    (record,) = [x for x in read_records([decision_log_path]) if x["request_id"] == "gw-fsync-1"]
    assert record["allow"] is False
    # Every record, whenever it was written (no reading of today's date).
    window = accounting.Window(accounting.dt.date(2000, 1, 1), accounting.dt.date(2999, 12, 31))
    assert (
        accounting.from_logs(
            [str(decision_log_path)], patient_ref=record["patient_ref"], window=window
        )
        == []
    )


def _line(decision_id: str, allow: bool) -> str:
    return json.dumps(
        {
            "timestamp": "2026-11-01T10:00:00Z",
            "event": "disclosure_decision",
            "decision_id": decision_id,
            "allow": allow,
            "reasons": [] if allow else ["decision_log_unavailable"],
        }
    )


@pytest.mark.parametrize("order", ["allow_first", "denial_first"])
def test_a_decision_id_seen_twice_reads_as_its_failure_in_any_file_order(tmp_path, order):
    from service.records.files import ReadStats, read_records

    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.jsonl"
    a.write_text(_line("d-1", True) + "\n" + _line("d-2", True) + "\n")
    b.write_text(_line("d-1", False) + "\n" + _line("d-2", True) + "\n")
    paths = [a, b] if order == "allow_first" else [b, a]
    stats = ReadStats()
    records = {r["decision_id"]: r for r in read_records(paths, stats=stats)}
    assert records["d-1"]["allow"] is False
    assert records["d-2"]["allow"] is True
    assert stats.records == 2
    assert stats.duplicates == 2


# ---------------------------------------------------------------- defect 6: smaller ones


def test_a_content_encoded_body_is_a_415(client, decision_log_path):
    raw = json.dumps(request_body()).encode()
    for coding, data in (("gzip", gzip.compress(raw)), ("deflate", raw), ("br", raw)):
        r = client.post(
            DECIDE,
            data=data,
            headers={"Content-Type": "application/json", "Content-Encoding": coding},
        )
        assert r.status_code == 415, coding
        error = r.get_json()["error"]
        assert error["code"] == "unsupported_media_type"
        assert "Content-Encoding" in error["message"]
    assert read_log(decision_log_path) == []
    r = client.post(
        DECIDE,
        data=raw,
        headers={"Content-Type": "application/json", "Content-Encoding": "identity"},
    )
    assert r.status_code == 200


def test_the_readiness_failure_marker_lives_in_a_private_directory(app):
    import os
    import stat

    marker = app.extensions["hipaa_gate"].log_sink.failure_marker
    info = os.lstat(marker.parent)
    assert stat.S_ISDIR(info.st_mode)
    assert info.st_uid == os.geteuid()
    assert stat.S_IMODE(info.st_mode) & 0o077 == 0


def test_a_runtime_directory_others_can_write_is_refused(tmp_path):
    import os

    from service.records.runtime_dir import RuntimeDirError, private_runtime_dir

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(RuntimeDirError):
        private_runtime_dir(shared)
    if os.geteuid() == 0:  # another owner can only be set up as root
        foreign = tmp_path / "foreign"
        foreign.mkdir(mode=0o700)
        os.chown(foreign, 65534, 65534)
        with pytest.raises(RuntimeDirError):
            private_runtime_dir(foreign)
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    with pytest.raises(RuntimeDirError):
        private_runtime_dir(link)
    fresh = private_runtime_dir(tmp_path / "fresh")
    assert fresh.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    ("field", "value"),
    [("expires_on", "2262-04-12"), ("expires_on", "9999-12-31"), ("signed_on", "1600-01-01")],
)
def test_a_date_the_policy_engine_cannot_represent_is_a_400(
    client, decision_log_path, field, value
):
    auth = {
        "id": "auth-far-1",
        "type": "hipaa_authorization",
        "signed": True,
        "signed_on": "2026-01-10",
        "expires_on": "2027-01-10",
        "recipient_types": ["provider"],
        "purposes": ["treatment"],
        "categories": ["general"],
    }
    auth[field] = value
    r = client.post(DECIDE, json=request_body(authorizations=[auth]))
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert f"/authorizations/0/{field}" in [d["path"] for d in error["details"]]
    assert read_log(decision_log_path) == []


def test_the_last_representable_dates_are_decided(client):
    auth = {
        "id": "auth-far-2",
        "type": "hipaa_authorization",
        "signed": True,
        "signed_on": "1678-01-01",
        "expires_on": "2261-12-31",
        "recipient_types": ["provider"],
        "purposes": ["treatment"],
        "categories": ["general"],
    }
    r = client.post(DECIDE, json=request_body(authorizations=[auth]))
    assert r.status_code == 200
    assert "INVALID_INPUT" not in [x["code"] for x in r.get_json()["reasons"]]


def test_a_breach_discovery_date_the_policy_engine_cannot_represent_is_a_400(client):
    r = client.post(
        "/v1/breach-notifications/plan", json={"discovered_on": "2262-05-01", "affected": {"CA": 3}}
    )
    assert r.status_code == 400
    assert "/discovered_on" in [d["path"] for d in r.get_json()["error"]["details"]]
