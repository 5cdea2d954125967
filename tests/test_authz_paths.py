"""Every policy document the shim queries is one OPA's API authorization lets it query.

A new endpoint that asks OPA for a new document must also add the document's path to
`queryable_paths` in policies/system/authz/authz.rego, or the hardened sidecar refuses the query
and the endpoint answers 503 (docs/endpoints.md). The shim names each document it queries in a
module-level constant ending in `_DOCUMENT`; this test finds them all and asks the real authz
policy, and finds paths the policy allows that nothing queries any more.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPA = os.environ.get("HIPAA_GATE_OPA_BIN") or shutil.which("opa") or "opa"
QUERY_METHODS = {"query", "_answer_or_503"}


def _documents() -> dict[str, str]:
    """document path -> where it is named, for every *_DOCUMENT constant under service/."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "service").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.endswith("_DOCUMENT")
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                found.setdefault(node.value.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _literal_queries() -> list[str]:
    """Query calls that name their document with a string literal instead of a constant."""
    bad = []
    for path in sorted((ROOT / "service").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in QUERY_METHODS and isinstance(first, ast.Constant):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return bad


def _authz(expression: str, input_doc: dict | None = None) -> object:
    cmd = [OPA, "eval", "-d", str(ROOT / "policies" / "system" / "authz"), "--format", "json"]
    if input_doc is not None:
        cmd += ["--stdin-input"]
    env = {k: v for k, v in os.environ.items() if k != "HIPAA_GATE_OPA_TOKEN"}
    out = subprocess.run(
        [*cmd, expression],
        input=json.dumps(input_doc) if input_doc is not None else None,
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    result = json.loads(out).get("result", [])
    return result[0]["expressions"][0]["value"] if result else None


def test_allow_every_document_the_shim_queries() -> None:
    documents = _documents()
    assert "hipaa/decision" in documents  # the search itself works
    refused = []
    for document, where in sorted(documents.items()):
        request = {"method": "POST", "path": ["v1", "data", *document.split("/")], "params": {}}
        if _authz("data.system.authz.allow", request) is not True:
            refused.append(f"{document} (named at {where})")
    assert refused == [], (
        "add these to queryable_paths in policies/system/authz/authz.rego: " + ", ".join(refused)
    )


def test_deny_no_query_names_its_document_by_a_literal() -> None:
    assert _literal_queries() == [], "name the document in a module-level *_DOCUMENT constant"


def test_deny_no_queryable_path_is_left_without_a_caller() -> None:
    allowed = {"/".join(p[2:]) for p in _authz("data.system.authz.queryable_paths")}
    assert allowed - set(_documents()) == set()
