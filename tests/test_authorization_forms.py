"""POST /v1/authorizations/requirements, `elements_present` on a decision's authorizations and
`hipaa-gate authorization-form`, against a real OPA. The expected items are checked one by one
against the rule text they cite (45 CFR 164.508, 42 CFR 2.31-2.32, the state statutes)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from service.authorization_forms import render
from service.cli.main import main
from tests.conftest import request_body

REQUIREMENTS = "/v1/authorizations/requirements"
DECIDE = "/v1/disclosures/decide"

pytestmark = pytest.mark.integration

# 45 CFR 164.508(c)(1) core elements, (c)(2) statements, (c)(3) plain language, (c)(4) a copy.
HIPAA_CORE = [
    ("HIPAA_INFORMATION", "45 CFR 164.508(c)(1)(i)", "element"),
    ("HIPAA_DISCLOSER", "45 CFR 164.508(c)(1)(ii)", "element"),
    ("HIPAA_RECIPIENT", "45 CFR 164.508(c)(1)(iii)", "element"),
    ("HIPAA_PURPOSE", "45 CFR 164.508(c)(1)(iv)", "element"),
    ("HIPAA_EXPIRATION", "45 CFR 164.508(c)(1)(v)", "element"),
    ("HIPAA_SIGNATURE_DATE", "45 CFR 164.508(c)(1)(vi)", "element"),
    ("HIPAA_REPRESENTATIVE_AUTHORITY", "45 CFR 164.508(c)(1)(vi)", "element"),
    ("HIPAA_RIGHT_TO_REVOKE", "45 CFR 164.508(c)(2)(i)", "statement"),
    ("HIPAA_CONDITIONING", "45 CFR 164.508(c)(2)(ii), 164.508(b)(4)", "statement"),
    ("HIPAA_REDISCLOSURE", "45 CFR 164.508(c)(2)(iii)", "statement"),
    ("HIPAA_PLAIN_LANGUAGE", "45 CFR 164.508(c)(3)", "format"),
    ("HIPAA_COPY_TO_INDIVIDUAL", "45 CFR 164.508(c)(4)", "statement"),
]
# 164.508(a)(3)(ii): marketing with financial remuneration must say so.
MARKETING = [("HIPAA_MARKETING_REMUNERATION", "45 CFR 164.508(a)(3)(ii)", "statement")]
# California: CMIA authorization form (Civ. Code 56.11) and HIV test results (H&S 120980, 120985).
CA_CMIA = [
    ("CA_CMIA_TYPE", "Cal. Civ. Code 56.11(b)(1)", "format"),
    ("CA_CMIA_SEPARATE", "Cal. Civ. Code 56.11(b)(2)", "format"),
    ("CA_CMIA_SIGNED", "Cal. Civ. Code 56.11(b)(3)", "element"),
    ("CA_CMIA_INFORMATION_LIMITS", "Cal. Civ. Code 56.11", "element"),
    ("CA_CMIA_DISCLOSER", "Cal. Civ. Code 56.11", "element"),
    ("CA_CMIA_RECIPIENTS", "Cal. Civ. Code 56.11", "element"),
    ("CA_CMIA_RECIPIENT_USE", "Cal. Civ. Code 56.11", "element"),
    ("CA_CMIA_EXPIRATION_DATE", "Cal. Civ. Code 56.11", "element"),
    ("CA_CMIA_COPY", "Cal. Civ. Code 56.11", "statement"),
]
CA_HIV = [
    ("CA_HIV_TEST_RESULTS", "Cal. Health & Safety Code 120980(a)-(c), (g)", "element"),
    ("CA_HIV_NO_FURTHER_DISCLOSURE", "Cal. Health & Safety Code 120985(b)", "statement"),
]
# 42 CFR 2.31(a)(1)-(9) and the 2.32 notice and enclosure.
PART2_CONSENT = [
    ("PART2_PATIENT_NAME", "42 CFR 2.31(a)(1)", "element"),
    ("PART2_DISCLOSER", "42 CFR 2.31(a)(2)", "element"),
    ("PART2_INFORMATION", "42 CFR 2.31(a)(3)", "element"),
    ("PART2_RECIPIENT", "42 CFR 2.31(a)(4)(i)", "element"),
    ("PART2_HIPAA_REDISCLOSURE", "42 CFR 2.31(a)(4)(iii)", "statement"),
    ("PART2_PURPOSE", "42 CFR 2.31(a)(5)", "element"),
    ("PART2_RIGHT_TO_REVOKE", "42 CFR 2.31(a)(6)", "statement"),
    ("PART2_EXPIRATION", "42 CFR 2.31(a)(7)", "element"),
    ("PART2_SIGNATURE", "42 CFR 2.31(a)(8)", "element"),
    ("PART2_DATE", "42 CFR 2.31(a)(9)", "element"),
    ("PART2_NOTICE", "42 CFR 2.32(a)(1)", "notice"),
    ("PART2_CONSENT_COPY", "42 CFR 2.32(b)", "notice"),
]
STATEMENT_1_OPENING = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules "
    "(42 CFR part 2)."
)


def ask(client, **body: Any):
    request = {
        "states": ["CA"],
        "categories": ["hiv"],
        "purpose": "marketing",
        "recipient_type": "other",
        "type": "hipaa_authorization",
    }
    request.update(body)
    return client.post(REQUIREMENTS, json=request)


def triples(answer: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(i["id"], i["citation"], i["kind"]) for i in answer["requirements"]]


def test_ca_hiv_marketing_element_by_element(client):
    resp = ask(client)
    assert resp.status_code == 200, resp.get_json()
    answer = resp.get_json()
    assert triples(answer) == HIPAA_CORE + MARKETING + CA_CMIA + CA_HIV
    assert {i["source"] for i in answer["requirements"][: len(HIPAA_CORE) + 1]} == {"federal"}
    assert {i["source"] for i in answer["requirements"][len(HIPAA_CORE) + 1 :]} == {"CA"}
    for item in answer["requirements"]:
        assert item["confidence"] in {"high", "medium", "low"}, item
        assert item["label"], item
        if item["kind"] == "element":
            assert item["field"], item
    by_id = {i["id"]: i for i in answer["requirements"]}
    assert by_id["CA_CMIA_TYPE"]["label"].endswith("no smaller than 14-point type")
    assert "remuneration" in by_id["HIPAA_MARKETING_REMUNERATION"]["text"]
    assert by_id["HIPAA_MARKETING_REMUNERATION"]["condition"].startswith("when the marketing")
    assert "redisclosed" in by_id["HIPAA_REDISCLOSURE"]["text"]
    assert answer["warnings"] == []
    assert (answer["states"], answer["categories"], answer["purpose"]) == (
        ["CA"],
        ["hiv"],
        "marketing",
    )


def test_the_spec_example_adds_nothing_for_ca_mental_health(client):
    # CA has no form rule of its own for mental-health information in the matrix research.
    answer = ask(client, categories=["hiv", "mental_health"]).get_json()
    assert triples(answer) == HIPAA_CORE + MARKETING + CA_CMIA + CA_HIV


def test_part2_consent_element_by_element(client):
    resp = ask(
        client,
        states=["NY"],
        categories=["substance_use_disorder"],
        purpose="treatment",
        recipient_type="provider",
        type="part2_consent",
    )
    assert resp.status_code == 200, resp.get_json()
    answer = resp.get_json()
    assert triples(answer) == PART2_CONSENT
    by_id = {i["id"]: i for i in answer["requirements"]}
    assert by_id["PART2_NOTICE"]["text"].startswith(STATEMENT_1_OPENING)
    assert by_id["PART2_NOTICE"]["text"].endswith("(see 42 CFR 2.31).")
    assert "copy of the consent" in by_id["PART2_CONSENT_COPY"]["text"]
    assert by_id["PART2_HIPAA_REDISCLOSURE"]["text"].startswith(
        "The record may be redisclosed in accordance with the permissions contained in the "
        "HIPAA regulations"
    )
    # NY has no recorded form rule for SUD records, and no HIPAA item is asked of a Part 2 consent
    assert answer["states_without_form_requirements"] == ["NY"]
    assert not any(i.startswith("HIPAA_") for i in by_id)


def test_state_redisclosure_statements_come_from_the_state_matrix(client):
    answer = ask(client, states=["NY"], purpose="payment").get_json()
    notice = next(i for i in answer["requirements"] if i["id"] == "NY_HIV_REDISCLOSURE_NOTICE")
    matrix = json.loads(
        (Path(__file__).parents[1] / "policies/config/state_laws/data.json").read_text("utf-8")
    )
    assert notice["text"] == matrix["NY"]["categories"]["hiv"]["redisclosure_notice"]
    assert notice["kind"] == "notice"
    assert "NY_HIV_RELEASE_FORM" in {i["id"] for i in answer["requirements"]}


@pytest.mark.parametrize(
    ("change", "details"),
    [
        ({"states": ["CA", "ZZ"]}, [{"path": "/states/1", "message": "unknown state: ZZ"}]),
        (
            {"categories": ["hiv", "dental"]},
            [{"path": "/categories/1", "message": "unknown category: dental"}],
        ),
        ({"purpose": "curiosity"}, [{"path": "/purpose", "message": "unknown purpose: curiosity"}]),
        ({"type": "consent"}, [{"path": "/type", "message": "unknown document type: consent"}]),
        (
            {"categories": []},
            [{"path": "/categories", "message": "must contain at least 1 item(s)"}],
        ),
        ({"states": "CA"}, [{"path": "/states", "message": "must be of type array"}]),
    ],
)
def test_bad_requests_are_400_naming_the_value(client, change, details):
    resp = ask(client, **change)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"] == details


def test_a_missing_field_is_400(client):
    resp = client.post(REQUIREMENTS, json={"categories": ["hiv"]})
    assert resp.status_code == 400
    assert {d["path"] for d in resp.get_json()["error"]["details"]} == {
        "/purpose",
        "/recipient_type",
        "/type",
    }


# ----------------------------------------------------------------------------- elements_present


def marketing_request(elements: list[str] | None, state: str = "WY") -> dict[str, Any]:
    body = request_body(purpose="marketing")
    body["requester"].update({"roles": ["privacy_officer"], "state": state})
    body["patient"]["state"] = state
    body["recipient"] = {"type": "other", "id": "vendor-0001", "identity_verified": True}
    auth: dict[str, Any] = {
        "id": "auth-0001",
        "type": "hipaa_authorization",
        "signed": True,
        "signed_on": "2025-12-01",
        "expires_on": "2028-12-31",
        "recipients": ["vendor-0001"],
        "purposes": ["marketing"],
        "categories": ["general"],
    }
    if elements is not None:
        auth["elements_present"] = elements
    body["authorizations"] = [auth]
    return body


def required_ids(client, state: str) -> list[str]:
    answer = ask(client, states=[state], categories=["general"]).get_json()
    return [
        i["id"] for i in answer["requirements"] if i["kind"] != "notice" and not i.get("condition")
    ]


def test_elements_present_absent_is_not_checked(client):
    decision = client.post(DECIDE, json=marketing_request(None)).get_json()
    assert decision["allow"] is True


def test_elements_present_complete_allows(client):
    ids = required_ids(client, "WY")
    decision = client.post(DECIDE, json=marketing_request(ids)).get_json()
    assert decision["allow"] is True
    assert [b["code"] for b in decision["basis"]] == ["PATIENT_AUTHORIZATION"]


def test_elements_present_incomplete_is_denied_and_reported(client):
    ids = required_ids(client, "WY")
    ids.remove("HIPAA_EXPIRATION")
    decision = client.post(DECIDE, json=marketing_request(ids)).get_json()
    assert decision["allow"] is False
    incomplete = next(r for r in decision["reasons"] if r["code"] == "AUTHORIZATION_INCOMPLETE")
    assert incomplete["authorizations"] == [
        {"id": "auth-0001", "type": "hipaa_authorization", "missing": ["HIPAA_EXPIRATION"]}
    ]
    assert "164.508(b)(2)(ii)" in incomplete["citation"]


def test_elements_present_in_california_needs_the_cmia_elements(client):
    federal_only = required_ids(client, "WY")
    decision = client.post(DECIDE, json=marketing_request(federal_only, "CA")).get_json()
    incomplete = next(r for r in decision["reasons"] if r["code"] == "AUTHORIZATION_INCOMPLETE")
    assert incomplete["authorizations"][0]["missing"] == sorted(i for i, _, _ in CA_CMIA)
    complete = client.post(DECIDE, json=marketing_request(required_ids(client, "CA"), "CA"))
    assert complete.get_json()["allow"] is True


def test_elements_present_must_be_element_ids(client):
    resp = client.post(DECIDE, json=marketing_request(["expiration date"]))
    assert resp.status_code == 400
    assert resp.get_json()["error"]["details"] == [
        {
            "path": "/authorizations/0/elements_present/0",
            "message": "contains characters that are not allowed",
        }
    ]


# ----------------------------------------------------------------------------- templates


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.ids.extend(v for k, v in attrs if k == "id" and v)

    def handle_data(self, data):
        self.text.append(data)


def test_html_template_has_every_requirement_and_prints_the_statements(client):
    answer = ask(client, states=["CA", "NY"], categories=["hiv"], purpose="payment").get_json()
    html = render(answer, "html")
    parsed = _Ids()
    parsed.feed(html)
    assert sorted(parsed.ids) == sorted(i["id"] for i in answer["requirements"])
    text = " ".join("".join(parsed.text).split())
    for item in answer["requirements"]:
        if item.get("text"):
            assert " ".join(item["text"].split()) in text, item["id"]
    assert "Cal. Health &amp; Safety Code 120985(b)" in html  # escaped, not raw
    assert "font-size: 14pt" in html  # Cal. Civ. Code 56.11(b)(1)
    assert "<script" not in html


def test_markdown_template_has_every_requirement(client):
    answer = ask(
        client,
        states=[],
        categories=["substance_use_disorder"],
        purpose="treatment",
        recipient_type="provider",
        type="part2_consent",
    ).get_json()
    md = render(answer, "md")
    assert md.startswith("# Consent to disclose substance use disorder records (42 CFR Part 2)")
    for item in answer["requirements"]:
        if item["kind"] != "notice":
            assert f"`{item['id']}`" in md
    assert STATEMENT_1_OPENING in md


def test_cli_renders_a_form_from_a_local_opa(tmp_path, capsys):
    out = tmp_path / "form.html"
    code = main(
        [
            "authorization-form",
            "--state",
            "CA",
            "--categories",
            "hiv",
            "--purpose",
            "marketing",
            "--format",
            "html",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    html = out.read_text(encoding="utf-8")
    for item_id, _citation, _kind in HIPAA_CORE + MARKETING + CA_CMIA + CA_HIV:
        assert f'id="{item_id}"' in html


def test_cli_names_an_unknown_state(capsys):
    code = main(["authorization-form", "--state", "QQ", "--categories", "hiv", "--purpose", "x"])
    assert code == 2
    err = capsys.readouterr().err
    assert "/states/0: unknown state: QQ" in err
    assert "/purpose: unknown purpose: x" in err


# ----------------------------------------------------------------------------- policy data

ROOT = Path(__file__).resolve().parents[1]


def _policy_data(name: str) -> Any:
    return json.loads((ROOT / "policies/config" / name / "data.json").read_text("utf-8"))


def test_form_data_satisfies_its_schema_and_names_known_values():
    from jsonschema import Draft202012Validator

    from service.opa.input import load_schema

    schema = json.loads((ROOT / "schemas/authorization_forms.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    data = _policy_data("authorization_forms")
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(data)] == []

    request = load_schema("request.schema.json")["$defs"]
    known = {
        "document_types": set(request["authorization"]["properties"]["type"]["enum"]),
        "purposes": set(request["purpose"]["enum"]),
        "categories": set(request["category"]["enum"]),
        "recipient_types": set(request["recipient_type"]["enum"]),
    }
    items = data["federal"] + [i for v in data["states"].values() for i in v]
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids))
    for item in items:
        for key, values in item.get("applies", {}).items():
            assert set(values) <= known[key], (item["id"], key)
    assert set(data["states"]) <= set(request["state"]["enum"])
    for state, state_items in data["states"].items():
        assert all(i["id"].startswith(f"{state}_") for i in state_items), state
    for child, parents in data["category_parents"].items():
        assert {child, *parents} <= known["categories"]


def test_real_answers_match_the_openapi_document(client):
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    spec = client.get("/openapi.json").get_json()
    base = "urn:hipaa-gate:openapi"
    registry = Registry().with_resource(base, DRAFT202012.create_resource(spec))
    operation = spec["paths"][REQUIREMENTS]["post"]
    request_schema = spec["components"]["schemas"]["AuthorizationRequirementsRequest"]
    Draft202012Validator.check_schema(request_schema)
    assert request_schema["required"] == ["categories", "purpose", "recipient_type", "type"]
    for resp in (ask(client), ask(client, states=["ZZ"])):
        schema = operation["responses"][str(resp.status_code)]["content"]["application/json"]
        validator = Draft202012Validator(
            {"$ref": base + schema["schema"]["$ref"]}, registry=registry
        )
        assert list(validator.iter_errors(resp.get_json())) == []
