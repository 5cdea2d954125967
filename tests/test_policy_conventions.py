"""Conventions of the policy library, checked on `opa inspect -a` output (Conforma-style).

Every rule that yields an item through a `hipaa.lib` helper passes `rego.metadata.chain()`; the
helper reads keys of the rule's METADATA `custom` block. A missing or misspelled key makes the
item undefined and the rule silently adds nothing (a deny that never fires), which neither
`opa check` nor Regal notices. This check fails the build instead, naming the rule and the key.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
OPA = os.environ.get("HIPAA_GATE_OPA_BIN") or shutil.which("opa") or "opa"

#: The `custom` keys each lib helper reads (lib/items.rego, lib/result.rego).
HELPER_KEYS = {
    "deny": {"rule", "code", "citation", "message"},
    "permit": {"rule", "code", "citation", "summary"},
    "result": {"rule", "code", "citation", "message"},
    "basis": {"rule", "code", "citation", "summary"},
}
#: Keys a `custom` block may carry besides the helper's own (read where named).
OPTIONAL_KEYS = {
    "requirement",  # lib.deny: {code, message}
    "obligations",  # lib.permit: [{code, message}]
    "severity",  # vendors.findings: _finding reads it
    "defective",  # consents.findings: _finding reads it
}
CALL = re.compile(r"\b([A-Za-z_][\w.]*)\(rego\.metadata\.chain\(\)")
WRAPPER = re.compile(r"^(_?\w+)\(chain\b[^)]*\)\s*:=\s*lib\.(\w+)\(chain\b", re.MULTILINE)
CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _annotations(policy_dir: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [OPA, "inspect", "-a", "--format", "json", str(policy_dir)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out).get("annotations", [])


def _helper_of(call: str, wrappers: dict[str, str]) -> str | None:
    if call.startswith("lib."):
        return call.removeprefix("lib.")
    return wrappers.get(call)


def _call_sites(policy_dir: Path) -> list[tuple[Path, int, str]]:
    """(file, row, helper) of every rule head that passes rego.metadata.chain() to a helper."""
    sites = []
    for path in sorted(policy_dir.rglob("*.rego")):
        text = path.read_text(encoding="utf-8")
        wrappers = dict(WRAPPER.findall(text))
        for row, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue
            for call in CALL.findall(line):
                sites.append((path, row, _helper_of(call, wrappers) or f"unknown helper {call}"))
    return sites


def convention_problems(policy_dir: Path) -> list[str]:
    """Every breach of the METADATA conventions under policy_dir, one line each."""
    by_site: dict[tuple[str, int], dict[str, Any]] = {}
    for ann in _annotations(policy_dir):
        loc = ann["location"]
        by_site[(str(Path(loc["file"]).resolve()), loc["row"])] = ann["annotations"]
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for path, row, helper in _call_sites(policy_dir):
        where = f"{path.relative_to(policy_dir.parent)}:{row}"
        if helper not in HELPER_KEYS:
            problems.append(f"{where}: rego.metadata.chain() passed to {helper}")
            continue
        custom = by_site.get((str(path.resolve()), row), {}).get("custom")
        if not isinstance(custom, dict):
            problems.append(f"{where}: lib.{helper} needs a METADATA custom block on its rule")
            continue
        for key in sorted(HELPER_KEYS[helper] - custom.keys()):
            problems.append(f"{where}: lib.{helper} reads custom.{key}, which is missing")
        for key in sorted(custom.keys() - HELPER_KEYS[helper] - OPTIONAL_KEYS):
            problems.append(f"{where}: unknown METADATA key custom.{key}")
        code = custom.get("code")
        if code is not None and not (isinstance(code, str) and CODE.match(code)):
            problems.append(f"{where}: custom.code {code!r} is not an UPPER_SNAKE code")
        requirement = custom.get("requirement")
        if requirement is not None and (
            not isinstance(requirement, dict) or {"code", "message"} - requirement.keys()
        ):
            problems.append(f"{where}: custom.requirement needs code and message")
        for item in custom.get("obligations") or []:
            if not isinstance(item, dict) or {"code", "message"} - item.keys():
                problems.append(f"{where}: each custom.obligations item needs code and message")
        key = (str(custom.get("rule")), str(code))
        if key in seen and seen[key] != str(path):
            problems.append(f"{where}: rule {key[0]} code {key[1]} also defined in {seen[key]}")
        seen.setdefault(key, str(path))
    return problems


def test_policy_metadata_follows_the_conventions() -> None:
    assert convention_problems(ROOT / "policies") == []


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", target)
    return target


def _misspell(policy_dir: Path, rel: str, old: str, new: str) -> None:
    path = policy_dir / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("rel", "old", "new", "expected"),
    [
        (
            "hipaa/safeguards/safeguards.rego",
            "#   message: The requester must authenticate",
            "#   mesage: The requester must authenticate",
            "lib.deny reads custom.message, which is missing",
        ),
        (
            "hipaa/safeguards/safeguards.rego",
            "#   citation: 45 CFR 164.312(d)",
            "#   citaton: 45 CFR 164.312(d)",
            "unknown METADATA key custom.citaton",
        ),
    ],
)
def test_deny_a_misspelled_metadata_key_is_named(
    policy_copy: Path, rel: str, old: str, new: str, expected: str
) -> None:
    _misspell(policy_copy, rel, old, new)
    problems = convention_problems(policy_copy)
    assert len(problems) >= 1
    assert all(rel in p for p in problems)
    assert any(expected in p for p in problems)
