"""The shipped example registry and agreements keep realistic absolute dates: their expiry is a
planned maintenance step, announced a year ahead, never a surprise red CI.

Every test that decides uses a time it sets (``TEST_NOW``), so none depends on these dates being
in force today. Users running the examples do: ``test_shipped_entries_stay_in_force_a_year``
is the one test that reads the wall clock, on purpose, and fails a year before an example entry
in force at ``TEST_NOW`` expires, naming it (renew as docs/policies.md says). It is left out of
the run with the clock moved (``make test-clock``), where it would rightly fail.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_NOW

CONFIG = Path(__file__).resolve().parents[1] / "policies" / "config"
NOTICE = dt.timedelta(days=365)


def dated_entries(registry: dict[str, Any], agreements: dict[str, Any]) -> Iterator[tuple]:
    """``(name, starts, expires)`` for each dated term of the registry and the HIE agreements."""
    for vendor, entry in registry.items():
        baa = entry.get("baa") or {}
        yield f"{vendor} BAA", baa.get("effective_on"), baa.get("expires_on")
        attestation = entry.get("security_attestation") or {}
        yield (
            f"{vendor} security attestation",
            attestation.get("attested_on"),
            attestation.get("expires_on"),
        )
    for hie, entry in agreements.items():
        yield f"{hie} HIE agreement", entry.get("effective_on"), entry.get("expires_on")


def about_to_expire(
    registry: dict[str, Any], agreements: dict[str, Any], *, in_force_on: str, today: dt.date
) -> list[str]:
    """Entries in force on ``in_force_on`` (the examples meant to be valid; the deliberately
    expired ones are not) that expire before ``today`` + one year: ``"name (expires DATE)"``."""
    horizon = (today + NOTICE).isoformat()
    found = []
    for name, starts, expires in dated_entries(registry, agreements):
        if not expires or not starts or not starts <= in_force_on <= expires:
            continue
        if expires < horizon:
            found.append(f"{name} (expires {expires})")
    return sorted(found)


def shipped() -> tuple[dict[str, Any], dict[str, Any]]:
    def load(name: str) -> Any:
        return json.loads((CONFIG / name / "data.json").read_text(encoding="utf-8"))

    return load("business_associates"), load("hie_agreements")


REGISTRY = {
    "ba-a": {
        "baa": {"effective_on": "2026-01-01", "expires_on": "2028-01-14"},
        "security_attestation": {"attested_on": "2026-06-01", "expires_on": "2029-05-31"},
    },
    "ba-old": {"baa": {"effective_on": "2023-01-01", "expires_on": "2025-12-31"}},
    "ba-pending": {"baa": {"effective_on": None, "expires_on": None}},
}
AGREEMENTS = {"hie-x": {"effective_on": "2025-07-01", "expires_on": "2028-06-30"}}


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2026-11-28", []),
        ("2027-01-14", []),  # exactly a year ahead: still in force on the horizon's day
        ("2027-01-15", ["ba-a BAA (expires 2028-01-14)"]),
        (
            "2027-07-02",
            ["ba-a BAA (expires 2028-01-14)", "hie-x HIE agreement (expires 2028-06-30)"],
        ),
    ],
)
def test_entries_in_force_are_named_a_year_before_they_expire(today, expected):
    got = about_to_expire(
        REGISTRY, AGREEMENTS, in_force_on="2026-11-28", today=dt.date.fromisoformat(today)
    )
    assert got == expected


def test_the_deliberately_expired_and_pending_examples_are_not_maintained():
    # ba-old expired before the reference time and ba-pending has no dates: never named.
    got = about_to_expire(REGISTRY, AGREEMENTS, in_force_on="2026-11-28", today=dt.date(2030, 1, 1))
    assert not [name for name in got if "ba-old" in name or "ba-pending" in name]
    assert len(got) == 3


def test_the_shipped_examples_in_force_at_the_test_time():
    # The examples the tests rely on are in force at TEST_NOW: a renewal must keep them so.
    registry, agreements = shipped()
    in_force = {
        name
        for name, starts, expires in dated_entries(registry, agreements)
        if starts and expires and starts <= TEST_NOW[:10] <= expires
    }
    assert {
        "ba-care-analytics BAA",
        "co-meals-on-wheels BAA",
        "hie-statewide BAA",
        "hie-statewide HIE agreement",
    } <= in_force
    assert "ba-expired-vendor BAA" not in in_force


def test_shipped_entries_stay_in_force_a_year():
    """The maintenance reminder: reads today's date (the only test that does)."""
    registry, agreements = shipped()
    today = dt.datetime.now(dt.UTC).date()
    expiring = about_to_expire(registry, agreements, in_force_on=TEST_NOW[:10], today=today)
    assert not expiring, (
        "shipped example entries expire within a year: "
        + ", ".join(expiring)
        + ". Renew them in policies/config (docs/policies.md, 'Renewing the examples')."
    )
