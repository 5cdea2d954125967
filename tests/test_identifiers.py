"""Identifier syntax and normalization (security round 2, defects 1 and 2).

One syntax for every identifier field, enforced alike by the fast compiled check, the full
JSON Schema validation and the policy; ids compared case-folded wherever a list is keyed by them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from service.errors import RequestValidationError
from service.opa.input import _validator, build_opa_input, load_schema, passes_fast_check
from service.paths import opa_binary, policy_dir
from tests import identifier_corpus as corpus
from tests.conftest import read_log, request_body

NOW = "2026-11-28T09:14:03Z"
CATALOG = frozenset({"problem_list", "medications"})
HOSTILE = corpus.hostile_cases()


def _full_valid(body) -> bool:
    return _validator("request.schema.json").is_valid(body)


def test_the_full_request_is_valid():
    body = corpus.full_request()
    assert passes_fast_check(body)
    assert _full_valid(body)


@pytest.mark.parametrize(
    ("path", "variant", "value"), HOSTILE, ids=[f"{p}:{v}" for p, v, _ in HOSTILE]
)
def test_deny_hostile_identifier_in_both_validators(path, variant, value):
    body = corpus.with_value(corpus.full_request(), path, value)
    assert not passes_fast_check(body), (path, variant)
    assert not _full_valid(body), (path, variant)
    with pytest.raises(RequestValidationError) as info:
        build_opa_input(body, now=NOW, request_id="r-1", elements=CATALOG)
    assert path in {d["path"] for d in info.value.details}


@pytest.mark.parametrize("path", corpus.IDENTIFIER_FIELDS)
@pytest.mark.parametrize(("variant", "make"), corpus.SAME_ID_VARIANTS)
def test_allow_other_case_is_valid_syntax(path, variant, make):
    base = corpus.full_request()
    body = corpus.with_value(base, path, make(corpus.get(base, path)))
    assert passes_fast_check(body)
    assert _full_valid(body)


# ---------------------------------------------------------------- the two validators agree

_TAILS = ("\n", "\r\n", " ", "\t", "\x00", "\u00a0", "\u200b", "\u2028", "\x85", "\ufeff")


def _string_paths(node, path=()):
    if isinstance(node, str):
        yield path
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _string_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _string_paths(value, (*path, index))


def _hostile_corpus():
    """Every string of the full request (ids, dates, enums, roles, names), cut and extended."""
    base = corpus.full_request()
    for path in _string_paths(base):
        pointer = "/" + "/".join(map(str, path))
        value = corpus.get(base, pointer)
        for tail in _TAILS:
            for variant in (value + tail, tail + value, value[:1] + tail + value[1:]):
                yield pointer, variant, corpus.with_value(base, pointer, variant)
    for _name, make in corpus.HOSTILE_VARIANTS:
        for pointer in corpus.IDENTIFIER_FIELDS:
            value = make(corpus.get(base, pointer))
            yield pointer, value, corpus.with_value(base, pointer, value)


def test_the_fast_and_the_full_validator_agree_on_the_hostile_corpus():
    disagreements = []
    count = 0
    for pointer, value, body in _hostile_corpus():
        count += 1
        fast, full = passes_fast_check(body), _full_valid(body)
        if fast != full:
            disagreements.append((pointer, value, fast, full))
    assert count > 500
    assert not disagreements, disagreements[:10]


def test_a_trailing_newline_never_passes_a_pattern():
    body = request_body(request_id="gw-test-0001\n")
    assert not passes_fast_check(body)
    assert not _full_valid(body)


# ---------------------------------------------------------------- one pattern, schema and policy


def test_the_policy_reads_the_same_identifier_pattern_as_the_schema():
    schema = load_schema("request.schema.json")
    out = subprocess.run(
        [
            opa_binary(),
            "eval",
            "--format=json",
            "--data",
            str(policy_dir()),
            "data.hipaa.lib.identifier_pattern",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    value = json.loads(out.stdout)["result"][0]["expressions"][0]["value"]
    assert value == schema["$defs"]["identifier"]["pattern"]


def test_the_validation_fast_path_writes_out_the_same_identifier_class():
    """validation.rego checks every id field with one regex over their JSON text (no rule read)."""
    import re

    pattern = load_schema("request.schema.json")["$defs"]["identifier"]["pattern"]
    klass = re.fullmatch(r"\^(\[.*\])\{1,128\}\$", pattern).group(1)
    text = (Path(policy_dir()) / "hipaa" / "validation" / "validation.rego").read_text()
    [literal] = re.findall(r"regex\.match\(`(\^\\\[\\\[[^`]*)`, json\.marshal", text)
    classes = re.findall(r"(?<!\\)\[[^\]\\]*\]\{[01],128\}", literal)
    assert len(classes) == 4
    assert {c.rsplit("{", 1)[0] for c in classes} == {klass}


def test_policy_data_keyed_by_identifiers_uses_the_syntax():
    import re

    pattern = re.compile(load_schema("request.schema.json")["$defs"]["identifier"]["pattern"])
    config = Path(policy_dir()) / "config"
    keyed = {
        "revoked_access": json.loads((config / "revoked_access" / "data.json").read_text())[
            "users"
        ],
        "business_associates": json.loads(
            (config / "business_associates" / "data.json").read_text()
        ),
        "hie_agreements": json.loads((config / "hie_agreements" / "data.json").read_text()),
    }
    bad = [
        (name, key)
        for name, entries in keyed.items()
        for key in entries
        if not pattern.fullmatch(key)
    ]
    assert not bad


# ---------------------------------------------------------------- revocation (real OPA)

REVOKED = "u-revoked-1"


def _decide(client, user_id):
    body = request_body()
    body["requester"] = {**body["requester"], "user_id": user_id}
    return client.post("/v1/disclosures/decide", json=body)


def test_deny_revoked_user_exact_id(client):
    r = _decide(client, REVOKED)
    assert r.status_code == 200
    assert "ACCESS_REVOKED" in [x["code"] for x in r.get_json()["reasons"]]


@pytest.mark.parametrize("user_id", [REVOKED.upper(), "U-Revoked-1", "u-REVOKED-1"])
def test_deny_revoked_user_in_another_case(client, user_id):
    r = _decide(client, user_id)
    assert r.status_code == 200
    body = r.get_json()
    assert body["allow"] is False
    assert "ACCESS_REVOKED" in [x["code"] for x in body["reasons"]]


@pytest.mark.parametrize(
    ("variant", "make"), corpus.HOSTILE_VARIANTS, ids=[n for n, _ in corpus.HOSTILE_VARIANTS]
)
def test_deny_revoked_user_disguised_is_a_400_naming_the_field(
    client, decision_log_path, variant, make
):
    r = _decide(client, make(REVOKED))
    assert r.status_code == 400, variant
    error = r.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert "/requester/user_id" in [d["path"] for d in error["details"]]
    assert read_log(decision_log_path) == []


def _patterns(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


@pytest.mark.parametrize("name", ["request.schema.json", "breach_plan.schema.json"])
def test_no_schema_pattern_depends_on_the_regex_engine(name):
    """Python's \\d, \\w, \\s, \\b are Unicode-aware (ECMA-262's and RE2's are ASCII)."""
    import re

    engine_dependent = re.compile(r"\\[dDwWsSbB]")
    assert [p for p in _patterns(load_schema(name)) if engine_dependent.search(p)] == []


def test_registry_keys_stay_unique_when_case_folded():
    config = Path(policy_dir()) / "config"
    for name, key in (
        ("revoked_access", "users"),
        ("business_associates", None),
        ("hie_agreements", None),
    ):
        entries = json.loads((config / name / "data.json").read_text())
        keys = list(entries[key] if key else entries)
        assert len({k.lower() for k in keys}) == len(keys), name


def test_one_patient_has_one_patient_ref_whatever_the_case_of_the_id():
    """The accounting groups by patient_ref: case variants of one id must not split it."""
    from service.records.patient_ref import patient_ref

    key = "k" * 32
    assert patient_ref(key, "P-Test-0001") == patient_ref(key, "p-test-0001")
    assert patient_ref(key, "P-TEST-0001") == patient_ref(key, "p-test-0001")
    assert patient_ref(key, "p-test-0002") != patient_ref(key, "p-test-0001")
