"""Validate a decision request and build the OPA input from it.

The request JSON Schema lives in ``service/schemas/request.schema.json``. A valid request becomes
the OPA input: the request (docs/api.md) with every optional field filled with its default, fields
the schema does not know dropped, plus the server-side facts ``now`` and ``request_id``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Collection
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

from service.errors import RequestValidationError, pointer
from service.paths import SCHEMA_DIR, policy_dir

REQUEST_SCHEMA = "request.schema.json"
BREACH_PLAN_SCHEMA = "breach_plan.schema.json"
log = logging.getLogger(__name__)


def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


#: Keywords that only describe: a ``$ref``'s sibling may restate them (the sibling's wins).
_ANNOTATIONS = frozenset({"description", "title", "default", "examples"})


def inline_refs(node: Any, root: dict[str, Any], _active: tuple[str, ...] = ()) -> Any:
    """``node`` with every local ``$ref`` replaced by (a copy of) its target, ``$defs`` dropped.

    jsonschema otherwise resolves each ``$ref`` through ``referencing`` on every validation;
    inlined once at start-up, validation of a request costs about 40% less CPU and reports the
    same errors (same instance paths, same keywords and messages). Only local references
    (``#/...``) exist in our schemas; a recursive one cannot be inlined and is refused.
    """
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#/"):
                raise ValueError(f"only local $refs are supported: {ref}")
            if ref in _active:
                raise ValueError(f"recursive $ref cannot be inlined: {ref}")
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            rest = {k: inline_refs(v, root, _active) for k, v in node.items() if k != "$ref"}
            inlined = inline_refs(target, root, (*_active, ref))
            if (rest.keys() & inlined.keys()) - _ANNOTATIONS:
                raise ValueError(f"$ref {ref} has sibling keywords its target also has")
            return {**inlined, **rest}
        return {k: inline_refs(v, root, _active) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [inline_refs(v, root, _active) for v in node]
    return node


#: An unescaped ``$`` (also inside a character class, where no pattern of ours puts one).
_DOLLAR = re.compile(r"(?<!\\)\$")


@cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` with ECMA-262 (JSON Schema) meaning in Python's ``re``.

    In ECMA-262 (and Go's RE2, which the policy uses) ``$`` matches only at the very end of the
    text; Python's ``$`` also matches before a final newline, so ``"u-1\\n"`` would satisfy
    ``^[a-z0-9-]+$``. Every ``$`` becomes ``\\Z``, exactly as fastjsonschema compiles it, so the
    two validators agree (Unicode-dependent classes such as ``\\d`` or ``\\w`` are not used in our
    schemas: a test keeps it so).
    """
    return re.compile(_DOLLAR.sub(r"\\Z", pattern))


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


#: Draft 2020-12 with ECMA-262 pattern semantics (the fast compiled check has the same).
_StrictValidator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


@cache
def _validator(name: str) -> Draft202012Validator:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    flat = inline_refs(schema, schema)
    return _StrictValidator(flat, format_checker=FORMATS)


#: The dates the policy engine can represent: OPA's time built-ins work in nanoseconds since
#: 1970 in a signed 64-bit integer (1677-09-21 to 2262-04-11); a date outside would make the
#: policy deny with INVALID_INPUT instead of the request being refused. Whole years inside.
DATE_RANGE = (dt.date(1678, 1, 1), dt.date(2261, 12, 31))

#: The draft 2020-12 format checks, with ``date`` limited to ``DATE_RANGE``.
FORMATS = FormatChecker()


@FORMATS.checks("date", raises=ValueError)
def _date_in_range(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not Draft202012Validator.FORMAT_CHECKER.conforms(value, "date"):
        return False
    return DATE_RANGE[0] <= dt.date.fromisoformat(value) <= DATE_RANGE[1]


def inlined_schema(name: str = REQUEST_SCHEMA) -> dict[str, Any]:
    """The schema ``name`` with its ``$ref``s inlined, as the validator uses it."""
    return _validator(name).schema


def _conforms_to_date(value: Any) -> bool:
    return FORMATS.conforms(value, "date")


@cache
def _fast_check(name: str) -> Callable[[Any], Any]:
    """The same schema compiled to Python by fastjsonschema, used only to accept a body quickly.

    It never produces the errors a client sees: a body it rejects (or anything it raises on) is
    validated again by ``jsonschema``, whose errors are the API's. Where the two differ, the
    compiled check is the stricter one (a ``$`` in a pattern matches only at the very end; ``1.0``
    is not an integer), so such a body merely takes the slow path; ``date`` uses jsonschema's own
    format check, and defaults are not written into the body (``use_default=False``). The schema's
    keywords are all draft-7 keywords with draft-7 meaning once ``$ref``s are inlined.
    """
    flat = {k: v for k, v in _validator(name).schema.items() if k not in ("$schema", "$id")}
    # Without detailed exceptions the generated code is a third of the size (about 7 MB less
    # resident memory per worker); fastjsonschema 2.21.1 cannot generate ``const`` that way, so
    # ``{"const": x}`` is given as the equivalent ``{"enum": [x]}``.
    return fastjsonschema.compile(
        _const_as_enum(flat),
        formats={"date": _conforms_to_date},
        use_default=False,
        detailed_exceptions=False,
    )


def _const_as_enum(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _const_as_enum(v) for k, v in node.items() if k != "const"}
        if "const" in node:
            if "enum" in node:
                raise ValueError("a schema node with both const and enum")
            out["enum"] = [node["const"]]
        return out
    if isinstance(node, list):
        return [_const_as_enum(v) for v in node]
    return node


def prepare_validation() -> None:
    """Build both validators now (at start-up), so a schema problem stops the app early."""
    for name in (REQUEST_SCHEMA, BREACH_PLAN_SCHEMA):
        _fast_check(name)


def passes_fast_check(body: Any, schema: str = REQUEST_SCHEMA) -> bool:
    check = _fast_check(schema)  # compiled once; a compile error is raised, not swallowed
    try:
        check(body)
    except Exception:  # any doubt goes to the full validation
        return False
    return True


def load_element_catalog(policies: Path | None = None) -> frozenset[str] | None:
    """Keys of ``policies/config/elements/data.json``; ``None`` when the catalog is missing."""
    path = (policies or policy_dir()) / "config" / "elements" / "data.json"
    try:
        catalog = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        log.warning("element catalog %s not found: elements are checked by pattern only", path)
        return None
    if not isinstance(catalog, dict) or not catalog:
        raise ValueError(f"element catalog {path} must be a non-empty JSON object")
    return frozenset(catalog)


@lru_cache(maxsize=1)
def _default_catalog() -> frozenset[str] | None:
    return load_element_catalog()


# ----------------------------------------------------------------------------- validation


def _describe(error: ValidationError) -> str:
    validator, value = error.validator, error.validator_value
    if validator == "enum":
        shown = [v for v in value if v is not None]
        tail = " or null" if None in value else ""
        return "must be one of: " + ", ".join(map(str, shown)) + tail
    if validator == "const":
        return f"must be {json.dumps(value)}"
    if validator == "type":
        kinds = value if isinstance(value, list) else [value]
        return "must be of type " + " or ".join(kinds)
    if validator == "format":
        if value == "date":
            low, high = DATE_RANGE
            return f"must be a date (YYYY-MM-DD) from {low} to {high}"
        return f"must be a valid {value}"
    if validator == "pattern":
        return "contains characters that are not allowed"
    if validator == "minItems":
        return f"must contain at least {value} item(s)"
    if validator == "maxItems":
        return f"must contain at most {value} item(s)"
    if validator == "uniqueItems":
        return "must not contain duplicate items"
    if validator == "minLength":
        return "must not be empty" if value == 1 else f"must be at least {value} characters long"
    if validator == "maxLength":
        return f"must be at most {value} characters long"
    if validator == "minimum":
        return f"must be at least {value}"
    if validator == "maximum":
        return f"must be at most {value}"
    if validator == "anyOf":
        parts = sorted({_describe(sub) for sub in error.context or []})
        return " or ".join(parts) if parts else "is not an allowed value"
    return f"violates the '{validator}' constraint"


def _details(error: ValidationError) -> list[dict[str, str]]:
    path = list(error.absolute_path)
    if error.validator == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        # A conditional requirement (`if`/`then`) says why in its `$comment`.
        why = error.schema.get("$comment") if "then" in error.absolute_schema_path else None
        message = f"is required {why}" if why else "is required"
        return [
            {"path": pointer([*path, name]), "message": message}
            for name in error.validator_value
            if name not in instance
        ]
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        return [
            {"path": pointer([*path, name]), "message": "unknown field"}
            for name in error.instance
            if name not in known
        ]
    if "propertyNames" in error.relative_schema_path:
        return [
            {
                "path": pointer([*path, error.instance]),
                "message": "unknown key: " + _describe(error),
            }
        ]
    return [{"path": pointer(path), "message": _describe(error)}]


def validate_request(
    body: Any, *, elements: Collection[str] | None = None, schema: str = REQUEST_SCHEMA
) -> None:
    """Raise ``RequestValidationError`` listing every violation (not only the first)."""
    details: list[dict[str, str]] = []
    if not passes_fast_check(body, schema):
        for error in _validator(schema).iter_errors(body):
            details.extend(_details(error))
    if elements is not None and isinstance(body, dict):
        requested = (
            (body.get("data") or {}).get("elements") if isinstance(body.get("data"), dict) else None
        )
        if isinstance(requested, list):
            for index, name in enumerate(requested):
                if isinstance(name, str) and name not in elements:
                    details.append(
                        {"path": pointer(["data", "elements", index]), "message": "unknown element"}
                    )
    if details:
        unique = {(d["path"], d["message"]): d for d in details}
        raise RequestValidationError(
            details=sorted(unique.values(), key=lambda d: (d["path"], d["message"]))
        )


# ----------------------------------------------------------------------------- defaults


_IMMUTABLE = (str, int, float, bool, type(None))
Filler = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _compile_filler(node: dict[str, Any]) -> Filler:
    """A function returning a value of this schema node with the defaults filled in.

    Objects become new dicts holding only the properties the schema knows (each filled in turn,
    a missing one set to its default, see ``_default_maker``); arrays whose ``items`` is a schema
    become new lists of filled items; anything else is returned as it is (shared, never modified).
    The schema is walked once here, not on every request.
    """
    properties = node.get("properties")
    items = node.get("items")
    fill_item = _compile_filler(items) if isinstance(items, dict) else None
    fields = (
        None
        if properties is None
        else [
            (name, _compile_filler(prop), _default_maker(prop)) for name, prop in properties.items()
        ]
    )
    if fields is None and fill_item is None:
        return _identity

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            if fields is None:
                return value
            out = {}
            for name, fill_field, make_default in fields:
                if name in value:
                    out[name] = fill_field(value[name])
                elif make_default is not None:
                    out[name] = make_default()
            return out
        if fill_item is not None and isinstance(value, list):
            return [fill_item(item) for item in value]
        return value

    return fill


def _default_maker(node: dict[str, Any]) -> Callable[[], Any] | None:
    """What fills a missing property: its ``default`` (a fresh copy when mutable), an object of
    its own defaults when it is an object without required properties, else nothing."""
    if "default" in node:
        default = node["default"]
        if isinstance(default, _IMMUTABLE):
            return lambda: default
        return lambda: copy.deepcopy(default)
    if node.get("type") == "object" and "properties" in node and not node.get("required"):
        fill = _compile_filler(node)
        return lambda: fill({})
    return None


@cache
def _filler(schema: str) -> Filler:
    """The filler of the schema with its ``$ref``s inlined (the validator's)."""
    return _compile_filler(_validator(schema).schema)


_MISSING = object()


def build_opa_input(
    body: dict[str, Any],
    *,
    now: str,
    request_id: str,
    elements: Collection[str] | object | None = _MISSING,
) -> dict[str, Any]:
    """Validate ``body``; return the OPA input (§3 with defaults, ``now`` and ``request_id``).

    ``elements`` is the element catalog; by default it is read once from the policy directory.
    """
    catalog = _default_catalog() if elements is _MISSING else elements
    validate_request(body, elements=catalog)  # type: ignore[arg-type]
    opa_input = _filler(REQUEST_SCHEMA)(body)
    opa_input.pop("now", None)
    data = opa_input["data"]
    if "part2_program" not in data:
        data["part2_program"] = "substance_use_disorder" in data["categories"]
    opa_input["request_id"] = request_id
    opa_input["now"] = now
    return opa_input
