"""Anomaly findings for the privacy officer (privacy-office §1; docs/audit.md).

Each rule is one query in ``service.audit.sql``; its thresholds come from the audit policy data.
A finding is ``{finding, severity, user_id, patient_ref, window, evidence, rule, citation,
details}`` where ``evidence`` lists the decision ids it rests on; break-glass and emergency
findings also carry their post-event review status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from service.audit import policy

if TYPE_CHECKING:  # DuckDB is imported only where a log is opened
    from service.audit.engine import Engine

RULES = (
    "VOLUME_SPIKE",
    "DENY_BURST",
    "OFF_HOURS",
    "FLAGGED_PATIENT",
    "MANY_RECIPIENTS",
    "BREAK_GLASS",
    "EMERGENCY",
)
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def iso(value: dt.datetime | None) -> str | None:
    """An aware time as RFC 3339 UTC (``Z``)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def local_day(day: dt.date, tz: str) -> dict[str, str]:
    """The window of one calendar day in the organization's time zone."""
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(day, dt.time(0), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), zone)
    return {"start": start.isoformat(), "end": end.isoformat()}


def _base(name: str, rule: Mapping[str, Any], text: str) -> dict[str, Any]:
    return {
        "finding": name,
        "severity": rule["severity"],
        "user_id": None,
        "patient_ref": None,
        "window": None,
        "evidence": [],
        "rule": text,
        "citation": rule["citation"],
        "details": {},
    }


def review_status(
    decision_id: str, when: dt.datetime | None, reviews: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """``{status: open, age_days}`` or ``{status: recorded, outcome, reviewer, reviewed_at}``."""
    review = reviews.get(decision_id)
    if review is not None:
        return {
            "status": "recorded",
            "outcome": review["outcome"],
            "reviewer": review["reviewer"],
            "reviewed_at": review["timestamp"],
        }
    age = (now - when).days if when is not None else None
    return {"status": "open", "age_days": age}


def find(
    engine: Engine,
    config: Mapping[str, Any],
    *,
    reviews: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Every finding of every enabled rule, most severe first, then by time."""
    rules = config["rules"]
    tz = config["time_zone"]
    reviews = reviews or {}
    now = now or dt.datetime.now(dt.UTC)
    out: list[dict[str, Any]] = []
    enabled = [name for name in RULES if rules[name].get("enabled", True)]

    if "VOLUME_SPIKE" in enabled:
        r = rules["VOLUME_SPIKE"]
        params = {
            "tz": tz,
            "absolute_per_day": r["absolute_per_day"],
            "median_multiplier": r["median_multiplier"],
            "trailing_days": r["trailing_days"],
            "min_history_days": r["min_history_days"],
            "min_count": r["min_count"],
        }
        text = (
            f"a user's disclosures in a day above {r['absolute_per_day']}, or at least "
            f"{r['min_count']} and above {r['median_multiplier']} x the user's median of the "
            f"{r['trailing_days']} days before (with {r['min_history_days']}+ active days)"
        )
        for row in engine.rows("finding_volume_spike", params):
            item = _base("VOLUME_SPIKE", r, text)
            item.update(user_id=row["user_id"], window=local_day(row["day"], tz))
            item["evidence"] = list(row["evidence"])
            median = row["trailing_median"]
            item["details"] = {
                "disclosures": row["n"],
                "trailing_median": float(median) if median is not None else None,
                "history_days": row["history_days"],
            }
            out.append(item)

    if "DENY_BURST" in enabled:
        r = rules["DENY_BURST"]
        params = {"window_seconds": r["window_minutes"] * 60, "count": r["count"]}
        text = f"{r['count']} or more denied requests by one user within {r['window_minutes']} min"
        for row in engine.rows("finding_deny_burst", params):
            item = _base("DENY_BURST", r, text)
            item.update(
                user_id=row["user_id"],
                window={"start": iso(row["first_ts"]), "end": iso(row["last_ts"])},
                evidence=list(row["evidence"]),
                details={"denied": row["n"]},
            )
            out.append(item)

    if "OFF_HOURS" in enabled:
        r = rules["OFF_HOURS"]
        hours = config["working_hours"]
        params = {
            "tz": tz,
            "days": policy.isodays(hours["days"]),
            "start_minute": policy.minutes(hours["start"]),
            "end_minute": policy.minutes(hours["end"]),
        }
        text = (
            f"disclosures outside working hours ({hours['start']}-{hours['end']} "
            f"{'/'.join(hours['days'])}, {tz})"
        )
        for row in engine.rows("finding_off_hours", params):
            item = _base("OFF_HOURS", r, text)
            item.update(
                user_id=row["user_id"],
                window=local_day(row["day"], tz),
                evidence=list(row["evidence"]),
                details={
                    "disclosures": row["n"],
                    "first": iso(row["first_ts"]),
                    "last": iso(row["last_ts"]),
                },
            )
            out.append(item)

    if "FLAGGED_PATIENT" in enabled and config["watch_list"]:
        r = rules["FLAGGED_PATIENT"]
        params = {
            "tz": tz,
            "watch_list": list(config["watch_list"]),
            "include_denied": r["include_denied"],
        }
        text = "a disclosure about a patient on the watch list" + (
            " (denied requests too)" if r["include_denied"] else ""
        )
        for row in engine.rows("finding_flagged_patient", params):
            item = _base("FLAGGED_PATIENT", r, text)
            item.update(
                user_id=row["user_id"],
                patient_ref=row["patient_ref"],
                window=local_day(row["day"], tz),
                evidence=list(row["evidence"]),
                details={"decisions": row["n"], "allowed": row["allowed"]},
            )
            out.append(item)

    if "MANY_RECIPIENTS" in enabled:
        r = rules["MANY_RECIPIENTS"]
        params = {"tz": tz, "max_recipients": r["max_recipients"]}
        text = (
            f"one user disclosing one patient's data to more than {r['max_recipients']} "
            "distinct recipients in a day"
        )
        for row in engine.rows("finding_many_recipients", params):
            item = _base("MANY_RECIPIENTS", r, text)
            item.update(
                user_id=row["user_id"],
                patient_ref=row["patient_ref"],
                window=local_day(row["day"], tz),
                evidence=list(row["evidence"]),
                details={"recipients": row["n"]},
            )
            out.append(item)

    emergency = {
        "emergency_purposes": list(config["emergency"]["purposes"]),
        "emergency_basis": list(config["emergency"]["basis"]),
    }
    for name, query, text, params in (
        (
            "BREAK_GLASS",
            "finding_break_glass",
            "a break-glass decision (emergency access procedure): needs a post-event review",
            {},
        ),
        (
            "EMERGENCY",
            "finding_emergency",
            "an emergency disclosure (serious threat, medical emergency, Part 2 medical "
            "emergency): needs a post-event review",
            emergency,
        ),
    ):
        if name not in enabled:
            continue
        r = rules[name]
        for row in engine.rows(query, params):
            item = _base(name, r, text)
            stamp = iso(row["ts"])
            item.update(
                user_id=row["user_id"],
                patient_ref=row["patient_ref"],
                window={"start": stamp, "end": stamp},
                evidence=[row["decision_id"]],
                details={"purpose": row["purpose"]},
                review=review_status(row["decision_id"], row["ts"], reviews, now),
            )
            out.append(item)

    out.sort(
        key=lambda f: (
            SEVERITY_ORDER[f["severity"]],
            (f["window"] or {}).get("start") or "",
            f["finding"],
            f["user_id"] or "",
        )
    )
    return out
