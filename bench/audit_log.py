"""A realistic synthetic decision log for the audit benchmark (and, small, for the tests).

DuckDB generates the clean part with SQL (``range`` plus deterministic hashes: no randomness,
the same log for the same arguments) and writes it as gzip-compressed JSON lines, one rotation
file per block of days, in the decision-log record shape of docs/api.md: many users, patients,
recipients and purposes, about 5 % denials, a realistic share of accountable disclosures, all on
weekdays inside working hours (08:00-18:00, America/New_York). A small file of planted anomalies
follows, one or more per finding rule, whose expected findings are returned with the manifest.

    python bench/audit_log.py --records 5000000 --out DIR
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from service.records.patient_ref import patient_ref  # noqa: E402

TZ = "America/New_York"
KEY = "bench-synthetic-key-0123456789abcdef"
BENCH_PATIENT = "p-syn-000000"
VIP_PATIENT = "p-vip-000001"
SPRAY_PATIENT = "p-syn-spray01"
START = dt.date(2026, 1, 5)  # a Monday

#: (purpose, share in 1000, recipient type, basis, accountable)
PURPOSES = [
    ("treatment", 540, "provider", "TREATMENT", False),
    ("payment", 150, "health_plan", "PAYMENT", False),
    ("health_care_operations", 100, "business_associate", "HEALTH_CARE_OPERATIONS", False),
    ("individual_access", 30, "patient", "INDIVIDUAL_ACCESS", False),
    ("family_involvement", 30, "family_member", "FAMILY_INVOLVEMENT", False),
    ("public_health", 50, "public_health_authority", "PUBLIC_HEALTH", True),
    ("health_oversight", 15, "health_oversight_agency", "HEALTH_OVERSIGHT", True),
    ("required_by_law", 15, "government_agency", "REQUIRED_BY_LAW", True),
    ("law_enforcement", 10, "law_enforcement", "LAW_ENFORCEMENT", True),
    ("judicial_proceeding", 10, "court", "JUDICIAL_PROCEEDING", True),
    ("research", 30, "researcher", "RESEARCH_WAIVER", True),
    ("marketing", 20, "other", "PATIENT_AUTHORIZATION", False),
]


def _purpose_table() -> str:
    rows, low = [], 0
    for purpose, share, rtype, basis, accountable in PURPOSES:
        rows.append(
            f"({low}, {low + share}, '{purpose}', '{rtype}', '{basis}', {str(accountable).lower()})"
        )
        low += share
    assert low == 1000
    return "VALUES " + ", ".join(rows)


CLEAN_SQL = """
WITH base AS (
  SELECT i,
    hash(i, 11) % 1000 AS p_pick,
    hash(i, 13) % 1000 AS deny_pick,
    'u-syn-' || lpad(CAST(hash(i, 17) % $users AS VARCHAR), 5, '0') AS user_id,
    CASE WHEN hash(i, 19) % $bench_every = 0 THEN -1 ELSE CAST(hash(i, 23) % $patients AS BIGINT)
      END AS patient,
    CAST(floor(i * $weekdays / $total) AS INTEGER) AS weekday_index,
    CAST(hash(i, 31) % 36000 AS INTEGER) AS second_of_shift,
    CAST(hash(i, 37) % 1000000 AS INTEGER) AS micros,
    CAST(hash(i, 41) % $recipients AS INTEGER) AS recipient,
    hash(i, 43) % 10 AS cat_pick,
    md5(CAST(i AS VARCHAR) || '-decision') AS h
  FROM range($first, $last) AS t(i)
), p AS (
  SELECT * FROM (__PURPOSES__) AS v(lo, hi, purpose, rtype, basis_code, accountable)
), d AS (
  SELECT b.*, p.purpose, p.rtype, p.basis_code, p.accountable AS accountable_purpose,
    (b.deny_pick >= 50 AND p.purpose <> 'marketing') AS allowed,
    $start + (b.weekday_index // 5) * 7 + b.weekday_index % 5 AS day
  FROM base AS b JOIN p ON b.p_pick >= p.lo AND b.p_pick < p.hi
), t AS (
  SELECT *,
    timezone($tz, CAST(day AS TIMESTAMP) + to_seconds(8 * 3600 + second_of_shift)
      + to_microseconds(micros)) AS ts,
    CASE WHEN patient = -1 THEN $bench_ref ELSE sha256('synthetic-patient-' || patient) END
      AS patient_ref,
    substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-8'
      || substr(h, 18, 3) || '-' || substr(h, 21, 12) AS decision_id,
    CASE WHEN cat_pick < 8 THEN ['general'] WHEN cat_pick = 8 THEN ['general', 'mental_health']
      ELSE ['general', 'hiv'] END AS categories,
    CASE rtype WHEN 'patient' THEN NULL ELSE rtype || '-' || lpad(CAST(recipient AS VARCHAR), 4,
      '0') END AS rid
  FROM d
)
SELECT
  strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') AS "timestamp",
  'disclosure_decision' AS event,
  decision_id,
  'gw-' || substr(h, 1, 12) AS request_id,
  NULL AS opa_decision_id,
  'sha256-synthetic' AS policy_revision,
  {'user_id': user_id, 'roles': [CASE purpose WHEN 'payment' THEN 'billing_specialist'
     WHEN 'research' THEN 'researcher' WHEN 'treatment' THEN 'physician'
     ELSE 'privacy_officer' END], 'organization_id': 'org-syn-1'} AS requester,
  patient_ref,
  ['CA', 'NY', 'TX', 'FL', 'WA'][1 + CAST(hash(i, 47) % 5 AS INTEGER)] AS patient_state,
  {'type': rtype, 'id': coalesce(rid, patient_ref), 'name': CASE WHEN rid IS NULL
     THEN 'The patient' ELSE 'Synthetic ' || replace(rtype, '_', ' ') || ' ' || rid END}
    AS recipient,
  purpose,
  categories,
  CASE WHEN allowed THEN ['dob', 'lab_results'] ELSE [] END AS elements_permitted,
  allowed AS allow,
  CASE WHEN allowed THEN [basis_code] ELSE [] END AS basis,
  CASE WHEN allowed THEN [] WHEN purpose = 'marketing' THEN ['AUTHORIZATION_REQUIRED']
     ELSE ['NO_PERMISSION'] END AS reasons,
  CASE WHEN allowed AND accountable_purpose THEN ['ACCOUNT_FOR_DISCLOSURE'] ELSE [] END
    AS obligations,
  allowed AND accountable_purpose AS accountable,
  round(0.8 + (hash(i, 53) % 4000) / 1000.0, 3) AS latency_ms,
  {'requester': {'user_id': user_id, 'mfa': true},
   'patient': {'id': patient_ref, 'patient_ref': patient_ref, 'state': 'CA', 'age': 20
     + CAST(hash(i, 59) % 70 AS INTEGER)},
   'recipient': {'type': rtype, 'id': coalesce(rid, patient_ref), 'identity_verified': true},
   'purpose': purpose,
   'data': {'categories': categories, 'elements': ['dob', 'lab_results']}} AS input
FROM t
ORDER BY ts
"""


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _planted_record(
    n: int,
    when: dt.datetime,
    user: str,
    ref: str,
    *,
    purpose: str = "treatment",
    allow: bool = True,
    recipient: tuple[str, str] = ("provider", "provider-9001"),
    basis: str = "TREATMENT",
    break_glass: bool = False,
    accountable: bool = False,
) -> dict[str, Any]:
    record = {
        "timestamp": _iso(when),
        "event": "disclosure_decision",
        "decision_id": str(uuid.UUID(int=0xA0D17 << 96 | n)),
        "request_id": f"gw-planted-{n}",
        "opa_decision_id": None,
        "policy_revision": "sha256-synthetic",
        "requester": {"user_id": user, "roles": ["physician"], "organization_id": "org-syn-1"},
        "patient_ref": ref,
        "patient_state": "CA",
        "recipient": {"type": recipient[0], "id": recipient[1], "name": f"Planted {recipient[1]}"},
        "purpose": purpose,
        "categories": ["general"],
        "elements_permitted": ["dob"] if allow else [],
        "allow": allow,
        "basis": [basis] if allow else [],
        "reasons": [] if allow else ["NO_PERMISSION"],
        "obligations": (["POST_EVENT_REVIEW"] if break_glass else []),
        "accountable": accountable,
        "latency_ms": 1.2,
        "input": {"patient": {"id": ref, "patient_ref": ref}, "purpose": purpose},
    }
    if break_glass:
        record["break_glass"] = True
    return record


def planted(days: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The planted anomalies and the findings they must produce (rule, user, patient_ref)."""
    zone = ZoneInfo(TZ)
    weekday = START + dt.timedelta(days=(days // 2) // 7 * 7 + 2)  # a Wednesday mid-log
    sunday = weekday + dt.timedelta(days=4)
    at = lambda day, h, m=0, s=0: dt.datetime.combine(day, dt.time(h, m, s), zone)  # noqa: E731
    vip = patient_ref(KEY, VIP_PATIENT)
    spray = patient_ref(KEY, SPRAY_PATIENT)
    out: list[dict[str, Any]] = []
    expected: list[dict[str, Any]] = []
    n = 0

    def add(*args: Any, **kw: Any) -> None:
        nonlocal n
        n += 1
        out.append(_planted_record(n, *args, **kw))

    # VOLUME_SPIKE: two ordinary users, one far above the absolute limit, one above 5 x median.
    for user, count in (("u-syn-00007", 250), ("u-syn-00011", 150)):
        for k in range(count):
            add(
                at(weekday, 9) + dt.timedelta(seconds=30 * k),
                user,
                f"{k:064x}",
                recipient=("provider", f"provider-{8000 + k % 3}"),
            )
        expected.append({"finding": "VOLUME_SPIKE", "user_id": user, "patient_ref": None})
    # DENY_BURST: 15 denials in 20 minutes.
    for k in range(15):
        add(
            at(weekday, 11) + dt.timedelta(seconds=80 * k),
            "u-anom-probe",
            f"{k + 500:064x}",
            allow=False,
            purpose="payment",
        )
    expected.append({"finding": "DENY_BURST", "user_id": "u-anom-probe", "patient_ref": None})
    # OFF_HOURS: four disclosures at 02:30 on a Sunday.
    for k in range(4):
        add(at(sunday, 2, 30, k), "u-anom-night", f"{k + 600:064x}")
    expected.append({"finding": "OFF_HOURS", "user_id": "u-anom-night", "patient_ref": None})
    # FLAGGED_PATIENT: one look at a watched patient.
    add(at(weekday, 14), "u-syn-00020", vip)
    expected.append({"finding": "FLAGGED_PATIENT", "user_id": "u-syn-00020", "patient_ref": vip})
    # MANY_RECIPIENTS: one patient's data to 8 recipients in a day.
    for k in range(8):
        add(at(weekday, 15, k), "u-anom-spray", spray, recipient=("provider", f"provider-77{k}"))
    expected.append({"finding": "MANY_RECIPIENTS", "user_id": "u-anom-spray", "patient_ref": spray})
    # BREAK_GLASS and EMERGENCY: two each.
    for k in range(2):
        add(at(weekday, 10, 5 * k), "u-anom-bg", f"{k + 700:064x}", break_glass=True)
        expected.append(
            {"finding": "BREAK_GLASS", "user_id": "u-anom-bg", "patient_ref": f"{k + 700:064x}"}
        )
    for k in range(2):
        add(
            at(weekday, 16, 5 * k),
            "u-anom-em",
            f"{k + 800:064x}",
            purpose="serious_threat",
            basis="SERIOUS_THREAT",
            recipient=("law_enforcement", "le-0001"),
            accountable=True,
        )
        expected.append(
            {"finding": "EMERGENCY", "user_id": "u-anom-em", "patient_ref": f"{k + 800:064x}"}
        )
    return out, expected


def generate(
    out_dir: str | Path,
    records: int,
    *,
    days: int = 180,
    files: int = 12,
    users: int | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Write the log under ``out_dir``; return the manifest (files, expectations, ids)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    weekdays = max(1, days * 5 // 7)
    users = users or max(25, records // (weekdays * 20))  # about 20 disclosures a user a day
    patients = max(1000, records // 5)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    sql = CLEAN_SQL.replace("__PURPOSES__", _purpose_table())
    bench_ref = patient_ref(KEY, BENCH_PATIENT)
    started = time.perf_counter()
    paths = []
    per_file = -(-records // files)
    for k in range(files):
        first, last = k * per_file, min(records, (k + 1) * per_file)
        if first >= last:
            break
        path = out / f"decision-log.jsonl.{k + 1:03d}.gz"
        query = sql.replace("$first", str(first)).replace("$last", str(last))
        con.execute(
            f"COPY ({query}) TO '{path}' (FORMAT json, COMPRESSION gzip)",
            {
                "users": users,
                "patients": patients,
                "bench_every": 20000 if records >= 1_000_000 else 200,
                "weekdays": weekdays,
                "total": records,
                "recipients": 400,
                "start": START,
                "tz": TZ,
                "bench_ref": bench_ref,
            },
        )
        paths.append(str(path))
    anomalies, expected = planted(days)
    planted_path = out / "decision-log.jsonl.planted.gz"
    with gzip.open(planted_path, "wt", encoding="utf-8") as handle:
        for record in anomalies:
            handle.write(json.dumps(record) + "\n")
    paths.append(str(planted_path))
    return {
        "files": paths,
        "records": records + len(anomalies),
        "clean_records": records,
        "planted_records": len(anomalies),
        "planted_ids": [r["decision_id"] for r in anomalies],
        "expected": expected,
        "users": users,
        "patients": patients,
        "key": KEY,
        "bench_patient": BENCH_PATIENT,
        "watch_list": [patient_ref(KEY, VIP_PATIENT)],
        "time_zone": TZ,
        "seconds": round(time.perf_counter() - started, 1),
        "bytes": sum(Path(p).stat().st_size for p in paths),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    manifest = generate(args.out, args.records, days=args.days, files=args.files)
    Path(args.out, "manifest.json").write_text(json.dumps(manifest, indent=2))
    print(json.dumps({k: manifest[k] for k in ("records", "seconds", "bytes")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
