"""The state law matrix (rule C4): its schema, the overlay applying it, and the running service.

The matrix lives in ``policies/config/state_laws/data.json`` (``data.config.state_laws``); its
JSON Schema in ``schemas/state_laws.schema.json``. The sweep below runs every state, category,
purpose and a spread of recipient types through the real ``opa`` binary and compares the C4
reasons with what the matrix says, computed here independently of the Rego.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from service.paths import opa_binary, policy_dir
from tests.conftest import request_body

ROOT = Path(__file__).resolve().parent.parent
MATRIX_PATH = ROOT / "policies" / "config" / "state_laws" / "data.json"
SCHEMA_PATH = ROOT / "schemas" / "state_laws.schema.json"
DOCS_PATH = ROOT / "docs" / "state-laws.md"
REVIEW_HEADING = "## Awaiting legal review (confidence low)"

PRIORITY = ["CA", "NY", "TX", "FL", "IL", "WA", "MA", "PA"]
SECONDARY = ["NJ", "OH", "GA", "MI", "CO", "MN"]
MATRIX_CATEGORIES = [
    "mental_health",
    "hiv",
    "std",
    "genetic",
    "reproductive_health",
    "substance_use_disorder",
    "minors",
]
# Request categories and the matrix entries that govern them (a state's "general" entry, its
# rule for all health records, applies to every category).
GOVERNED_BY = {
    "general": ["general"],
    "mental_health": ["general", "mental_health"],
    "psychotherapy_notes": ["general", "mental_health"],
    "substance_use_disorder": ["general", "substance_use_disorder"],
    "sud_counseling_notes": ["general", "substance_use_disorder"],
    "hiv": ["general", "hiv"],
    "std": ["general", "std"],
    "genetic": ["general", "genetic"],
    "reproductive_health": ["general", "reproductive_health"],
}
PURPOSES = [
    "treatment",
    "payment",
    "health_care_operations",
    "individual_access",
    "family_involvement",
    "disaster_relief",
    "serious_threat",
    "medical_emergency",
    "required_by_law",
    "public_health",
    "health_oversight",
    "judicial_proceeding",
    "law_enforcement",
    "coroner_medical_examiner",
    "hhs_compliance",
    "research",
    "training",
    "legal_defense",
    "marketing",
    "sale_of_phi",
]
RECIPIENTS = ["provider", "health_plan", "workforce", "family", "court", "researcher"]
NOW = "2026-11-28T09:14:03Z"


@pytest.fixture(scope="module")
def matrix() -> dict[str, Any]:
    return json.loads(MATRIX_PATH.read_text())


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


# ----------------------------------------------------------------------------- the data


def test_matrix_satisfies_its_schema(matrix, validator):
    errors = sorted(validator.iter_errors(matrix), key=lambda e: list(e.absolute_path))
    assert [f"{e.json_path}: {e.message}" for e in errors] == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["CA", "categories", "hiv", "citation"], ""),
        (["CA", "categories", "hiv", "consent_required_for"], ["paying"]),
        (["NY", "categories", "hiv", "confidence"], "certain"),
        (["TX", "breach_notice", "individual_days"], "sixty"),
        (["FL", "breach_notice", "attorney_general", "threshold", "min_residents"], -1),
        (["WA", "categories", "minors", "parental_access_limited"], "yes"),
        (["IL", "categories", "reproductive_health", "out_of_state_restricted_purposes"], None),
        (["NY", "categories", "mental_health", "applies_to_entity_types"], ["clinic"]),
        (["NY", "categories", "mental_health", "applies_to_entity_types"], []),
        (["FL", "categories", "minors", "parental_access_limited"], True),
        (["FL", "categories", "minors", "parental_access_limited_for"], ["dental"]),
        (["FL", "categories", "minors", "parent_recipient_types"], ["family"]),
        (["NY", "categories", "hiv", "general_release_suffices_for"], ["insurer"]),
        (["NY", "categories", "hiv", "last_reviewed"], "December 2026"),
        (["NY", "breach_notice", "hipaa_deemed_compliance", "met"], []),
        (["NY", "breach_notice", "hipaa_deemed_compliance", "citation"], None),
    ],
)
def test_schema_rejects_broken_entries(matrix, validator, path, value):
    broken = copy.deepcopy(matrix)
    node = broken
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    assert not validator.is_valid(broken)


def test_schema_rejects_a_missing_category(matrix, validator):
    broken = copy.deepcopy(matrix)
    del broken["MA"]["categories"]["genetic"]
    assert not validator.is_valid(broken)


def test_coverage_of_states(matrix):
    assert set(PRIORITY + SECONDARY) <= set(matrix)


@pytest.mark.parametrize("state", PRIORITY)
def test_priority_states_fill_every_category(matrix, state):
    categories = matrix[state]["categories"]
    for category in MATRIX_CATEGORIES:
        entry = categories[category]
        assert entry["citation"].strip(), (state, category)
        assert entry["confidence"] in {"high", "medium", "low"}
        # Filled: a value, or an explicit null explained in the notes.
        assert isinstance(entry["consent_required_for"], list), (state, category)
        nulls = [k for k, v in entry.items() if v is None and k != "redisclosure_notice"]
        if nulls:
            assert entry["notes"].strip(), (state, category, nulls)
    assert isinstance(categories["minors"]["parental_access_limited"], bool), state


def test_every_entry_keeps_citation_confidence_and_sources(matrix):
    for state, law in matrix.items():
        assert law["sources"], state
        for category, entry in law["categories"].items():
            assert entry["citation"].strip(), (state, category)
            assert entry["confidence"] in {"high", "medium", "low"}
            if entry["consent_required_for"] is None:
                assert "not researched" in entry["notes"].lower(), (state, category)


def test_prescribed_statements_are_the_statutory_texts(matrix):
    ny = matrix["NY"]["categories"]["hiv"]["redisclosure_notice"]
    assert ny.startswith("This information has been disclosed to you from confidential records")
    assert "A general authorization for the release of medical or other information is not" in ny
    wa = matrix["WA"]["categories"]["std"]["redisclosure_notice"]
    assert wa == matrix["WA"]["categories"]["hiv"]["redisclosure_notice"]
    assert wa.endswith(
        "A general authorization for the release of medical or other information"
        " is NOT sufficient for this purpose."
    )


def _low_confidence_entries(matrix) -> set[tuple[str, str]]:
    """Every (state, entry) whose confidence is low: categories and breach duties."""
    out = set()
    for state, law in matrix.items():
        for category, entry in law["categories"].items():
            if entry["confidence"] == "low":
                out.add((state, category))
        breach = law["breach_notice"]
        if breach["confidence"] == "low":
            out.add((state, "breach_notice"))
        ag = breach["attorney_general"]
        if ag and ag["confidence"] == "low":
            out.add((state, "breach_notice.attorney_general"))
        deemed = breach.get("hipaa_deemed_compliance")
        if deemed and deemed["confidence"] == "low":
            out.add((state, "breach_notice.hipaa_deemed_compliance"))
        for notice in breach["other_notices"]:
            if notice["confidence"] == "low":
                out.add((state, f"breach_notice.other_notices.{notice['recipient']}"))
    return out


def _review_list() -> list[tuple[str, str]]:
    """The (state, entry) rows of the docs' "Awaiting legal review" table."""
    text = DOCS_PATH.read_text(encoding="utf-8")
    assert text.count(REVIEW_HEADING) == 1
    section = text.split(REVIEW_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and re.fullmatch(r"[A-Z]{2}", cells[0]):
            rows.append((cells[0], cells[1].strip("`")))
    return rows


def test_the_audit_corrections_carry_citation_confidence_and_review_date(matrix):
    """Every entry the December 2026 audit corrected says so, with its review date."""
    corrected = [
        (state, category)
        for state, law in matrix.items()
        for category, entry in law["categories"].items()
        if "December 2026 audit" in entry["notes"]
    ]
    assert {
        ("FL", "minors"),
        ("IL", "minors"),
        ("WA", "minors"),
        ("NY", "hiv"),
        ("NY", "mental_health"),
        ("FL", "mental_health"),
        ("CA", "mental_health"),
        ("MA", "mental_health"),
        ("PA", "hiv"),
    } <= set(corrected)
    for state, category in corrected:
        entry = matrix[state]["categories"][category]
        assert entry["last_reviewed"] >= "2026-12-01", (state, category)
        assert entry["citation"].strip(), (state, category)
        assert entry["confidence"] in {"high", "medium", "low"}, (state, category)
    assert matrix["MN"]["breach_notice"]["attorney_general"] is None
    assert "December 2026 audit" in matrix["MN"]["breach_notice"]["notes"]
    for state in ("NY", "WA", "OH", "MI", "GA"):
        deemed = matrix[state]["breach_notice"]["hipaa_deemed_compliance"]
        assert deemed["citation"], state
        assert deemed["last_reviewed"] >= "2026-12-01", state


def test_docs_list_every_low_confidence_entry_for_review(matrix):
    listed = _review_list()
    low = _low_confidence_entries(matrix)
    assert len(low) > 10  # not vacuous: the matrix has many low entries
    assert sorted(low - set(listed)) == [], "low-confidence entries missing from docs/state-laws.md"
    assert sorted(set(listed) - low) == [], "docs/state-laws.md lists entries that are not low"
    assert len(listed) == len(set(listed)), "duplicate rows"


# ----------------------------------------------------------------------------- the overlay, swept


def _opa_input(
    state: str,
    category: str,
    purpose: str,
    recipient: str,
    auths: list,
    entity_types: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "now": NOW,
        "request_id": "t-sweep",
        "requester": {
            "user_id": "u-102",
            "roles": ["privacy_officer"],
            "mfa": True,
            "state": None,
            "entity_types": entity_types,
        },
        "patient": {"id": "p-test-0001", "state": state, "age": 40, "minor_consented_care": False},
        "recipient": {
            "type": recipient,
            "id": "npi-0000000001",
            "identity_verified": True,
            "state": None,
        },
        "purpose": purpose,
        "data": {"categories": [category], "elements": [], "record_count": 1, "form": "identified"},
        "authorizations": auths,
        "context": {},
    }


def _expected(
    matrix, state, category, purpose, recipient, entity_types=None
) -> set[tuple[str, str]]:
    out = set()
    for governing in GOVERNED_BY[category]:
        entry = matrix[state]["categories"].get(governing)
        if not entry:
            continue
        # An entry bound to some disclosers applies when the discloser is unknown or one of them.
        bound = entry.get("applies_to_entity_types")
        if bound and entity_types is not None and not set(bound) & set(entity_types):
            continue
        # Shield laws: the sweep's recipient has no state, which counts as possibly out of
        # state (fail closed).
        if entry.get("out_of_state_disclosure_restricted") is True and purpose in entry.get(
            "out_of_state_restricted_purposes", []
        ):
            out.add((state, governing))
        if not entry["consent_required_for"]:
            continue
        if (
            purpose in entry["consent_required_for"]
            and recipient not in entry["exempt_recipient_types"]
        ):
            out.add((state, governing))
    return out


def _evaluate(cases: list[dict[str, Any]]) -> list[set[tuple[str, str]]]:
    query = (
        "[[[r.state, r.category, r.code, r.rule] | some r in data.hipaa.state.reasons"
        " with input as c] | some c in input.cases]"
    )
    proc = subprocess.run(
        [
            opa_binary(),
            "eval",
            "--data",
            str(policy_dir()),
            "--stdin-input",
            "--format",
            "json",
            query,
        ],
        input=json.dumps({"cases": cases}),
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    rows = json.loads(proc.stdout)["result"][0]["expressions"][0]["value"]
    out = []
    for row in rows:
        assert all(
            code == "STATE_LAW_CONSENT_REQUIRED" and rule == "C4" for _, _, code, rule in row
        )
        out.append({(state, category) for state, category, _, _ in row})
    return out


def test_overlay_follows_the_matrix_for_every_state_category_and_purpose(matrix):
    keys = list(itertools.product(PRIORITY + SECONDARY, GOVERNED_BY, PURPOSES, RECIPIENTS))
    cases = [_opa_input(*key, auths=[]) for key in keys]
    results = _evaluate(cases)
    mismatches = [
        (key, got, want)
        for key, got in zip(keys, results, strict=True)
        if got != (want := _expected(matrix, *key))
    ]
    assert mismatches == []
    # The sweep is not vacuous: many combinations need consent, many do not.
    assert sum(1 for r in results if r) > 500
    assert sum(1 for r in results if not r) > 500


@pytest.mark.parametrize(
    "entity_types", [["provider"], ["health_plan"], ["omh_facility", "lps_facility"], []]
)
def test_discloser_types_narrow_the_entries_bound_to_them(matrix, entity_types):
    keys = list(
        itertools.product(
            PRIORITY, GOVERNED_BY, ["treatment", "payment", "health_care_operations"], RECIPIENTS
        )
    )
    cases = [_opa_input(*key, auths=[], entity_types=entity_types) for key in keys]
    results = _evaluate(cases)
    mismatches = [
        (key, got, want)
        for key, got in zip(keys, results, strict=True)
        if got != (want := _expected(matrix, *key, entity_types=entity_types))
    ]
    assert mismatches == []
    # Not vacuous: some entry is left out for this discloser, compared with an unknown one.
    assert any(
        _expected(matrix, *key) != _expected(matrix, *key, entity_types=entity_types)
        for key in keys
    )


def test_an_authorization_covering_the_category_satisfies_every_state(matrix):
    keys = [
        key
        for key in itertools.product(
            PRIORITY + SECONDARY, GOVERNED_BY, PURPOSES, ["health_plan", "provider"]
        )
        if _expected(matrix, *key)
    ]
    auth = {
        "id": "auth-test-1",
        "type": "hipaa_authorization",
        "signed": True,
        "signed_on": "2026-01-10",
        "expires_on": None,
        "revoked": False,
        "recipients": ["*"],
        "recipient_types": [],
        "purposes": PURPOSES,
        "categories": list(GOVERNED_BY),
    }
    # One authorization per requested category: an authorization for psychotherapy notes or SUD
    # counseling notes combined with one for other records is defective (45 CFR 164.508(b)(3)(ii),
    # 42 CFR 2.31(b)) and covers nothing.
    covered = _evaluate([_opa_input(*key, auths=[dict(auth, categories=[key[1]])]) for key in keys])
    assert keys
    assert all(r == set() for r in covered)
    # The same authorization, revoked, satisfies none of them.
    revoked = dict(auth, revoked=True)
    uncovered = _evaluate(
        [_opa_input(*key, auths=[dict(revoked, categories=[key[1]])]) for key in keys]
    )
    assert uncovered == [_expected(matrix, *key) for key in keys]


# ----------------------------------------------------------------------------- through the service


def _auth(categories: list[str], purposes: list[str], recipient_types: list[str]) -> dict[str, Any]:
    return {
        "id": "auth-test-2",
        "type": "hipaa_authorization",
        "signed": True,
        "signed_on": "2026-01-10",
        "expires_on": "2030-01-10",
        "revoked": False,
        "recipients": [],
        "recipient_types": recipient_types,
        "purposes": purposes,
        "categories": categories,
    }


def _payment(state: str, category: str, **changes: Any) -> dict[str, Any]:
    body = request_body(
        requester={
            "user_id": "u-102",
            "roles": ["billing_specialist"],
            "mfa": True,
            "state": state,
        },
        patient={"id": "p-test-0001", "state": state, "age": 54},
        recipient={
            "type": "health_plan",
            "id": "hp-0000000001",
            "name": "Test Plan",
            "identity_verified": True,
            "state": state,
        },
        purpose="payment",
        data={"categories": [category], "elements": ["member_id", "billing_codes"]},
    )
    body.update(changes)
    return body


def _treatment(state: str, category: str, **changes: Any) -> dict[str, Any]:
    body = request_body(
        requester={"user_id": "u-102", "roles": ["physician"], "mfa": True, "state": state},
        patient={"id": "p-test-0001", "state": state, "age": 54},
        recipient={
            "type": "provider",
            "id": "npi-0000000001",
            "name": "Test Clinic",
            "identity_verified": True,
            "state": state,
        },
        data={"categories": [category], "elements": ["problem_list", "medications"]},
    )
    body.update(changes)
    return body


def _decide(client, body: dict[str, Any]) -> dict[str, Any]:
    resp = client.post("/v1/disclosures/decide", json=body)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _state_reasons(decision) -> set[tuple[str, str]]:
    return {
        (r["state"], r["category"])
        for r in decision["reasons"]
        if r["code"] == "STATE_LAW_CONSENT_REQUIRED"
    }


@pytest.mark.integration
@pytest.mark.parametrize(
    ("body", "denied_by"),
    [
        (_payment("CA", "hiv"), {("CA", "hiv")}),
        (_payment("NY", "hiv"), {("NY", "hiv")}),
        (_payment("TX", "hiv"), {("TX", "hiv")}),
        (_payment("FL", "general"), {("FL", "general")}),
        (_payment("IL", "mental_health"), {("IL", "mental_health")}),
        (_payment("WA", "std"), {("WA", "std")}),
        (_treatment("MA", "hiv"), {("MA", "hiv")}),
        (_payment("MA", "genetic"), {("MA", "genetic")}),
        (_treatment("NY", "genetic"), {("NY", "genetic")}),
    ],
    ids=[
        "CA-hiv-payment",
        "NY-hiv-payment",
        "TX-hiv-payment",
        "FL-general-payment",
        "IL-mh-payment",
        "WA-std-payment",
        "MA-hiv-treatment",
        "MA-genetic-payment",
        "NY-genetic-treatment",
    ],
)
def test_state_law_denies_without_consent(client, body, denied_by):
    decision = _decide(client, body)
    assert decision["allow"] is False
    assert _state_reasons(decision) == denied_by
    state = next(iter(denied_by))[0]
    citations = {
        r["citation"] for r in decision["reasons"] if r["code"] == "STATE_LAW_CONSENT_REQUIRED"
    }
    assert all(
        c and c != "45 CFR 160.203(b); state law per the state law matrix" for c in citations
    )
    assert {
        (r["code"], r["state"], r["rule"])
        for r in decision["requirements"]
        if r["code"] == "OBTAIN_STATE_CONSENT"
    } == {("OBTAIN_STATE_CONSENT", state, "C4")}
    assert decision["jurisdictions"] == [state]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("make", "state", "category"),
    [
        (_payment, "CA", "hiv"),
        (_treatment, "MA", "hiv"),
        (_payment, "FL", "general"),
        (_payment, "IL", "mental_health"),
    ],
)
def test_an_authorization_naming_the_category_allows(client, make, state, category):
    probe = make(state, category)
    auth = _auth([category], [probe["purpose"]], [probe["recipient"]["type"]])
    decision = _decide(client, make(state, category, authorizations=[auth]))
    assert decision["allow"] is True, decision["reasons"]
    assert decision["reasons"] == []


@pytest.mark.integration
@pytest.mark.parametrize(
    "body",
    [
        _payment("CA", "std"),
        _payment("TX", "mental_health"),
        _payment("IL", "hiv"),
        _payment("PA", "mental_health"),
        _payment("WA", "mental_health"),
        _treatment("CA", "hiv"),
        _treatment("FL", "general"),
    ],
    ids=[
        "CA-std",
        "TX-mh-payment",
        "IL-hiv-payment",
        "PA-mh",
        "WA-mh",
        "CA-hiv-treatment",
        "FL-treatment",
    ],
)
def test_hipaa_aligned_rules_add_nothing(client, body):
    decision = _decide(client, body)
    assert decision["allow"] is True, decision["reasons"]
    assert not any(
        item.get("rule") == "C4" for item in decision["reasons"] + decision["obligations"]
    )


@pytest.mark.integration
def test_new_york_hiv_treatment_carries_the_statutory_statement(client, matrix):
    decision = _decide(client, _treatment("NY", "hiv"))
    assert decision["allow"] is True
    notices = [o for o in decision["obligations"] if o["code"] == "STATE_REDISCLOSURE_NOTICE"]
    assert notices == [
        {
            "code": "STATE_REDISCLOSURE_NOTICE",
            "rule": "C4",
            "state": "NY",
            "category": "hiv",
            "text": matrix["NY"]["categories"]["hiv"]["redisclosure_notice"],
            "citation": matrix["NY"]["categories"]["hiv"]["citation"],
            "message": "Send the statutory redisclosure statement with the disclosure.",
        }
    ]


@pytest.mark.integration
def test_washington_std_statement_and_pennsylvania_hiv_statement(client, matrix):
    wa = _decide(client, _treatment("WA", "std"))
    assert [
        (o["state"], o["text"])
        for o in wa["obligations"]
        if o["code"] == "STATE_REDISCLOSURE_NOTICE"
    ] == [("WA", matrix["WA"]["categories"]["std"]["redisclosure_notice"])]
    pa = _decide(client, _payment("PA", "hiv"))
    assert pa["allow"] is True
    assert [o["state"] for o in pa["obligations"] if o["code"] == "STATE_REDISCLOSURE_NOTICE"] == [
        "PA"
    ]


@pytest.mark.integration
def test_a_denied_disclosure_carries_no_statement(client):
    decision = _decide(client, _payment("NY", "hiv"))
    assert decision["allow"] is False
    assert decision["obligations"] == []


@pytest.mark.integration
def test_requester_state_is_a_jurisdiction(client):
    body = _treatment("TX", "hiv")
    body["requester"]["state"] = "MA"
    decision = _decide(client, body)
    assert decision["jurisdictions"] == ["MA", "TX"]
    assert _state_reasons(decision) == {("MA", "hiv")}


@pytest.mark.integration
def test_deidentified_data_is_outside_the_overlay(client):
    body = _treatment("MA", "hiv")
    body["data"] = {"categories": ["hiv"], "elements": ["diagnoses"], "form": "deidentified"}
    decision = _decide(client, body)
    assert not any(
        item.get("rule") == "C4" for item in decision["reasons"] + decision["obligations"]
    )


@pytest.mark.integration
def test_minor_consented_care_is_kept_from_a_parent_where_state_law_says_so(client):
    body = request_body(
        requester={"user_id": "u-102", "roles": ["physician"], "mfa": True, "state": "CA"},
        patient={"id": "p-test-0001", "state": "CA", "age": 15, "minor_consented_care": True},
        recipient={
            "type": "personal_representative",
            "id": "pr-0001",
            "name": "Parent",
            "identity_verified": True,
            "state": "CA",
        },
        purpose="individual_access",
        data={"categories": ["general"], "elements": ["problem_list"]},
        context={"professional_judgment": True},
    )
    decision = _decide(client, body)
    assert decision["allow"] is False
    assert _state_reasons(decision) == {("CA", "minors")}


@pytest.mark.integration
def test_shield_law_fails_closed_without_the_recipient_state(client):
    body = _treatment("CA", "reproductive_health")
    del body["recipient"]["state"]
    decision = _decide(client, body)
    assert decision["allow"] is False
    assert _state_reasons(decision) == {("CA", "reproductive_health")}
    auth = _auth(["reproductive_health"], ["treatment"], ["provider"])
    assert _decide(client, dict(body, authorizations=[auth]))["allow"] is True


@pytest.mark.integration
def test_shield_law_blocks_out_of_state_treatment_disclosure(client):
    body = _treatment("CA", "reproductive_health")
    body["recipient"]["state"] = "TX"
    decision = _decide(client, body)
    assert _state_reasons(decision) == {("CA", "reproductive_health")}
    body["recipient"]["state"] = "CA"
    assert _decide(client, body)["allow"] is True


# ------------------------------------------------------------------------- GET /v1/state-laws/XX


@pytest.mark.integration
@pytest.mark.parametrize("code", PRIORITY + SECONDARY)
def test_state_law_endpoint_returns_the_matrix_entry(client, matrix, code):
    resp = client.get(f"/v1/state-laws/{code}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["state"] == code
    assert body["categories"] == matrix[code]["categories"]
    assert body["breach_notice"] == matrix[code]["breach_notice"]


@pytest.mark.integration
@pytest.mark.parametrize("code", ["ZZ", "OR"])
def test_state_law_endpoint_404_for_a_state_not_in_the_matrix(client, code):
    resp = client.get(f"/v1/state-laws/{code}")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"]


# ------------------------------------------------------------------ December 2026 audit, end to end


def _parent_of_minor(state: str, categories: list[str]) -> dict[str, Any]:
    return request_body(
        requester={"user_id": "u-102", "roles": ["physician"], "mfa": True, "state": state},
        patient={"id": "p-test-0001", "state": state, "age": 15, "minor_consented_care": True},
        recipient={
            "type": "personal_representative",
            "id": "pr-0001",
            "name": "Parent",
            "identity_verified": True,
            "state": state,
        },
        purpose="individual_access",
        data={"categories": categories, "elements": ["problem_list"], "part2_program": False},
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    "categories", [["std"], ["substance_use_disorder"], ["general", "std"]], ids=str
)
def test_a_florida_parent_is_denied_a_minors_std_or_sud_records(client, categories):
    decision = _decide(client, _parent_of_minor("FL", categories))
    assert decision["allow"] is False
    assert _state_reasons(decision) == {("FL", "minors")}
    assert "OBTAIN_STATE_CONSENT" in {r["code"] for r in decision["requirements"]}


@pytest.mark.integration
def test_a_florida_parent_still_gets_what_florida_lets_parents_see(client):
    decision = _decide(client, _parent_of_minor("FL", ["general"]))
    assert decision["allow"] is True, decision["reasons"]
    assert [b["code"] for b in decision["basis"]] == ["INDIVIDUAL_ACCESS"]


@pytest.mark.integration
def test_new_york_hiv_payment_under_a_general_release_is_allowed(client, matrix):
    release = _auth(["general"], ["payment"], ["health_plan"])
    decision = _decide(client, _payment("NY", "hiv", authorizations=[release]))
    assert decision["allow"] is True, decision["reasons"]
    assert [
        (o["state"], o["text"])
        for o in decision["obligations"]
        if o["code"] == "STATE_REDISCLOSURE_NOTICE"
    ] == [("NY", matrix["NY"]["categories"]["hiv"]["redisclosure_notice"])]
    # The same release for another recipient type is not enough.
    other = _payment("NY", "hiv", authorizations=[release])
    other["recipient"]["type"] = "business_associate"
    other["recipient"]["baa"] = None
    assert ("NY", "hiv") in _state_reasons(_decide(client, other))


@pytest.mark.integration
@pytest.mark.parametrize(
    ("entity_types", "denied"),
    [
        (["provider", "omh_facility"], True),
        (None, True),
        (["provider"], False),
        ([], False),
    ],
    ids=["omh-facility", "unknown", "provider", "none-of-them"],
)
def test_new_york_mental_health_binds_omh_facilities(client, entity_types, denied):
    body = _treatment("NY", "mental_health")
    if entity_types is not None:
        body["requester"]["entity_types"] = entity_types
    decision = _decide(client, body)
    assert decision["allow"] is not denied
    assert _state_reasons(decision) == ({("NY", "mental_health")} if denied else set())


@pytest.mark.integration
def test_the_request_schema_checks_entity_types(client):
    body = _treatment("NY", "mental_health")
    body["requester"]["entity_types"] = ["omh_facility", "clinic"]
    resp = client.post("/v1/disclosures/decide", json=body)
    assert resp.status_code == 400
    assert [d["path"] for d in resp.get_json()["error"]["details"]] == ["/requester/entity_types/1"]
