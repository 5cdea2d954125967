"""Every finding rule of the audit desk on both sides of its threshold (real DuckDB)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json

import pytest

from service.audit import findings, policy
from service.audit.engine import Engine
from tests.audit_records import (
    REF_A,
    REF_B,
    ROOT,
    WEDNESDAY,
    config,
    decision,
    local,
    write_log,
)


def run(tmp_path, records, cfg, reviews=None):
    log = write_log(tmp_path / "decisions.jsonl", records)
    with Engine([str(log)], on_problem=pytest.fail) as engine:
        return findings.find(engine, policy.check(cfg), reviews=reviews)


def only(items, name):
    return [f for f in items if f["finding"] == name]


def ids(records):
    return [r["decision_id"] for r in records]


# ---------------------------------------------------------------- VOLUME_SPIKE

NO_MEDIAN = {"min_history_days": 366, "trailing_days": 28}


@pytest.mark.parametrize(("count", "found"), [(11, True), (10, False)])
def test_volume_spike_absolute_threshold(tmp_path, count, found):
    day = [decision(local(WEDNESDAY, 9, k)) for k in range(count)]
    cfg = config(VOLUME_SPIKE={"absolute_per_day": 10, **NO_MEDIAN})
    got = only(run(tmp_path, day, cfg), "VOLUME_SPIKE")
    if found:
        (f,) = got
        assert f["user_id"] == "u-test-0001"
        assert f["evidence"] == ids(day)
        assert f["details"]["disclosures"] == 11
        assert f["window"]["start"] == "2026-06-17T00:00:00-04:00"
        assert f["citation"] == cfg["rules"]["VOLUME_SPIKE"]["citation"]
    else:
        assert got == []


def _history(days: int, per_day: int) -> list[dict]:
    out = []
    for back in range(1, days + 1):
        day = WEDNESDAY - dt.timedelta(days=back)
        out += [decision(local(day, 10, k)) for k in range(per_day)]
    return out


@pytest.mark.parametrize(("today", "history_days", "found"), [(21, 5, True), (20, 5, False)])
def test_volume_spike_over_k_times_the_trailing_median(tmp_path, today, history_days, found):
    # Median 4 a day over 5 days; k = 5: 21 is above 20, 20 is not.
    spike = [decision(local(WEDNESDAY, 9, k)) for k in range(today)]
    cfg = config(
        VOLUME_SPIKE={
            "absolute_per_day": 1000,
            "median_multiplier": 5,
            "min_history_days": 5,
            "min_count": 20,
            "trailing_days": 28,
        }
    )
    got = only(run(tmp_path, _history(history_days, 4) + spike, cfg), "VOLUME_SPIKE")
    if found:
        (f,) = got
        assert f["evidence"] == ids(spike)
        assert f["details"]["trailing_median"] == 4.0
        assert f["details"]["history_days"] == 5
    else:
        assert got == []


def test_volume_spike_needs_enough_history_and_the_minimum_count(tmp_path):
    spike = [decision(local(WEDNESDAY, 9, k)) for k in range(30)]
    cfg = config(
        VOLUME_SPIKE={
            "absolute_per_day": 1000,
            "median_multiplier": 5,
            "min_history_days": 5,
            "min_count": 20,
            "trailing_days": 28,
        }
    )
    assert only(run(tmp_path, _history(4, 4) + spike, cfg), "VOLUME_SPIKE") == []
    small = spike[:19]  # above 5 x 1 but below min_count
    assert only(run(tmp_path, _history(5, 1) + small, cfg), "VOLUME_SPIKE") == []


# ---------------------------------------------------------------- DENY_BURST


def _denials(minutes: list[int], user: str = "u-test-probe") -> list[dict]:
    return [
        decision(local(WEDNESDAY, 10) + dt.timedelta(minutes=m), user=user, allow=False)
        for m in minutes
    ]


def test_deny_burst_at_the_count_within_the_window(tmp_path):
    burst = _denials([0, 10, 20, 30, 59])
    cfg = config(DENY_BURST={"count": 5, "window_minutes": 60})
    noise = [decision(local(WEDNESDAY, 10, 5), user="u-test-probe")]  # an allow: not counted
    (f,) = only(run(tmp_path, burst + noise, cfg), "DENY_BURST")
    assert f["user_id"] == "u-test-probe"
    assert f["evidence"] == ids(burst)
    assert f["details"] == {"denied": 5}
    assert f["severity"] == "high"


@pytest.mark.parametrize("minutes", [[0, 10, 20, 30], [0, 10, 20, 30, 61]])
def test_no_deny_burst_below_the_count_or_outside_the_window(tmp_path, minutes):
    cfg = config(DENY_BURST={"count": 5, "window_minutes": 60})
    assert only(run(tmp_path, _denials(minutes), cfg), "DENY_BURST") == []


def test_deny_burst_counts_one_user_at_a_time(tmp_path):
    mixed = _denials([0, 10, 20], user="u-test-a") + _denials([5, 15], user="u-test-b")
    cfg = config(DENY_BURST={"count": 5, "window_minutes": 60})
    assert only(run(tmp_path, mixed, cfg), "DENY_BURST") == []


# ---------------------------------------------------------------- OFF_HOURS


@pytest.mark.parametrize(
    ("when", "found"),
    [
        (local(WEDNESDAY, 7, 0), False),
        (local(WEDNESDAY, 18, 59, 59), False),
        (local(WEDNESDAY, 19, 0), True),
        (local(WEDNESDAY, 6, 59, 59), True),
        (local(WEDNESDAY + dt.timedelta(days=3), 12, 0), True),  # Saturday
        (local(dt.date(2026, 1, 14), 7, 30), False),  # winter (EST): 12:30 UTC is 07:30 local
        (local(dt.date(2026, 1, 14), 6, 30), True),
    ],
)
def test_off_hours_in_the_organizations_time_zone(tmp_path, when, found):
    record = decision(when)
    got = only(run(tmp_path, [record], config()), "OFF_HOURS")
    assert [f["evidence"] for f in got] == ([[record["decision_id"]]] if found else [])


def test_off_hours_ignores_denied_requests_and_reads_the_configured_hours(tmp_path):
    night = local(WEDNESDAY, 22)
    assert only(run(tmp_path, [decision(night, allow=False)], config()), "OFF_HOURS") == []
    cfg = config(working_hours={"start": "20:00", "end": "06:00", "days": ["wed"]})
    assert only(run(tmp_path, [decision(night)], cfg), "OFF_HOURS") == []
    assert len(only(run(tmp_path, [decision(local(WEDNESDAY, 12))], cfg), "OFF_HOURS")) == 1


# ---------------------------------------------------------------- FLAGGED_PATIENT


def test_flagged_patient_any_disclosure_about_a_watched_patient(tmp_path):
    watched = decision(local(WEDNESDAY, 9), patient_ref=REF_B, user="u-test-snoop")
    other = decision(local(WEDNESDAY, 9), patient_ref=REF_A)
    cfg = config(watch_list=[REF_B])
    (f,) = only(run(tmp_path, [watched, other], cfg), "FLAGGED_PATIENT")
    assert (f["user_id"], f["patient_ref"], f["evidence"]) == (
        "u-test-snoop",
        REF_B,
        [watched["decision_id"]],
    )
    assert only(run(tmp_path, [other], cfg), "FLAGGED_PATIENT") == []
    assert only(run(tmp_path, [watched], config()), "FLAGGED_PATIENT") == []


@pytest.mark.parametrize(("include_denied", "found"), [(True, 1), (False, 0)])
def test_flagged_patient_denied_attempts_as_configured(tmp_path, include_denied, found):
    denied = decision(local(WEDNESDAY, 9), patient_ref=REF_B, allow=False)
    cfg = config(watch_list=[REF_B], FLAGGED_PATIENT={"include_denied": include_denied})
    assert len(only(run(tmp_path, [denied], cfg), "FLAGGED_PATIENT")) == found


# ---------------------------------------------------------------- MANY_RECIPIENTS


def _to(n: int, *, day=WEDNESDAY, same: bool = False) -> list[dict]:
    return [
        decision(
            local(day, 9, k),
            recipient=("provider", "npi-test-0001" if same else f"npi-test-{k:04d}", None),
        )
        for k in range(n)
    ]


@pytest.mark.parametrize(("count", "found"), [(4, True), (3, False)])
def test_many_recipients_above_the_limit_in_a_day(tmp_path, count, found):
    records = _to(count)
    cfg = config(MANY_RECIPIENTS={"max_recipients": 3})
    got = only(run(tmp_path, records, cfg), "MANY_RECIPIENTS")
    if found:
        (f,) = got
        assert (f["patient_ref"], f["evidence"], f["details"]) == (
            REF_A,
            ids(records),
            {"recipients": 4},
        )
    else:
        assert got == []


def test_many_recipients_counts_distinct_recipients_of_one_day(tmp_path):
    cfg = config(MANY_RECIPIENTS={"max_recipients": 3})
    repeated = _to(6, same=True)
    split = _to(2) + _to(2, day=WEDNESDAY + dt.timedelta(days=1))
    assert only(run(tmp_path, repeated + split, cfg), "MANY_RECIPIENTS") == []


# ---------------------------------------------------------------- BREAK_GLASS / EMERGENCY


def test_break_glass_every_flagged_record_with_its_open_review(tmp_path):
    flagged = decision(local(WEDNESDAY, 9), break_glass=True, obligations=["POST_EVENT_REVIEW"])
    plain = decision(local(WEDNESDAY, 9), break_glass=False)
    older = decision(local(WEDNESDAY, 10))  # written before the field existed
    (f,) = only(run(tmp_path, [flagged, plain, older], config()), "BREAK_GLASS")
    assert f["evidence"] == [flagged["decision_id"]]
    assert f["review"]["status"] == "open"
    assert f["review"]["age_days"] >= 0


def test_break_glass_with_a_recorded_review(tmp_path):
    flagged = decision(local(WEDNESDAY, 9), break_glass=True)
    review = {
        "decision_id": flagged["decision_id"],
        "outcome": "appropriate",
        "reviewer": "u-po-0001",
        "timestamp": "2026-06-18T10:00:00Z",
    }
    (f,) = only(
        run(tmp_path, [flagged], config(), reviews={flagged["decision_id"]: review}), "BREAK_GLASS"
    )
    assert f["review"] == {
        "status": "recorded",
        "outcome": "appropriate",
        "reviewer": "u-po-0001",
        "reviewed_at": "2026-06-18T10:00:00Z",
    }


@pytest.mark.parametrize(
    ("kwargs", "found"),
    [
        ({"purpose": "serious_threat", "basis": ["SERIOUS_THREAT"]}, True),
        ({"purpose": "medical_emergency", "basis": ["TREATMENT"]}, True),
        ({"purpose": "treatment", "basis": ["MEDICAL_EMERGENCY"]}, True),  # Part 2 (2.51)
        ({"purpose": "serious_threat", "allow": False}, False),
        ({"purpose": "treatment"}, False),
    ],
)
def test_emergency_disclosures(tmp_path, kwargs, found):
    record = decision(local(WEDNESDAY, 9), **kwargs)
    got = only(run(tmp_path, [record], config()), "EMERGENCY")
    assert [f["evidence"] for f in got] == ([[record["decision_id"]]] if found else [])


def test_a_rule_can_be_switched_off(tmp_path):
    record = decision(local(WEDNESDAY, 22))
    cfg = config(OFF_HOURS={"enabled": False})
    assert only(run(tmp_path, [record], cfg), "OFF_HOURS") == []


def test_duplicated_records_are_counted_once(tmp_path):
    day = [decision(local(WEDNESDAY, 9, k)) for k in range(6)]
    a = write_log(tmp_path / "a.jsonl", day)
    b = write_log(tmp_path / "a.1.gz", day, gz=True)  # a rotated copy that overlaps
    cfg = policy.check(config(VOLUME_SPIKE={"absolute_per_day": 6, **NO_MEDIAN}))
    with Engine([str(a), str(b)], on_problem=pytest.fail) as engine:
        assert only(findings.find(engine, cfg), "VOLUME_SPIKE") == []


# ---------------------------------------------------------------- the generated log


def _generator():
    spec = importlib.util.spec_from_file_location("audit_log", ROOT / "bench" / "audit_log.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_log_every_planted_anomaly_and_nothing_else(tmp_path):
    manifest = _generator().generate(tmp_path / "log", 20_000, days=28, files=2)
    cfg = json.loads(json.dumps(config()))
    cfg["watch_list"] = manifest["watch_list"]
    with Engine(manifest["files"], on_problem=pytest.fail) as engine:
        got = findings.find(engine, policy.check(cfg))
    found = sorted((f["finding"], f["user_id"], f["patient_ref"]) for f in got)
    expected = sorted((e["finding"], e["user_id"], e["patient_ref"]) for e in manifest["expected"])
    assert found == expected
    planted = set(manifest["planted_ids"])
    for f in got:
        if f["finding"] != "VOLUME_SPIKE":  # a spike also cites the user's ordinary records
            assert set(f["evidence"]) <= planted, f


def test_the_shipped_configuration_satisfies_its_schema():
    assert policy.load(ROOT / "policies" / "config" / "audit" / "data.json")["rules"]
    broken = config(DENY_BURST={"count": 1})
    with pytest.raises(policy.AuditConfigError, match="DENY_BURST"):
        policy.check(broken)
    with pytest.raises(policy.AuditConfigError, match="time_zone"):
        policy.check({**config(), "time_zone": "Mars/Olympus_Mons"})
    with pytest.raises(policy.AuditConfigError, match="watch_list"):
        policy.check({**config(), "watch_list": ["p-raw-id-not-a-ref"]})
