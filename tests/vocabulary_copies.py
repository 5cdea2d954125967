"""Every place that copies or names a vocabulary value, checked against the one vocabulary.

Purposes, recipient types, categories, forms of the data, authorization types and states are
written once, in ``policies/config/vocabulary/data.json``; the policy reads them from there. This
module finds the places that still name them and says which disagree, one line each:

- the JSON Schemas' enumerations (listed in ``SCHEMA_COPIES``; an enumeration that looks like a
  vocabulary list and is not listed is named too, so no new copy goes unchecked);
- the policy data (``policies/config/*/data.json``), validated against its schema with each
  listed enumeration replaced by the vocabulary's;
- the purpose names written in Rego, Python and JSON (policies, policy tests, scenario fixtures,
  examples, the service): a comparison such as ``input.purpose == "…"``, a ``"purpose"`` field,
  a list given to a ``purposes`` field or rule, or a literal set that looks like the purposes;
- the purpose list of ``docs/api.md``.

``make check-data`` runs it (``python -m tests.vocabulary_copies``) before the policy tests, so a
name changed in the vocabulary alone stops ``make test`` with this list; tests/test_vocabulary.py
runs it too and renames a purpose in a copy of the tree to show that every place is named.
"""

from __future__ import annotations

import bisect
import copy
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY = "policies/config/vocabulary/data.json"
SCHEMA_DIRS = ("schemas", "service/schemas")

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
        "service/schemas/request.schema.json",
        "/properties/data/properties/form/enum",
        "forms",
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

#: Where purpose names are written in code, data and fixtures (the schemas and the data they
#: validate are checked above; the validation tests write unknown purposes on purpose).
TEXT_ROOTS = ("policies", "policy_tests", "examples", "service")
TEXT_SKIP = ("service/schemas/", "policy_tests/hipaa/validation/", VOCABULARY)
TEXT_SUFFIXES = {".rego", ".py", ".json", ".http"}
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_STRING = re.compile(r'"([^"\\]*)"')
_GROUP = re.compile(r"[\[{]([^\[\]{}]*)[\]}]")
_KEY = re.compile(r'"([^"\\]*)"\s*:')
_LIST = re.compile(r'\s*"[^"\\]*"(?:\s*,\s*"[^"\\]*")*\s*,?\s*')
#: One purpose: `input.purpose == "x"`, `"purpose": "x"`.
_ONE = re.compile(r'(?:\bpurpose\s*(?:==|!=)|"purpose"\s*:)\s*"([^"\\]*)"')
#: A list of purposes: `input.purpose in {…}`, `tpo_purposes := {…}`, `"purposes": […]`.
_MANY = re.compile(r'(?:\bpurpose\s+in|\b\w*purposes"?\s*(?::=|:))\s*[\[{]')


def vocabulary(root: Path = ROOT) -> dict[str, set[str]]:
    doc = json.loads((root / VOCABULARY).read_text(encoding="utf-8"))
    return {kind: set(entries) for kind, entries in doc.items()}


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


def _compare(where: str, found: set[Any], expected: set[str], mode: str) -> list[str]:
    missing, extra = sorted(expected - found), sorted(found - expected)
    if mode == "subset":
        missing = []
    if not missing and not extra:
        return []
    parts = [f"missing {missing}"] if missing else []
    parts += [f"not in the vocabulary {extra}"] if extra else []
    return [f"{where}: " + "; ".join(parts)]


def _looks_like(names: set[str], vocab: dict[str, set[str]]) -> Iterator[str]:
    """The vocabulary lists that ``names`` look like a copy of (two shared, half or more)."""
    for kind, expected in vocab.items():
        shared = names & expected
        if len(shared) >= 2 and len(shared) * 2 >= len(names):
            yield kind


def schema_problems(root: Path, vocab: dict[str, set[str]]) -> list[str]:
    """Each listed enumeration that differs, and each unlisted one that looks like a copy."""
    problems: list[str] = []
    declared = set()
    for rel, pointer, kind, mode in SCHEMA_COPIES:
        declared.add((rel, pointer))
        doc = json.loads((root / rel).read_text(encoding="utf-8"))
        found = {v for v in _pointer(doc, pointer) if v is not None}
        problems += _compare(f"{rel}#{pointer} ({kind})", found, vocab[kind], mode)
    for schema_dir in SCHEMA_DIRS:
        for path in sorted((root / schema_dir).glob("*.json")):
            rel = str(path.relative_to(root))
            for pointer, values in _enums(json.loads(path.read_text(encoding="utf-8"))):
                names = {v for v in values if isinstance(v, str)}
                if (rel, pointer) not in declared:
                    problems += [
                        f"{rel}#{pointer}: an unlisted copy of the {kind} (list it in "
                        "tests/vocabulary_copies.py SCHEMA_COPIES or read the vocabulary)"
                        for kind in _looks_like(names, vocab)
                    ]
    return problems


def _errors(schema: dict[str, Any], doc: Any) -> set[tuple[str, str]]:
    return {
        ("/" + "/".join(str(p) for p in e.absolute_path), json.dumps(e.instance))
        for e in Draft202012Validator(schema).iter_errors(doc)
        if e.validator == "enum"
    }


