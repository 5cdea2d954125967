"""``hipaa-gate check-data`` / ``make check-data``: the policy data is well formed and consistent.

Every ``policies/config/<name>/data.json`` must satisfy ``schemas/<name>.schema.json``, and the
cross-references a schema cannot express must hold: every view a role names exists, every element
a view names is in the element catalog, every purpose a role, a business associate's BAA or an HIE
agreement names is a purpose of the vocabulary (``config/vocabulary``). ``serve`` and ``decide``
run the same check before they build a bundle, so OPA never serves data that would quietly allow
with an empty view.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from service.errors import pointer
from service.paths import REPO_DIR, policy_dir

SCHEMA_DIR = REPO_DIR / "schemas"
SERVICE_SCHEMA_DIR = REPO_DIR / "service" / "schemas"


class PolicyDataError(ValueError):
    """The policy data is invalid; ``problems`` are ``"file: /pointer: what"`` lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid policy data:\n  " + "\n  ".join(problems))


def _load(path: Path, problems: list[str], label: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{label}: file missing")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{label}: not valid JSON ({exc})")
    return None


def _schema_problems(policies: Path, schemas: Path) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    loaded: dict[str, Any] = {}
    config = policies / "config"
    for data_file in sorted(config.glob("*/data.json")):
        name = data_file.parent.name
        label = f"policies/config/{name}/data.json"
        data = _load(data_file, problems, label)
        if data is None:
            continue
        schema_file = schemas / f"{name}.schema.json"
        label_schema = f"schemas/{name}.schema.json"
        if not schema_file.is_file() and (SERVICE_SCHEMA_DIR / schema_file.name).is_file():
            # A data file the service itself reads (the audit desk's) keeps its schema there.
            schema_file = SERVICE_SCHEMA_DIR / schema_file.name
            label_schema = f"service/schemas/{name}.schema.json"
        schema = _load(schema_file, problems, label_schema)
        if schema is None:
            continue
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        for error in errors:
            where = pointer(list(error.absolute_path)) or "/"
            problems.append(f"{label}: {where}: {error.message}")
        loaded[name] = data
    return loaded, problems


def _reference_problems(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    vocabulary = data.get("vocabulary")
    purposes = set(vocabulary.get("purposes") or {}) if isinstance(vocabulary, dict) else set()
    roles = data.get("roles")
    elements = data.get("elements")
    if isinstance(roles, dict):
        label = "policies/config/roles/data.json"
        views = roles.get("views") if isinstance(roles.get("views"), dict) else {}
        if isinstance(elements, dict):
            for view, members in views.items():
                for i, element in enumerate(members if isinstance(members, list) else []):
                    if element not in elements:
                        problems.append(
                            f"{label}: /views/{view}/{i}: element {element!r} is not in the "
                            "element catalog (policies/config/elements/data.json)"
                        )
        for role, spec in (roles.get("roles") or {}).items():
            role_purposes = spec.get("purposes") if isinstance(spec, dict) else None
            for purpose, view in (role_purposes or {}).items():
                where = f"{label}: /roles/{role}/purposes/{purpose}"
                if purpose not in purposes:
                    problems.append(f"{where}: purpose {purpose!r} does not exist")
                if view not in views:
                    problems.append(
                        f"{where}: view {view!r} does not exist (views: {', '.join(sorted(views))})"
                    )
    registries = (("business_associates", ("baa", "purposes")), ("hie_agreements", ("purposes",)))
    audit = data.get("audit")
    if isinstance(audit, dict):  # the audit desk's emergency purposes
        registries += (("audit", ("purposes",)),)
        data = {**data, "audit": {"emergency": audit.get("emergency")}}
    for name, key in registries:
        registry = data.get(name)
        if not isinstance(registry, dict):
            continue
        for entry_id, entry in registry.items():
            node: Any = entry
            for part in key:
                node = node.get(part) if isinstance(node, dict) else None
            for i, purpose in enumerate(node if isinstance(node, list) else []):
                if purpose not in purposes:
                    path = "/".join((entry_id, *key, str(i)))
                    problems.append(
                        f"policies/config/{name}/data.json: /{path}: "
                        f"purpose {purpose!r} does not exist"
                    )
    return problems


def check_policy_data(policies: Path | None = None, schemas: Path | None = None) -> None:
    """Raise ``PolicyDataError`` naming every problem (file, JSON Pointer, what is wrong)."""
    policies = Path(policies or policy_dir())
    data, problems = _schema_problems(policies, Path(schemas or SCHEMA_DIR))
    problems += _reference_problems(data)
    if problems:
        raise PolicyDataError(problems)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policies", type=Path, default=None, help="policy directory (default: the checkout's)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    policies = args.policies or policy_dir()
    try:
        check_policy_data(policies)
    except PolicyDataError as exc:
        print(f"check-data: {len(exc.problems)} problem(s) in {policies}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    count = len(list(Path(policies).glob("config/*/data.json")))
    print(f"check-data: {count} data files satisfy their schemas; cross-references hold")
    return 0
