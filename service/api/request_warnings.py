"""What a valid request held that the decision ignored: the ``warnings`` list of the answer.

The contract lets the shim drop unknown fields inside objects; a typo there (``court_ordr``)
would otherwise be a silent deny. An unknown role is valid input (the policy denies it with
``ROLE_NOT_PERMITTED``) but is named here as well. Warnings are computed beside the decision and
never change it: OPA never sees them.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from service.errors import pointer


def load_role_catalog(policies: Path) -> frozenset[str] | None:
    """Role names of ``policies/config/roles/data.json``; ``None`` when it is missing."""
    try:
        data = json.loads((policies / "config" / "roles" / "data.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    roles = data.get("roles") if isinstance(data, dict) else None
    return frozenset(roles) if isinstance(roles, dict) else None


def _suggest(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def _walk(value: Any, schema: dict[str, Any], path: list[Any], out: list[dict[str, str]]) -> None:
    if isinstance(value, dict):
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return
        for key, item in value.items():
            sub = properties.get(key)
            if sub is None:
                if path:  # unknown top-level fields are refused by the schema, not warned about
                    out.append(
                        {
                            "code": "UNKNOWN_FIELD",
                            "path": pointer([*path, key]),
                            "message": f"unknown field {key!r} was ignored"
                            + _suggest(key, properties),
                        }
                    )
            elif isinstance(sub, dict):
                _walk(item, sub, [*path, key], out)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                _walk(item, items, [*path, index], out)


def request_warnings(
    body: dict[str, Any], schema: dict[str, Any], roles: Collection[str] | None
) -> list[dict[str, str]]:
    """Warnings for a request that passed validation (``schema``: the inlined request schema)."""
    out: list[dict[str, str]] = []
    _walk(body, schema, [], out)
    requester = body.get("requester")
    if roles is not None and isinstance(requester, dict):
        for index, role in enumerate(requester.get("roles") or []):
            if isinstance(role, str) and role not in roles:
                out.append(
                    {
                        "code": "UNKNOWN_ROLE",
                        "path": pointer(["requester", "roles", index]),
                        "message": f"role {role!r} is not in the role catalog "
                        "(policies/config/roles/data.json), so it permits nothing"
                        + _suggest(role, roles),
                    }
                )
    out += _scope_warnings(body.get("authorizations"))
    return sorted(out, key=lambda w: (w["path"], w["code"]))


def _scope_warnings(authorizations: Any) -> list[dict[str, str]]:
    """An authorization whose scope can match nothing (docs/api.md, "Writing a request")."""
    out = []
    for index, auth in enumerate(authorizations if isinstance(authorizations, list) else []):
        if not isinstance(auth, dict):
            continue
        problems = []
        categories = auth.get("categories")
        if not categories:
            problems.append("its categories are empty, so it covers no category")
        elif isinstance(categories, list) and "*" in categories:
            problems.append(
                "'*' is not a wildcard in an authorization's categories: name each category"
            )
        if not auth.get("purposes") and auth.get("type") != "part2_tpo_consent":
            problems.append("its purposes are empty, so it covers no purpose")
        if not auth.get("recipients") and not auth.get("recipient_types"):
            problems.append("its recipients and recipient_types are empty: it covers no recipient")
        for problem in problems:
            out.append(
                {
                    "code": "AUTHORIZATION_MATCHES_NOTHING",
                    "path": pointer(["authorizations", index]),
                    "message": f"authorization {auth.get('id') or index!s}: {problem}",
                }
            )
    return out