def data_problems(root: Path, vocab: dict[str, set[str]]) -> list[str]:
    """Names in the policy data that its schema allows and the vocabulary does not."""
    problems: list[str] = []
    by_schema: dict[str, list[tuple[str, str, str]]] = {}
    for rel, pointer, kind, mode in SCHEMA_COPIES:
        if rel.startswith("schemas/"):
            by_schema.setdefault(rel, []).append((pointer, kind, mode))
    for rel, copies in sorted(by_schema.items()):
        data_rel = _data_file(rel)
        schema = json.loads((root / rel).read_text(encoding="utf-8"))
        strict = copy.deepcopy(schema)
        for pointer, kind, mode in copies:
            parent = _pointer(strict, pointer.rsplit("/", 1)[0])
            written = parent["enum"]
            allowed = vocab[kind] if mode == "equal" else vocab[kind] & set(written)
            parent["enum"] = sorted(allowed) + [v for v in written if v is None]
        doc = json.loads((root / data_rel).read_text(encoding="utf-8"))
        for where, value in sorted(_errors(strict, doc) - _errors(schema, doc)):
            problems.append(f"{data_rel}#{where}: {value} is not in the vocabulary")
    return problems


def _data_file(schema: str) -> str:
    """The policy data file a data schema (``schemas/<name>.schema.json``) validates."""
    return f"policies/config/{Path(schema).name.removesuffix('.schema.json')}/data.json"


def _validated_data() -> set[str]:
    """The policy data files `data_problems` checks (their schemas hold listed copies)."""
    return {_data_file(rel) for rel, *_ in SCHEMA_COPIES if rel.startswith("schemas/")}


def _code_lines(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if path.suffix in {".rego", ".py"} and line.lstrip().startswith("#"):
            continue  # prose
        yield number, line


def _text_findings(text: str, purposes: set[str]) -> Iterator[tuple[int, str]]:
    """(offset, name) for each name written where a purpose goes."""
    for match in _ONE.finditer(text):
        yield match.start(1), match.group(1)
    for match in _MANY.finditer(text):
        group = _GROUP.match(text, match.end() - 1)
        if group is not None:
            body = group.group(1)
            for name in (_KEY if _KEY.search(body) else _STRING).finditer(body):
                yield group.start(1) + name.start(1), name.group(1)
    for group in _GROUP.finditer(text):  # a literal set of purposes under another name
        if not _LIST.fullmatch(group.group(1)):
            continue
        names = {m.group(1) for m in _STRING.finditer(group.group(1))}
        if "purposes" in _looks_like(names, {"purposes": purposes}):
            for name in _STRING.finditer(group.group(1)):
                yield group.start(1) + name.start(1), name.group(1)


def text_problems(root: Path, vocab: dict[str, set[str]]) -> list[str]:
    """Purpose names in code and fixtures that are not in the vocabulary."""
    problems: set[tuple[str, int, str]] = set()
    skip = (*TEXT_SKIP, *_validated_data())
    for top in TEXT_ROOTS:
        for path in sorted((root / top).rglob("*")):
            rel = str(path.relative_to(root))
            if path.suffix not in TEXT_SUFFIXES or rel.startswith(skip):
                continue
            lines = list(_code_lines(path))
            starts = [0]
            for _, line in lines:
                starts.append(starts[-1] + len(line) + 1)
            text = "\n".join(line for _, line in lines)
            for offset, name in _text_findings(text, vocab["purposes"]):
                if name not in vocab["purposes"] and _NAME.fullmatch(name):
                    index = bisect.bisect_right(starts, offset) - 1
                    problems.add((rel, lines[index][0], name))
    return [
        f"{rel}:{line}: {name!r} is not a purpose of the vocabulary"
        for rel, line, name in sorted(problems)
    ]


def docs_problems(root: Path, vocab: dict[str, set[str]]) -> list[str]:
    """The purpose list of docs/api.md (its `purpose` bullet)."""
    text = (root / "docs" / "api.md").read_text(encoding="utf-8")
    match = re.search(r"^- `purpose`: (.*?)(?:\n\n|\n- )", text, re.M | re.S)
    if match is None:
        return ["docs/api.md: the purpose list (a `- `purpose`:` bullet) is missing"]
    found = set(re.findall(r"`(\w+)`", match.group(1)))
    return _compare("docs/api.md (the `purpose` list)", found, vocab["purposes"], "equal")


def disagreements(root: Path = ROOT) -> list[str]:
    """Every place whose copy or use of a vocabulary name differs from the vocabulary."""
    vocab = vocabulary(root)
    return (
        schema_problems(root, vocab)
        + data_problems(root, vocab)
        + text_problems(root, vocab)
        + docs_problems(root, vocab)
    )


def main() -> int:
    problems = disagreements()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"vocabulary: {len(problems)} place(s) disagree with {VOCABULARY}", file=sys.stderr)
        return 1
    print(f"vocabulary: every copy and use agrees with {VOCABULARY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
