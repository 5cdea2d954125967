"""One vocabulary: policies/config/vocabulary/data.json; every other copy or use must agree with it.

The check itself is tests/vocabulary_copies.py (``make check-data`` runs it before the policy
tests); these tests run it on the tree, and on a copy of the tree with one purpose renamed in the
vocabulary alone, where it must name every place that still says the old name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.vocabulary_copies import SCHEMA_COPIES, disagreements, vocabulary

ROOT = Path(__file__).resolve().parent.parent
OPA = os.environ.get("HIPAA_GATE_OPA_BIN") or shutil.which("opa") or "opa"
VOCABULARY = ROOT / "policies" / "config" / "vocabulary" / "data.json"
#: The trees the check reads (and the renaming test copies).
CHECKED = ("policies", "schemas", "service", "policy_tests", "examples", "docs/api.md")
#: The policy's validation sets, read from the vocabulary (data.hipaa.validation.<rule>).
POLICY_SETS = [
    ("purposes", "purposes"),
    ("recipient_types", "recipient_types"),
    ("categories", "categories"),
    ("authorization_types", "authorization_types"),
    ("states_or_null", "states"),
    ("forms", "forms"),
]


def _eval(query: str) -> object:
    out = subprocess.run(
        [OPA, "eval", "-d", str(ROOT / "policies"), "--format", "json", query],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)["result"][0]["expressions"][0]["value"]


def test_allow_every_copy_agrees_with_the_vocabulary() -> None:
    problems = disagreements()
    assert not problems, "\n".join(problems)


def test_allow_the_validation_sets_are_the_vocabulary() -> None:
    value = _eval("data.hipaa.validation")
    vocab = vocabulary()
    assert isinstance(value, dict)
    for rule, kind in POLICY_SETS:
        assert set(value[rule]) - {None} == vocab[kind], rule
    assert None in value["states_or_null"]


def test_allow_the_validation_policy_copies_no_vocabulary_list() -> None:
    # The policy reads data.config.vocabulary; a literal list of any of its names is a copy.
    vocab = vocabulary()
    for path in sorted((ROOT / "policies" / "hipaa" / "validation").glob("*.rego")):
        text = path.read_text(encoding="utf-8")
        for kind, names in vocab.items():
            written = {n for n in names if f'"{n}"' in text}
            assert len(written) < 3, f"{path.name} writes out the {kind}: {sorted(written)}"


def test_allow_the_breach_planner_reads_the_vocabulary_states() -> None:
    codes = _eval("data.hipaa.breach._us_codes")
    assert isinstance(codes, list)
    assert set(codes) == vocabulary()["states"]


def test_deny_a_purpose_renamed_in_the_vocabulary_alone_names_every_copy(tmp_path: Path) -> None:
    for rel in CHECKED:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (ROOT / rel).is_dir() else shutil.copy
        copy(ROOT / rel, tmp_path / rel)
    path = tmp_path / "policies" / "config" / "vocabulary" / "data.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["purposes"] = {
        ("care_treatment" if name == "treatment" else name): entry
        for name, entry in doc["purposes"].items()
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    problems = disagreements(tmp_path)
    named = {p.split("#")[0].split(":")[0].split(" (")[0] for p in problems}
    # Every schema copy of the purposes, and every file that still says "treatment" (found with
    # grep, not with the check's own patterns), except the tests that pass names positionally to
    # their helpers (they fail in `opa test` by name) and those that write unknown purposes.
    copies = {rel for rel, _, kind, _ in SCHEMA_COPIES if kind == "purposes"}
    grep = subprocess.run(
        ["grep", "-rl", '"treatment"', *CHECKED], cwd=tmp_path, capture_output=True, text=True
    ).stdout.split()
    not_scanned = ("policy_tests/hipaa/state/", "policy_tests/hipaa/validation/")
    vocabulary_file = "policies/config/vocabulary/data.json"  # the label is still "treatment"
    saying_it = {f for f in grep if not f.startswith(not_scanned)} - {vocabulary_file}
    assert len(saying_it) > 80
    assert copies | saying_it | {"docs/api.md"} <= named, "\n".join(problems)
    assert vocabulary_file not in named
    assert all("treatment" in p for p in problems), "\n".join(problems)


def test_allow_the_accounting_words_come_from_the_vocabulary() -> None:
    from service.audit.accounting import vocabulary_words

    doc = json.loads(VOCABULARY.read_text(encoding="utf-8"))
    assert vocabulary_words("purposes") == {k: v["label"] for k, v in doc["purposes"].items()}
    assert vocabulary_words("categories") == {k: v["label"] for k, v in doc["categories"].items()}
