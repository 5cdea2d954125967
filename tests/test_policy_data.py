"""The policy data under policies/config satisfies its JSON Schema; cross-references hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "policies" / "config"
SCHEMAS = ROOT / "schemas"
FEDERAL_DATA = [
    "roles",
    "elements",
    "business_associates",
    "hie_agreements",
    "revoked_access",
    "thresholds",
    "options",
    "hl7",
    "vocabulary",
]


def load(name: str) -> Any:
    return json.loads((CONFIG / name / "data.json").read_text(encoding="utf-8"))


def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", FEDERAL_DATA)
def test_data_satisfies_its_schema(name: str) -> None:
    validator_schema = schema(name)
    Draft202012Validator.check_schema(validator_schema)
    validator = Draft202012Validator(
        validator_schema, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(load(name)), key=lambda e: list(e.absolute_path))
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


def test_schema_rejects_a_broken_registry_entry() -> None:
    validator = Draft202012Validator(
        schema("business_associates"), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    entry = load("business_associates")["ba-care-analytics"]
    broken = {"ba-x": {**entry, "baa": {**entry["baa"], "status": "signed", "expires_on": "2027"}}}
    assert len(list(validator.iter_errors(broken))) == 2


def test_views_name_only_catalog_elements_and_roles_only_known_views() -> None:
    roles, elements = load("roles"), load("elements")
    for view, members in roles["views"].items():
        assert set(members) <= set(elements), view
    for role, spec in roles["roles"].items():
        assert set(spec["purposes"].values()) <= set(roles["views"]), role
    assert set(roles["views"]["full"]) == set(elements)


def test_shipped_roles_match_the_spec() -> None:
    roles = load("roles")["roles"]
    clinical = {
        "treatment",
        "individual_access",
        "family_involvement",
        "disaster_relief",
        "serious_threat",
        "medical_emergency",
    }
    # v1.2: clinicians notify family and are mandated reporters.
    clinical |= {"family_notification", "abuse_report"}
    assert set(roles["care_coordinator"]["purposes"]) == clinical | {
        "payment",
        "health_care_operations",
    }
    assert set(roles["physician"]["purposes"]) == clinical | {"public_health"}
    assert roles["nurse"]["purposes"] == roles["physician"]["purposes"]
    assert set(roles["therapist"]["purposes"]) == clinical | {
        "public_health",
        "training",
        "legal_defense",
    }
    assert set(roles["billing_specialist"]["purposes"]) == {"payment"}
    assert set(roles["case_manager"]["purposes"]) == {
        "treatment",
        "payment",
        "health_care_operations",
        "family_involvement",
        "workers_compensation",
    }
    assert len(roles["privacy_officer"]["purposes"]) == 26
    assert set(roles["researcher"]["purposes"]) == {"research"}


def test_shipped_views_match_the_spec() -> None:
    views = load("roles")["views"]
    assert {"member_id", "dates_of_service", "billing_codes", "diagnoses"} <= set(views["payment"])
    assert not {"clinical_notes", "ssn"} & set(views["payment"])
    assert "ssn" not in views["operations"]
    assert {"general_condition", "location"} <= set(views["family"])
    assert not {"ssn", "billing_codes", "clinical_notes", "lab_results"} & set(views["family"])
    assert sorted(views["disaster_relief"]) == ["general_condition", "location", "name"]
    # v1.2: the notification view (P24) and the identification view (P26, 164.512(f)(2)(i)).
    assert sorted(views["notification"]) == [
        "date_of_death",
        "general_condition",
        "location",
        "name",
    ]
    assert set(views["identification"]) == {
        "name", "address", "dob", "place_of_birth", "ssn", "blood_type", "injury_type",
        "dates_of_service", "date_of_death", "physical_description",
    }  # fmt: skip


def test_element_catalog_flags_the_identifiers_of_164_514() -> None:
    elements = load("elements")
    contract = {
        "name", "address", "dob", "ssn", "mrn", "phone", "email", "member_id", "diagnoses",
        "problem_list", "medications", "allergies", "lab_results", "procedures",
        "dates_of_service", "billing_codes", "clinical_notes", "care_plan", "location",
        "general_condition",
    }  # fmt: skip
    assert contract <= set(elements)
    safe_harbor = {k for k, v in elements.items() if v["safe_harbor_identifier"]}
    direct = {k for k, v in elements.items() if v["lds_direct_identifier"]}
    # The 16 direct identifiers of 164.514(e)(2) are all Safe Harbor identifiers too.
    assert direct <= safe_harbor
    assert {"name", "address", "phone", "fax", "email", "ssn", "mrn", "member_id"} <= direct
    assert {"account_number", "license_number", "vehicle_identifier", "device_identifier"} <= direct
    assert {"url", "ip_address", "biometric_identifier", "photo"} <= direct
    # Dates and ZIP codes: Safe Harbor identifiers that a limited data set may keep.
    assert {"dob", "dates_of_service", "zip_code", "city"} <= safe_harbor - direct
    assert not {"diagnoses", "medications", "billing_codes", "general_condition"} & safe_harbor
    # v1.2: place of birth (below state level) and date of death are Safe Harbor identifiers only.
    assert {"place_of_birth", "date_of_death"} <= safe_harbor - direct
    assert not {"blood_type", "injury_type", "physical_description"} & safe_harbor


def test_example_registry_entries() -> None:
    registry = load("business_associates")
    assert set(registry) == {
        "ba-care-analytics",
        "ba-expired-vendor",
        "ba-pending-vendor",
        "co-meals-on-wheels",
        "hie-statewide",
        "ba-outside-counsel",
    }
    assert "co-food-bank" not in registry
    counsel = registry["ba-outside-counsel"]["baa"]
    assert counsel["status"] == "executed"
    assert set(counsel["purposes"]) == {"legal_defense", "health_care_operations"}
    clean = registry["ba-care-analytics"]
    assert clean["baa"]["status"] == "executed"
    assert clean["baa"]["expires_on"] >= "2028-01-01"
    assert set(clean["baa"]["purposes"]) == {"payment", "health_care_operations"}
    assert all(clean["baa"]["clauses"].values())
    assert registry["ba-expired-vendor"]["baa"]["expires_on"] < "2026-01-01"
    assert registry["ba-pending-vendor"]["baa"]["status"] == "pending"
    assert set(registry["co-meals-on-wheels"]["baa"]["purposes"]) == {
        "treatment",
        "health_care_operations",
    }
    assert registry["co-meals-on-wheels"]["kind"] == "community_organization"
    hie = load("hie_agreements")["hie-statewide"]
    assert set(hie["purposes"]) == {"treatment", "payment", "health_care_operations"}


def test_revoked_list_threshold_and_default_option() -> None:
    assert "u-revoked-1" in load("revoked_access")["users"]
    assert load("thresholds")["bulk_record_count"] == 50
    assert load("options")["community_treatment_disclosures"] == "authorization"
