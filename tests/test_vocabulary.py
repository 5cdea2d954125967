"""One vocabulary: policies/config/vocabulary/data.json; every other copy must agree with it.

Purposes, recipient types, categories, authorization types and states are written once, in the
bundle's vocabulary. The places that still carry a copy (JSON Schemas, the policy's validation
sets) are listed here and compared with it; a copy that is not listed (an enumeration in a schema
that looks like one of the lists) fails too, so that no new copy goes unchecked. A name changed
in the vocabulary alone fails with one message naming every place that disagrees.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OPA = os.environ.get("HIPAA_GATE_OPA_BIN") or shutil.which("opa") or "opa"
VOCABULARY = ROOT / "policies" / "config" / "vocabulary" / "data.json"
SCHEMA_DIRS = (ROOT / "schemas", ROOT / "service" / "schemas")

#: (file, JSON pointer to an `enum`, vocabulary list, "equal" or "subset").
SCHEMA_COPIES = [
    ("service/schemas/request.schema.json", "/$defs/purpose/enum", "purposes", "equal"),
    (
        "service/schemas/request.schema.json",
        "/$defs/recipient_type/enum",
        "recipient_types",
        "equal",
    ),
    ("service/schemas/request.schema.json", "/$defs/category/enum", "categories", "equal"),
    ("service/schemas/request.schema.json", "/$defs/state/enum", "states", "equal"),
    (
        "service/schemas/request.schema.json",
        "/$defs/authorization/properties/type/enum",
        "authorization_types",
        "equal",
    ),
    (
        "schemas/business_associates.schema.json",
        "/additionalProperties/properties/baa/properties/purposes/items/enum",
        "purposes",
        "equal",
    ),
    (
        "schemas/business_associates.schema.json",
        "/additionalProperties/properties/kind/enum",
        "recipient_types",
        "subset",
    ),
    (
        "schemas/hie_agreements.schema.json",
        "/additionalProperties/properties/purposes/items/enum",
        "purposes",
        "equal",
    ),
    (
        "schemas/roles.schema.json",
        "/properties/roles/additionalProperties/properties/purposes/propertyNames/enum",
        "purposes",
        "equal",
    ),
    ("schemas/hl7.schema.json", "/$defs/purpose/enum", "purposes", "equal"),
    ("schemas/hl7.schema.json", "/$defs/category/enum", "categories", "equal"),
    ("schemas/state_laws.schema.json", "/$defs/purpose/enum", "purposes", "equal"),
    ("schemas/state_laws.schema.json", "/$defs/recipient_type/enum", "recipient_types", "equal"),
    ("schemas/state_laws.schema.json", "/$defs/minor_category/enum", "categories", "subset"),
    (
        "schemas/state_laws.schema.json",
        "/$defs/category/properties/parent_recipient_types/items/enum",
        "recipient_types",
        "subset",
    ),
]
#: The policy's validation sets (data.hipaa.validation.<rule>) that copy a vocabulary list.
POLICY_COPIES = [
    ("purposes", "purposes"),
    ("recipient_types", "recipient_types"),
    ("categories", "categories"),
    ("authorization_types", "authorization_types"),
    ("states_or_null", "states"),
]


def vocabulary(path: Path = VOCABULARY) -> dict[str, set[str]]:
    return {kind: set(entries) for kind, entries in json.loads(path.read_text()).items()}


def _pointer(doc: Any, pointer: str) -> Any:
    for part in pointer.lstrip("/").split("/"):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def _enums(doc: Any, pointer: str = "") -> Iterator[tuple[str, list[Any]]]:
    if isinstance(doc, dict):
        if isinstance(doc.get("enum"), list):
            yield f"{pointer}/enum", doc["enum"]
        for key, value in doc.items():
            yield from _enums(value, f"{pointer}/{key}")
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _enums(value, f"{pointer}/{i}")


def _policy_sets(policy_dir: Path) -> dict[str, set[Any]]:
    out = subprocess.run(
        [OPA, "eval", "-d", str(policy_dir), "--format", "json", "data.hipaa.validation"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    value = json.loads(out)["result"][0]["expressions"][0]["value"]
    return {rule: set(value[rule]) for rule, _ in POLICY_COPIES}


def _compare(where: str, found: set[Any], expected: set[str], mode: str) -> list[str]:
    missing, extra = sorted(expected - found), sorted(found - expected)
    if mode == "subset":
        missing = []
    if not missing and not extra:
        return []
    parts = [f"missing {missing}"] if missing else []
    parts += [f"not in the vocabulary {extra}"] if extra else []
    return [f"{where}: " + "; ".join(parts)]


def disagreements(root: Path = ROOT) -> list[str]:
    """Every place whose copy of a vocabulary list differs from the vocabulary, one line each."""
    vocab = vocabulary(root / "policies" / "config" / "vocabulary" / "data.json")
    problems: list[str] = []
    declared = set()
    for rel, pointer, kind, mode in SCHEMA_COPIES:
        declared.add((rel, pointer))
        doc = json.loads((root / rel).read_text(encoding="utf-8"))
        found = {v for v in _pointer(doc, pointer) if v is not None}
        problems += _compare(f"{rel}#{pointer} ({kind})", found, vocab[kind], mode)
    for schema_dir in SCHEMA_DIRS:
        for path in sorted((root / schema_dir.relative_to(ROOT)).glob("*.json")):
            rel = str(path.relative_to(root))
            for pointer, values in _enums(json.loads(path.read_text(encoding="utf-8"))):
                names = {v for v in values if isinstance(v, str)}
                for kind, expected in vocab.items():
                    shared = names & expected
                    looks_like = len(shared) >= 2 and len(shared) * 2 >= len(names)
                    if looks_like and (rel, pointer) not in declared:
                        problems.append(
                            f"{rel}#{pointer}: an unlisted copy of the {kind} "
                            "(list it in tests/test_vocabulary.py or read the vocabulary)"
                        )
    sets = _policy_sets(root / "policies")
    for rule, kind in POLICY_COPIES:
        found = sets[rule] - {None}
        problems += _compare(f"data.hipaa.validation.{rule} ({kind})", found, vocab[kind], "equal")
    return problems


def test_allow_every_copy_agrees_with_the_vocabulary() -> None:
    assert disagreements() == []


def test_allow_the_breach_planner_reads_the_vocabulary_states() -> None:
    out = subprocess.run(
        [
            OPA,
            "eval",
            "-d",
            str(ROOT / "policies"),
            "--format",
            "json",
            "data.hipaa.breach._us_codes",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    codes = set(json.loads(out)["result"][0]["expressions"][0]["value"])
    assert codes == vocabulary()["states"]


def test_deny_a_purpose_renamed_in_the_vocabulary_alone_names_every_copy(tmp_path: Path) -> None:
    for rel in ("policies", "schemas", "service/schemas"):
        shutil.copytree(ROOT / rel, tmp_path / rel)
    path = tmp_path / "policies" / "config" / "vocabulary" / "data.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["purposes"]["care_treatment"] = doc["purposes"].pop("treatment")
    path.write_text(json.dumps(doc), encoding="utf-8")
    problems = disagreements(tmp_path)
    named = {p.split("#")[0].split(" ")[0] for p in problems}
    purpose_copies = {rel for rel, _, kind, mode in SCHEMA_COPIES if kind == "purposes"}
    assert purpose_copies | {"data.hipaa.validation.purposes"} <= named
    assert all("care_treatment" in p and "treatment" in p for p in problems)


def test_allow_the_accounting_words_come_from_the_vocabulary() -> None:
    from service.audit.accounting import vocabulary_words

    doc = json.loads(VOCABULARY.read_text(encoding="utf-8"))
    assert vocabulary_words("purposes") == {k: v["label"] for k, v in doc["purposes"].items()}
    assert vocabulary_words("categories") == {k: v["label"] for k, v in doc["categories"].items()}
