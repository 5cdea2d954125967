"""Scenario fixtures (policy_tests/scenarios/*.json) run through OPA and through the shim.

Each fixture: {"name", "description", "rules", "request" (docs/api.md, request, no `now`), "now"
(optional RFC 3339, default DEFAULT_NOW), "expect": {"allow", "codes", "absent_codes"}}.
`codes` must each appear somewhere in basis, reasons, requirements or obligations;
`absent_codes` must appear nowhere.

Every fixture runs against the real OPA with its `now`. Clients cannot set `now`: the
end-to-end run through the shim covers the fixtures without an explicit `now`, with the app's
clock (a test-only ``CLOCK``) set to each end of SHIM_CLOCK_WINDOW, the window in which their
authorization and BAA dates (and the shipped registry's) give the expected outcome. No test here
reads the wall clock.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from service.opa.input import build_opa_input
from tests.conftest import fixed_clock

SCENARIOS = Path(__file__).resolve().parents[1] / "policy_tests" / "scenarios"
DEFAULT_NOW = "2026-11-28T12:00:00Z"
# The window in which every fixture without an explicit `now` keeps its outcome: the example
# authorizations (signed 2025-12-01, expiring 2028-12-31), the shipped BAAs (co-meals-on-wheels
# from 2026-01-15) and HIE agreement (hie-statewide, to 2028-06-30) are in force, the expired
# ones (2025) stay expired. The shim runs at its first and its last second.
SHIM_CLOCK_WINDOW = ("2026-01-15T00:00:00Z", "2028-06-30T23:59:59Z")
RULE_ID = re.compile(r"^(S[1-4]|P([0-9]|[12][0-9]|3[01])|C[1-7]|M|A|BG[1-3])$")
ITEM_KEYS = ("basis", "reasons", "requirements", "obligations")
DECIDE = "/v1/disclosures/decide"

FILES = sorted(SCENARIOS.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def codes(decision: dict[str, Any]) -> set[str]:
    return {item["code"] for key in ITEM_KEYS for item in decision[key]}


def check(decision: dict[str, Any], expect: dict[str, Any]) -> None:
    found = codes(decision)
    assert decision["allow"] is expect["allow"], sorted(found)
    assert set(expect["codes"]) <= found, f"missing {sorted(set(expect['codes']) - found)}"
    unexpected = set(expect.get("absent_codes", [])) & found
    assert not unexpected, f"unexpected {sorted(unexpected)}"
    if not decision["allow"]:
        assert decision["obligations"] == []
        assert decision["minimum_necessary"]["permitted_elements"] == []


def test_the_fixture_set_is_large_enough_and_well_formed() -> None:
    federal = [p for p in FILES if not p.name.startswith("state-")]
    assert len(federal) >= 40
    for path in FILES:
        scenario = load(path)
        assert {"name", "description", "rules", "request", "expect"} <= set(scenario), path.name
        assert path.stem == scenario["name"], path.name
        assert "now" not in scenario["request"], path.name
        assert scenario["rules"], path.name
        assert all(RULE_ID.match(rule) for rule in scenario["rules"]), path.name
        assert isinstance(scenario["expect"]["allow"], bool), path.name


@pytest.mark.integration
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_scenario_through_opa(path: Path, opa_server) -> None:
    scenario = load(path)
    opa_input = build_opa_input(
        scenario["request"],
        now=scenario.get("now", DEFAULT_NOW),
        request_id=f"scenario-{scenario['name']}",
    )
    resp = requests.post(
        f"{opa_server.url}/v1/data/hipaa/decision", json={"input": opa_input}, timeout=10
    )
    assert resp.status_code == 200
    check(resp.json()["result"], scenario["expect"])


SHIM_FILES = [p for p in FILES if "now" not in load(p)]


@pytest.fixture(scope="module", params=SHIM_CLOCK_WINDOW)
def shim_at(request, opa_server, tmp_path_factory):
    """A test client whose app decides at one end of SHIM_CLOCK_WINDOW."""
    from service.app import create_app

    log = tmp_path_factory.mktemp("scenarios") / "decision-log.jsonl"
    app = create_app(
        {
            "OPA_URL": opa_server.url,
            "DECISION_LOG": str(log),
            "DEV_MODE": True,
            "POLICY_REVISION": opa_server.revision,
            "CLOCK": fixed_clock(request.param),
        }
    )
    yield request.param, app.test_client()
    state = app.extensions["hipaa_gate"]
    state.log_sink.close()
    state.opa.close()


def test_the_window_holds_the_default_time() -> None:
    assert SHIM_CLOCK_WINDOW[0] <= DEFAULT_NOW <= SHIM_CLOCK_WINDOW[1]


@pytest.mark.integration
@pytest.mark.parametrize("path", SHIM_FILES, ids=[p.name for p in SHIM_FILES])
def test_scenario_through_the_shim(path: Path, shim_at) -> None:
    when, client = shim_at
    scenario = load(path)
    resp = client.post(DECIDE, json=scenario["request"])
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["evaluated_at"] == when
    check(resp.get_json(), scenario["expect"])
