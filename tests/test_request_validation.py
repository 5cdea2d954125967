"""Request schema, defaults and the OPA input (service.opa.input)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from service.errors import RequestValidationError
from service.opa.input import (
    _details,
    _validator,
    build_opa_input,
    inline_refs,
    load_element_catalog,
    load_schema,
    passes_fast_check,
)
from tests.conftest import request_body

SCENARIOS = Path(__file__).resolve().parent.parent / "policy_tests" / "scenarios"

NOW = "2026-11-28T09:14:03Z"
CATALOG = frozenset({"problem_list", "medications", "dob", "name"})


def build(body, **kw):
    kw.setdefault("elements", CATALOG)
    return build_opa_input(body, now=NOW, request_id="req-1", **kw)


def details(body, **kw):
    with pytest.raises(RequestValidationError) as info:
        build(body, **kw)
    assert info.value.code == "invalid_request"
    return info.value.details


def test_minimal_request_gets_every_default():
    body = {
        "requester": {"user_id": "u-1", "roles": ["physician"], "mfa": True},
        "patient": {"id": "p-test-0001", "state": "NY"},
        "recipient": {"type": "provider"},
        "purpose": "treatment",
        "data": {"categories": ["general"]},
    }
    assert build(body) == {
        "requester": {
            "user_id": "u-1",
            "roles": ["physician"],
            "mfa": True,
            "organization_id": None,
            "state": None,
            "entity_types": None,
        },
        "patient": {
            "id": "p-test-0001",
            "state": "NY",
            "age": None,
            "present": False,
            "incapacitated": False,
            "agrees": None,
            "objects": None,
            "deceased": False,
            "minor_consented_care": False,
            "inmate": False,
            "restrictions": [],
        },
        "recipient": {
            "type": "provider",
            "id": None,
            "name": None,
            "address": None,
            "identity_verified": False,
            "involved_in_care": False,
            "state": None,
        },
        "purpose": "treatment",
        "data": {
            "categories": ["general"],
            "elements": [],
            "record_count": 1,
            "form": "identified",
            "part2_program": False,
            "part2_received_under_tpo_consent": False,
        },
        "authorizations": [],
        "context": {
            "professional_judgment": False,
            "serious_imminent_threat": False,
            "originator": False,
            "oversight_of_originator": False,
            "supervised_training": False,
            "legal_action_by_patient": False,
            "against_patient": False,
            "court_order": False,
            "subpoena": False,
            "satisfactory_assurances": False,
            "underwriting": False,
            "approval_id": None,
            "data_use_agreement_id": None,
            "irb_waiver_id": None,
            "rationale": None,
            "legal_process": None,
            "administrative_request_conditions_met": False,
            "law_enforcement_reason": None,
            "victim_agrees": False,
            "law_enforcement_representations": False,
            "suspected_criminal_conduct": False,
            "emergency_response_interference": False,
            "patient_directed": False,
            "representative_abuse_suspected": False,
            "authorized_by_law": False,
            "abuse_victim": None,
            "report_required_by_law": False,
            "government_function": None,
            "part2_court_order": False,
            "break_glass": False,
        },
        "request_id": "req-1",
        "now": NOW,
    }


def test_nested_defaults_fill_authorizations_and_restrictions():
    body = request_body(authorizations=[{"type": "hipaa_authorization", "signed": True}])
    body["patient"]["restrictions"] = [{"purposes": ["payment"], "reason": "paid_in_full"}]
    out = build(body)
    assert out["authorizations"] == [
        {
            "id": None,
            "type": "hipaa_authorization",
            "signed": True,
            "signed_on": None,
            "expires_on": None,
            "revoked": False,
            "recipients": [],
            "recipient_types": [],
            "purposes": [],
            "categories": [],
        }
    ]
    assert out["patient"]["restrictions"] == [
        {"recipient_types": [], "purposes": ["payment"], "categories": [], "reason": "paid_in_full"}
    ]


@pytest.mark.parametrize(
    ("categories", "given", "expected"),
    [
        (["substance_use_disorder"], None, True),
        (["general", "substance_use_disorder"], None, True),
        (["general"], None, False),
        (["substance_use_disorder"], False, False),
        (["general"], True, True),
    ],
)
def test_part2_program_default_is_protective(categories, given, expected):
    body = request_body()
    body["data"] = {"categories": categories}
    if given is not None:
        body["data"]["part2_program"] = given
    assert build(body)["data"]["part2_program"] is expected


def test_server_sets_now_and_request_id_and_ignores_client_now():
    body = request_body(now="1999-01-01T00:00:00Z")
    out = build_opa_input(body, now=NOW, request_id="server-rid", elements=CATALOG)
    assert out["now"] == NOW
    assert out["request_id"] == "server-rid"


def test_unknown_nested_fields_are_dropped_not_passed_to_opa():
    body = request_body()
    body["patient"]["notes"] = "free text that must not travel"
    body["context"] = {"rationale": None, "extra": 1}
    out = build(body)
    assert "notes" not in out["patient"]
    assert "extra" not in out["context"]


def test_input_is_not_mutated():
    body = request_body()
    before = copy.deepcopy(body)
    build(body)
    assert body == before


def test_every_violation_is_reported_with_json_pointer_paths():
    body = {
        "surprise": 1,
        "requester": {"roles": [], "mfa": "yes"},
        "patient": {"state": "ZZ", "age": -1},
        "recipient": {"type": "alien"},
        "purpose": "curiosity",
        "data": {"categories": ["general"], "elements": ["dob", "shoe_size"], "form": "x"},
        "authorizations": [{"signed_on": "2026-13-01"}],
    }
    found = details(body)
    assert [d["path"] for d in found] == [
        "/authorizations/0/signed_on",
        "/authorizations/0/type",
        "/data/elements/1",
        "/data/form",
        "/patient/age",
        "/patient/id",
        "/patient/state",
        "/purpose",
        "/recipient/type",
        "/requester/mfa",
        "/requester/roles",
        "/requester/user_id",
        "/surprise",
    ]
    messages = {d["path"]: d["message"] for d in found}
    assert messages["/authorizations/0/signed_on"] == (
        "must be a date (YYYY-MM-DD) from 1678-01-01 to 2261-12-31"
    )
    assert messages["/authorizations/0/type"] == "is required"
    assert messages["/data/elements/1"] == "unknown element"
    assert messages["/data/form"] == "must be one of: identified, limited_data_set, deidentified"
    assert messages["/patient/age"] == "must be at least 0"
    assert messages["/requester/mfa"] == "must be of type boolean"
    assert messages["/requester/roles"] == "must contain at least 1 item(s)"
    assert messages["/surprise"] == "unknown field"


def test_enum_messages_name_the_allowed_values():
    found = {d["path"]: d["message"] for d in details(request_body(purpose="curiosity"))}
    assert found["/purpose"].startswith("must be one of: treatment, payment,")
    body = request_body()
    body["patient"]["state"] = "ZZ"
    found = {d["path"]: d["message"] for d in details(body)}
    assert "CA" in found["/patient/state"]
    assert "ZZ" not in found["/patient/state"]


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda b: b.pop("requester"), "/requester"),
        (lambda b: b["requester"].pop("mfa"), "/requester/mfa"),
        (lambda b: b["data"].update(categories=[]), "/data/categories"),
        (lambda b: b["data"].update(categories=["general", "general"]), "/data/categories"),
        (lambda b: b["data"].update(categories=["gossip"]), "/data/categories/0"),
        (lambda b: b["data"].update(record_count=0), "/data/record_count"),
        (lambda b: b["data"].update(record_count=1.5), "/data/record_count"),
        (lambda b: b["recipient"].update(state="California"), "/recipient/state"),
        (lambda b: b.update(request_id="bad id\r\nX-Injected: 1"), "/request_id"),
        (lambda b: b.update(authorizations=[{"type": "verbal_ok"}]), "/authorizations/0/type"),
        (lambda b: b["patient"].update(agrees="maybe"), "/patient/agrees"),
        (lambda b: b["requester"].update(mfa=1), "/requester/mfa"),
        (lambda b: b["patient"].update(restrictions=[{"reason": "asked"}]), None),
        (lambda b: b["context"].update(court_order="true"), "/context/court_order"),
    ],
)
def test_single_violations_name_the_field(mutate, path):
    body = request_body(context={})
    mutate(body)
    found = details(body)
    assert len(found) == 1
    if path is None:
        assert found[0]["path"] == "/patient/restrictions/0/reason"
    else:
        assert found[0]["path"] == path


def test_body_must_be_an_object():
    assert details([request_body()]) == [{"path": "", "message": "must be of type object"}]


def test_without_a_catalog_elements_are_only_pattern_checked():
    body = request_body()
    body["data"]["elements"] = ["anything_goes"]
    assert build(body, elements=None)["data"]["elements"] == ["anything_goes"]


def test_the_real_element_catalog_is_read_from_the_policy_dir():
    catalog = load_element_catalog()
    assert catalog is not None
    assert {"name", "dob", "problem_list", "medications"} <= catalog
    body = request_body()
    body["data"]["elements"] = ["problem_list", "not_an_element"]
    assert details(body, elements=catalog) == [
        {"path": "/data/elements/1", "message": "unknown element"}
    ]


def _errors(validator, body):
    return sorted(
        (list(e.absolute_path), e.validator, e.message, _details(e))
        for e in validator.iter_errors(body)
    )


def _mutations(body):
    yield body
    yield {}
    yield {**body, "purpose": "nope", "extra": 1}
    yield {**body, "data": {"categories": [], "elements": ["x y", 3]}}
    yield {**body, "requester": {**body["requester"], "roles": [], "mfa": "yes"}}
    yield {**body, "patient": {"id": "", "state": "ZZ", "age": -1}}
    yield {**body, "recipient": {"type": "provider", "id": None, "bogus": True}}
    yield {k: v for k, v in body.items() if k != "purpose"}


@pytest.mark.parametrize("schema", ["request.schema.json", "breach_plan.schema.json"])
def test_inlined_refs_report_exactly_the_errors_of_the_schema_as_written(schema):
    # The validator runs on the schema with its $refs inlined once at start-up (for speed);
    # every scenario request and broken variants of it must get the same errors, paths and
    # detail messages as validation against the schema as written.
    as_written = Draft202012Validator(
        load_schema(schema), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    inlined = _validator(schema)
    assert "$ref" not in json.dumps(inlined.schema)
    bodies = [json.loads(p.read_text())["request"] for p in sorted(SCENARIOS.glob("*.json"))]
    assert len(bodies) > 50
    compared = 0
    for body in bodies:
        for variant in _mutations(body):
            expected = _errors(as_written, variant)
            assert _errors(inlined, variant) == expected
            compared += bool(expected)
    assert compared > 100  # broken bodies were really compared, not only valid ones


def test_recursive_or_clashing_refs_are_refused():
    recursive = {"$defs": {"a": {"items": {"$ref": "#/$defs/a"}}}, "$ref": "#/$defs/a"}
    with pytest.raises(ValueError, match="recursive"):
        inline_refs(recursive, recursive)
    root = {"$defs": {"a": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/a"}}}
    assert inline_refs(root, root) == {"properties": {"x": {"type": "string"}}}
    clash = {"$defs": {"a": {"type": "string"}}, "$ref": "#/$defs/a", "type": "integer"}
    with pytest.raises(ValueError, match="sibling"):
        inline_refs(clash, clash)


ODD_VALUES = [
    None, True, False, 0, 1, -1, 1.0, 2.5, 10**6, "", "x", "x\n", "*", "general", "treatment",
    "provider", "2026-02-28", "2026-02-30", "2026-2-28", [], [1], ["general"],
    ["general", "general"], ["x y"], {}, {"x": 1},
]  # fmt: skip


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _replaced(body, path, value):
    out = copy.deepcopy(body)
    if not path:
        return value
    target = out
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


_DELETE = object()


@pytest.mark.parametrize(
    ("schema", "scenario"),
    [
        ("request.schema.json", "bulk-operations-with-approval.json"),
        ("request.schema.json", "ba-pending-vendor-authorization-does-not-replace-baa.json"),
        ("request.schema.json", "agreed-restriction-yields-to-emergency.json"),
        ("breach_plan.schema.json", None),
    ],
)
def test_the_compiled_fast_check_never_accepts_what_jsonschema_rejects(schema, scenario):
    # Valid bodies skip jsonschema when the compiled (fastjsonschema) check accepts them; a body
    # it rejects is validated by jsonschema, whose errors are the API's. So the compiled check
    # must never accept a body jsonschema would reject: every node of the body replaced by each
    # odd value (and every key deleted), both checks compared.
    if scenario:
        body = json.loads((SCENARIOS / scenario).read_text())["request"]
        body["context"] = {"approval_id": "appr-0001", "rationale": "r"}
        body["patient"]["agrees"] = None
    else:
        body = {
            "discovered_on": "2026-11-01",
            "affected": {"CA": 600, "NY": 2},
            "part2_records": False,
        }
    full = _validator(schema)
    accepted = rejected = 0
    for path in list(_paths(body)):
        for value in [*ODD_VALUES, *([_DELETE] if path and isinstance(path[-1], str) else [])]:
            variant = _replaced(body, path, value)
            fast_ok = passes_fast_check(variant, schema)
            full_ok = not any(True for _ in full.iter_errors(variant))
            if fast_ok:
                assert full_ok, (path, value)
                accepted += 1
            else:
                rejected += 1  # jsonschema decides (and words the errors)
    assert passes_fast_check(body, schema)
    assert accepted > 10  # both outcomes really occurred
    assert rejected > 100 if scenario else rejected > 10


def test_v12_abuse_report_names_its_victim():
    body = {
        "requester": {"user_id": "u-1", "roles": ["physician"], "mfa": True},
        "patient": {"id": "p-test-0001", "state": "NY"},
        "recipient": {"type": "government_agency"},
        "purpose": "abuse_report",
        "data": {"categories": ["general"]},
        "context": {},
    }
    assert details(body) == [{"path": "/context/abuse_victim", "message": "is required"}]
    body["context"] = {"abuse_victim": "teen"}
    assert {"path": "/context/abuse_victim", "message": "must be one of: child, adult"} in details(
        body
    )
    body["context"] = {"abuse_victim": "child"}
    assert build(body)["context"]["abuse_victim"] == "child"


def test_v12_specialized_government_function_names_the_function():
    body = {
        "requester": {"user_id": "u-1", "roles": ["privacy_officer"], "mfa": True},
        "patient": {"id": "p-test-0001", "state": "NY"},
        "recipient": {"type": "government_agency"},
        "purpose": "specialized_government_function",
        "data": {"categories": ["general"]},
        "context": {"government_function": None},
    }
    assert details(body) == [
        {
            "path": "/context/government_function",
            "message": (
                "must be one of: correctional_institution, national_security, "
                "protective_services, military"
            ),
        }
    ]


def test_v12_legal_process_or_the_v1_flag_not_both():
    body = {
        "requester": {"user_id": "u-1", "roles": ["privacy_officer"], "mfa": True},
        "patient": {"id": "p-test-0001", "state": "NY"},
        "recipient": {"type": "law_enforcement"},
        "purpose": "law_enforcement",
        "data": {"categories": ["general"]},
        "context": {"legal_process": "court_ordered_warrant", "subpoena": True},
    }
    assert details(body) == [{"path": "/context/subpoena", "message": "must be false"}]
    body["context"] = {"legal_process": "court_ordered_warrant"}
    assert build(body)["context"]["legal_process"] == "court_ordered_warrant"
