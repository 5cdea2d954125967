"""The breach-notification planner (data.hipaa.breach.plan) through the real OPA and the shim.

Dates are checked against an oracle written here with ``datetime`` (calendar days, business
days skipping weekends), independent of the Rego.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
MATRIX = json.loads((ROOT / "policies" / "config" / "state_laws" / "data.json").read_text())
STATES = [*sorted(MATRIX), "OR", "DC"]  # two codes the matrix does not hold

pytestmark = pytest.mark.integration


def _plan(opa_server, body: dict[str, Any]) -> dict[str, Any]:
    resp = requests.post(
        f"{opa_server.url}/v1/data/hipaa/breach/plan", json={"input": body}, timeout=10
    )
    resp.raise_for_status()
    return resp.json()["result"]


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _business(start: dt.date, days: int) -> dt.date:
    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def _oracle(
    discovered: dt.date, affected: dict[str, int], covered_entity: bool = False
) -> dict[str, Any]:
    """What the plan must say, from the spec and the matrix.

    With ``covered_entity``, a state's ``hipaa_deemed_compliance`` applies: the duties it lists as
    met have no date, and the notices it keeps on the HIPAA clock fall on the federal date.
    """
    total = sum(affected.values())
    federal = discovered + dt.timedelta(days=60)
    hhs = federal if total >= 500 else dt.date(discovered.year, 12, 31) + dt.timedelta(days=60)
    rows = []
    if total > 0:
        rows += [
            (federal, None, "individual_notice", "individuals"),
            (hhs, None, "hhs_notice", "hhs"),
        ]
    media = sorted(s for s, n in affected.items() if n > 500)
    rows += [(federal, s, "media_notice", "media") for s in media]
    states = {}
    for code, n in affected.items():
        law = MATRIX.get(code, {}).get("breach_notice")
        deemed = (law or {}).get("hipaa_deemed_compliance") if covered_entity else None
        met = set(deemed["met"]) if deemed else set()
        hipaa_timing = set(deemed["hipaa_timing"]) if deemed else set()
        days = law["individual_days"] if law and "individual_notice" not in met else None
        individual = discovered + dt.timedelta(days=days if days is not None else 60)
        notices = {}
        if law:
            for notice in ([law["attorney_general"]] if law["attorney_general"] else []) + law[
                "other_notices"
            ]:
                threshold = notice["threshold"]
                if threshold is None:
                    required = n > 0
                elif threshold["counts"] == "state_residents":
                    required = n >= threshold["min_residents"]
                else:
                    required = n > 0 and total >= threshold["min_residents"]
                anchor = {
                    "discovery": discovered,
                    "individual_notice": individual,
                    "hhs_notice": hhs,
                }[notice["deadline"]["from"]]
                k = notice["deadline"]["days"]
                if k is None:
                    due = anchor
                elif notice["deadline"]["business_days"]:
                    due = _business(anchor, k)
                else:
                    due = anchor + dt.timedelta(days=k)
                if notice["recipient"] in hipaa_timing:
                    due = federal
                if notice["recipient"] in met:
                    required = False
                notices[notice["recipient"]] = (required, due if required else None)
                if required and notice["applies_to"] is None:
                    rows.append((due, code, "regulator_notice", notice["recipient"]))
        if n > 0 and "individual_notice" not in met:
            rows.append((individual, code, "individual_notice", "individuals"))
        states[code] = {
            "individual": None if "individual_notice" in met else individual,
            "falls_back": days is None and "individual_notice" not in met,
            "notices": notices,
        }
    general = [r[0] for r in rows]
    return {
        "federal": federal,
        "hhs": hhs,
        "hhs_timing": "with_individual_notice" if total >= 500 else "annual_log",
        "media": media,
        "states": states,
        "rows": {(r[0].isoformat(), r[1], r[2], r[3]) for r in rows},
        "earliest": min(general).isoformat() if general else None,
    }


def _check(
    plan: dict[str, Any],
    discovered: dt.date,
    affected: dict[str, int],
    covered_entity: bool = False,
) -> None:
    want = _oracle(discovered, affected, covered_entity)
    assert "errors" not in plan
    assert plan["total_affected"] == sum(affected.values())
    assert plan["federal"]["individuals"]["deadline"] == want["federal"].isoformat()
    assert plan["federal"]["hhs"]["deadline"] == want["hhs"].isoformat()
    assert plan["federal"]["hhs"]["timing"] == want["hhs_timing"]
    assert [m["state"] for m in plan["federal"]["media"]] == want["media"]
    assert set(plan["states"]) == set(affected)
    for code, expect in want["states"].items():
        got = plan["states"][code]
        individual = expect["individual"]
        assert got["individual_notice"]["deadline"] == (
            individual.isoformat() if individual else None
        ), code
        assert got["individual_notice"].get("met_by_hipaa_notice", False) is (individual is None)
        assert got["individual_notice"]["falls_back_to_federal"] is expect["falls_back"], code
        notices = {n["recipient"]: (n["required"], n["deadline"]) for n in got["regulator_notices"]}
        assert notices == {
            r: (req, due.isoformat() if due else None)
            for r, (req, due) in expect["notices"].items()
        }, code
    rows = {(d["date"], d["state"], d["duty"], d["recipient"]) for d in plan["deadlines"]}
    assert rows == want["rows"]
    assert [d["date"] for d in plan["deadlines"]] == sorted(d["date"] for d in plan["deadlines"])
    if want["earliest"] is None:
        assert plan["earliest_deadline"] is None
    else:
        assert plan["earliest_deadline"]["date"] == want["earliest"]
        assert all(d["date"] == want["earliest"] for d in plan["earliest_deadline"]["duties"])


# ----------------------------------------------------------------------------- known dates


@pytest.mark.parametrize(
    ("discovered", "affected"),
    [
        ("2026-11-02", {"CA": 1200, "TX": 40}),  # the spec's example
        ("2026-01-31", {"CA": 10, "FL": 700}),  # month end into February
        ("2028-01-31", {"WA": 600, "CO": 499}),  # leap February
        ("2028-02-29", {"NY": 3, "IL": 900}),  # discovered on a leap day
        ("2026-12-15", {"TX": 250, "OH": 1001}),  # across the year end
        ("2027-05-10", {"MA": 4, "PA": 12}),  # HHS annual log into a leap February
        ("2026-11-02", {"MN": 300, "NJ": 300, "GA": 0, "OR": 5}),
    ],
)
def test_known_dates(opa_server, discovered, affected):
    plan = _plan(opa_server, {"discovered_on": discovered, "affected": affected})
    _check(plan, _d(discovered), affected)


def test_the_spec_example_in_full(opa_server):
    plan = _plan(opa_server, {"discovered_on": "2026-11-02", "affected": {"CA": 1200, "TX": 40}})
    assert plan["federal"]["individuals"]["citation"] == "45 CFR 164.404(b)"
    assert plan["federal"]["media"][0]["citation"] == "45 CFR 164.406"
    assert plan["federal"]["hhs"]["citation"] == "45 CFR 164.408(b)"
    assert plan["states"]["CA"]["individual_notice"]["deadline"] == "2026-12-02"
    ca_ag = plan["states"]["CA"]["regulator_notices"][0]
    assert (ca_ag["recipient"], ca_ag["required"], ca_ag["deadline"]) == (
        "attorney_general",
        True,
        "2026-12-17",
    )
    assert ca_ag["citation"].startswith("Cal. Civ. Code 1798.82")
    tx_ag = plan["states"]["TX"]["regulator_notices"][0]
    assert (tx_ag["required"], tx_ag["threshold"]["min_residents"]) == (False, 250)
    assert plan["earliest_deadline"]["date"] == "2026-12-02"
    assert [(d["state"], d["duty"]) for d in plan["earliest_deadline"]["duties"]] == [
        ("CA", "individual_notice")
    ]
    assert "part2" not in plan


def test_part2_records_add_the_part2_note(opa_server):
    body = {"discovered_on": "2026-11-02", "affected": {"NY": 2}, "part2_records": True}
    plan = _plan(opa_server, body)
    assert plan["part2"]["citation"] == "42 CFR 2.16"
    assert "164.400-414" in plan["part2"]["text"]


def _any_plan(examples: int):
    """Any discovery date and any affected states, ``examples`` times (against the oracle)."""
    return lambda test: settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )(
        given(
            discovered=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
            affected=st.dictionaries(
                st.sampled_from(STATES), st.integers(min_value=0, max_value=20_000), min_size=1
            ),
        )(test)
    )


@_any_plan(40)
def test_any_date_and_any_states_match_the_oracle(opa_server, discovered, affected):
    plan = _plan(opa_server, {"discovered_on": discovered.isoformat(), "affected": affected})
    _check(plan, discovered, affected)


@_any_plan(30)
def test_a_covered_entity_plan_matches_the_oracle(opa_server, discovered, affected):
    body = {"discovered_on": discovered.isoformat(), "affected": affected, "covered_entity": True}
    _check(_plan(opa_server, body), discovered, affected, covered_entity=True)


# ----------------------------------------------------------------------------- December 2026 audit


def test_minnesota_has_no_attorney_general_date_before_the_individual_notice(opa_server):
    plan = _plan(opa_server, {"discovered_on": "2026-11-02", "affected": {"MN": 5000}})
    mn = plan["states"]["MN"]
    assert "attorney_general" not in {n["recipient"] for n in mn["regulator_notices"]}
    individual = mn["individual_notice"]["deadline"]
    assert individual == "2027-01-01"
    assert not [
        d
        for d in plan["deadlines"]
        if d["recipient"] == "attorney_general" and d["date"] < individual
    ]
    # Credit bureaus: 48 hours, counted from discovery (the stricter reading), not discovery + 62.
    cra = next(
        n for n in mn["regulator_notices"] if n["recipient"] == "consumer_reporting_agencies"
    )
    assert (cra["required"], cra["deadline"], cra["confidence"]) == (True, "2026-11-04", "low")


@pytest.mark.parametrize(
    ("covered_entity", "individual", "ag", "earliest"),
    [
        (None, "2026-12-02", "2026-12-02", "2026-12-02"),
        (False, "2026-12-02", "2026-12-02", "2026-12-02"),
        (True, None, "2027-01-01", "2027-01-01"),
    ],
    ids=["absent", "false", "covered-entity"],
)
def test_new_york_with_and_without_covered_entity(
    opa_server, covered_entity, individual, ag, earliest
):
    body: dict[str, Any] = {"discovered_on": "2026-11-02", "affected": {"NY": 600}}
    if covered_entity is not None:
        body["covered_entity"] = covered_entity
    plan = _plan(opa_server, body)
    ny = plan["states"]["NY"]
    assert ny["individual_notice"]["deadline"] == individual
    notices = {n["recipient"]: n for n in ny["regulator_notices"]}
    assert notices["attorney_general"]["deadline"] == ag
    assert notices["attorney_general_hipaa_copy"]["deadline"] == "2027-01-08"
    assert plan["earliest_deadline"]["date"] == earliest
    if covered_entity:
        assert ny["individual_notice"]["met_by_hipaa_notice"] is True
        assert ny["individual_notice"]["citation"] == "N.Y. Gen. Bus. Law 899-aa(2)(b)(ii)"
        assert (
            ny["hipaa_deemed_compliance"]
            == MATRIX["NY"]["breach_notice"]["hipaa_deemed_compliance"]
        )
    else:
        assert "hipaa_deemed_compliance" not in ny
        assert "met_by_hipaa_notice" not in ny["individual_notice"]


def test_the_endpoint_takes_covered_entity(client, opa_server):
    body = {
        "discovered_on": "2026-11-02",
        "affected": {"NY": 600, "WA": 600},
        "covered_entity": True,
    }
    resp = client.post("/v1/breach-notifications/plan", json=body)
    assert resp.status_code == 200
    assert resp.get_json() == _plan(opa_server, dict(body, part2_records=False))
    assert resp.get_json()["states"]["WA"]["individual_notice"]["met_by_hipaa_notice"] is True
    bad = client.post(
        "/v1/breach-notifications/plan",
        json={"discovered_on": "2026-11-02", "affected": {"NY": 1}, "covered_entity": "yes"},
    )
    assert bad.status_code == 400
    assert [d["path"] for d in bad.get_json()["error"]["details"]] == ["/covered_entity"]


# ----------------------------------------------------------------------------- invalid input


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"discovered_on": "2026-02-30", "affected": {"CA": 1}}, "/discovered_on"),
        ({"discovered_on": "2026-13-01", "affected": {"CA": 1}}, "/discovered_on"),
        ({"discovered_on": "next week", "affected": {"CA": 1}}, "/discovered_on"),
        ({"affected": {"CA": 1}}, "/discovered_on"),
        ({"discovered_on": "2026-11-02", "affected": {"ZZ": 1}}, "/affected/ZZ"),
        ({"discovered_on": "2026-11-02", "affected": {"CA": -1}}, "/affected/CA"),
        ({"discovered_on": "2026-11-02", "affected": {"CA": 2.5}}, "/affected/CA"),
        ({"discovered_on": "2026-11-02", "affected": {"CA": "9"}}, "/affected/CA"),
        ({"discovered_on": "2026-11-02", "affected": {}}, "/affected"),
        (
            {"discovered_on": "2026-11-02", "affected": {"CA": 1}, "part2_records": 1},
            "/part2_records",
        ),
        (
            {"discovered_on": "2026-11-02", "affected": {"CA": 1}, "covered_entity": "yes"},
            "/covered_entity",
        ),
    ],
)
def test_opa_names_the_bad_field(opa_server, body, path):
    plan = _plan(opa_server, body)
    assert set(plan) == {"errors"}
    assert path in {e["path"] for e in plan["errors"]}
    assert all(e["message"] for e in plan["errors"])


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"discovered_on": "2026-02-30", "affected": {"CA": 1}}, "/discovered_on"),
        ({"discovered_on": "2026-11-02", "affected": {"ZZ": 1}}, "/affected"),
        ({"discovered_on": "2026-11-02", "affected": {"CA": -1}}, "/affected/CA"),
        ({"discovered_on": "2026-11-02", "affected": {"CA": 1.5}}, "/affected/CA"),
        ({"discovered_on": "2026-11-02"}, ""),
    ],
)
def test_the_endpoint_answers_400_naming_the_field(client, body, path):
    resp = client.post("/v1/breach-notifications/plan", json=body)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert any(d["path"].startswith(path) for d in error["details"]), error["details"]
    assert "Traceback" not in resp.get_data(as_text=True)


def test_the_endpoint_serves_the_plan(client, opa_server):
    body = {"discovered_on": "2026-11-02", "affected": {"CA": 1200, "TX": 40}}
    resp = client.post("/v1/breach-notifications/plan", json=body)
    assert resp.status_code == 200
    assert resp.get_json() == _plan(opa_server, dict(body, part2_records=False))


def test_the_endpoint_lists_schema_and_calendar_problems_together(client, opa_server):
    # The schema finds the negative count; only the policy knows there is no 13th month.
    body = {"discovered_on": "2026-13-01", "affected": {"CA": -1, "TX": 5}}
    resp = client.post("/v1/breach-notifications/plan", json=body)
    assert resp.status_code == 400
    details = resp.get_json()["error"]["details"]
    assert [d["path"] for d in details] == ["/affected/CA", "/discovered_on"]
    # The calendar problem is worded by the policy, as when it is the only problem.
    alone = client.post(
        "/v1/breach-notifications/plan", json={"discovered_on": "2026-13-01", "affected": {"TX": 5}}
    ).get_json()["error"]["details"]
    assert details[1] == alone[0]


def test_the_schemas_problems_stand_when_the_policy_cannot_be_asked(app_factory):
    client = app_factory(OPA_URL="http://127.0.0.1:9").test_client()
    body = {"discovered_on": "2026-13-01", "affected": {"CA": -1}}
    resp = client.post("/v1/breach-notifications/plan", json=body)
    assert resp.status_code == 400
    assert [d["path"] for d in resp.get_json()["error"]["details"]] == ["/affected/CA"]
