"""Synthetic decision records and audit configurations for the audit desk's tests."""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import json
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
CONFIG = json.loads((ROOT / "policies" / "config" / "audit" / "data.json").read_text())
NY = ZoneInfo("America/New_York")
#: Wednesday 2026-06-17, a working day (EDT, UTC-4).
WEDNESDAY = dt.date(2026, 6, 17)
REF_A = "a" * 64
REF_B = "b" * 64


def local(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), NY)


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def decision(
    when: dt.datetime,
    *,
    user: str = "u-test-0001",
    patient_ref: str = REF_A,
    allow: bool = True,
    purpose: str = "treatment",
    basis: list[str] | None = None,
    recipient: tuple[str, str | None, str | None] = ("provider", "npi-test-0001", "Test Clinic"),
    break_glass: bool | None = None,
    obligations: list[str] | None = None,
    accountable: bool = False,
    decision_id: str | None = None,
) -> dict[str, Any]:
    """A decision record (docs/api.md, decision log) with synthetic values."""
    rtype, rid, rname = recipient
    record: dict[str, Any] = {
        "timestamp": stamp(when),
        "event": "disclosure_decision",
        "decision_id": decision_id or str(uuid.uuid4()),
        "request_id": "gw-test",
        "opa_decision_id": None,
        "policy_revision": "sha256-test",
        "requester": {"user_id": user, "roles": ["physician"], "organization_id": "org-test"},
        "patient_ref": patient_ref,
        "patient_state": "CA",
        "recipient": {"type": rtype, "id": rid, "name": rname},
        "purpose": purpose,
        "categories": ["general"],
        "elements_permitted": ["dob"] if allow else [],
        "allow": allow,
        "basis": (basis if basis is not None else ["TREATMENT"]) if allow else [],
        "reasons": [] if allow else ["NO_PERMISSION"],
        "obligations": obligations or [],
        "accountable": accountable,
        "latency_ms": 1.0,
        "input": {"patient": {"id": patient_ref, "patient_ref": patient_ref}, "purpose": purpose},
    }
    if break_glass is not None:
        record["break_glass"] = break_glass
    return record


def write_log(path: Path, records: list[dict[str, Any]], *, gz: bool = False, extra: str = ""):
    text = "".join(json.dumps(r) + "\n" for r in records) + extra
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def config(**rules: dict[str, Any]) -> dict[str, Any]:
    """The shipped audit configuration with some rules' settings replaced."""
    cfg = copy.deepcopy(CONFIG)
    for name, values in rules.items():
        if name in cfg["rules"]:
            cfg["rules"][name].update(values)
        else:
            cfg[name] = values
    return cfg
