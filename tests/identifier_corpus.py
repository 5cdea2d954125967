"""The identifier fuzzing corpus: every identifier field and the hostile variants of an id.

Identifiers have one syntax (docs/api.md, request.schema.json ``$defs.identifier``): 1-128
ASCII letters, digits and ``. _ : @ / -``, compared case-insensitively. Each variant below is
a way an attacker could make an id look like another one (whitespace, control characters,
Unicode confusables) and must be refused with a 400 naming the field; the upper-case variant is
valid syntax and must be read as the same id.
"""

from __future__ import annotations

import copy
from typing import Any

#: JSON pointer of every identifier field of the decision request, with the parent object the
#: test request needs for it to exist.
IDENTIFIER_FIELDS = (
    "/request_id",
    "/requester/user_id",
    "/requester/organization_id",
    "/patient/id",
    "/recipient/id",
    "/authorizations/0/id",
    "/authorizations/0/recipients/0",
    "/context/approval_id",
    "/context/data_use_agreement_id",
    "/context/irb_waiver_id",
)

#: (name, function of a valid id) -> a string the syntax refuses.
HOSTILE_VARIANTS: tuple[tuple[str, Any], ...] = (
    ("trailing space", lambda s: s + " "),
    ("leading space", lambda s: " " + s),
    ("inner space", lambda s: s[:1] + " " + s[1:]),
    ("trailing newline", lambda s: s + "\n"),
    ("trailing CRLF", lambda s: s + "\r\n"),
    ("tab", lambda s: s + "\t"),
    ("NUL", lambda s: s + "\x00"),
    ("unit separator", lambda s: s + "\x1f"),
    ("DEL", lambda s: s + "\x7f"),
    ("NEL (C1 control)", lambda s: s + "\x85"),
    ("no-break space", lambda s: s + "\u00a0"),
    ("zero-width space", lambda s: s + "\u200b"),
    ("zero-width joiner", lambda s: s[:1] + "\u200d" + s[1:]),
    ("byte order mark", lambda s: "\ufeff" + s),
    ("line separator", lambda s: s + "\u2028"),
    ("right-to-left override", lambda s: "\u202e" + s),
    ("Unicode hyphen", lambda s: s.replace("-", "\u2010")),
    ("non-breaking hyphen", lambda s: s.replace("-", "\u2011")),
    ("minus sign", lambda s: s.replace("-", "\u2212")),
    ("fullwidth letters", lambda s: "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in s)),
    ("Cyrillic look-alike", lambda s: s.replace("e", "\u0435").replace("o", "\u043e") + "\u0430"),
    ("combining accent", lambda s: s + "\u0301"),
    ("Latin-1 letter", lambda s: s + "\u00e9"),
    ("empty", lambda s: ""),
    ("too long (129)", lambda s: (s * 129)[:129]),
    ("wildcard", lambda s: "*"),
    ("quote", lambda s: s + '"'),
    ("backslash", lambda s: s + "\\"),
)

HOSTILE_VARIANTS_BY_NAME = dict(HOSTILE_VARIANTS)

#: Valid syntax, read as the same id (case-insensitive comparison).
SAME_ID_VARIANTS: tuple[tuple[str, Any], ...] = (
    ("upper case", str.upper),
    ("title case", lambda s: s[:1].upper() + s[1:]),
)


def full_request() -> dict[str, Any]:
    """A valid request holding every identifier field (synthetic ids)."""
    return {
        "request_id": "gw-fuzz-0001",
        "requester": {
            "user_id": "u-fuzz-1",
            "roles": ["physician"],
            "mfa": True,
            "organization_id": "org-fuzz",
            "state": "CA",
        },
        "patient": {"id": "p-fuzz-0001", "state": "CA", "age": 54},
        "recipient": {
            "type": "provider",
            "id": "npi-0000000009",
            "name": "Fuzz Cardiology",
            "identity_verified": True,
            "state": "CA",
        },
        "purpose": "treatment",
        "data": {"categories": ["general"], "elements": ["problem_list"]},
        "authorizations": [
            {
                "id": "auth-fuzz-1",
                "type": "hipaa_authorization",
                "signed": True,
                "signed_on": "2026-01-10",
                "expires_on": "2027-01-10",
                "recipients": ["npi-0000000009"],
                "recipient_types": ["provider"],
                "purposes": ["treatment"],
                "categories": ["general"],
            }
        ],
        "context": {
            "approval_id": "irb-approval-1",
            "data_use_agreement_id": "dua-1",
            "irb_waiver_id": "waiver-1",
        },
    }


def _parts(path: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in path.strip("/").split("/")]


def get(body: dict[str, Any], path: str) -> Any:
    node: Any = body
    for part in _parts(path):
        node = node[part]
    return node


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    *parents, last = _parts(path)
    node: Any = out
    for part in parents:
        node = node[part]
    node[last] = value
    return out


def hostile_cases() -> list[tuple[str, str, str]]:
    """(field, variant name, value) for every identifier field and hostile variant."""
    base = full_request()
    return [
        (path, name, make(get(base, path)))
        for path in IDENTIFIER_FIELDS
        for name, make in HOSTILE_VARIANTS
        # "*" is the wildcard an authorization's recipients may hold, not an identifier.
        if not (name == "wildcard" and path == "/authorizations/0/recipients/0")
    ]
