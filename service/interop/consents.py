"""FHIR ``Consent`` (R4 through the R4B models, or R5) → decide-request facts.

Each resource is parsed with ``fhir.resources`` (docs/decisions/0030); the bindings the models do
not check (``status``, ``provision.type``/``decision``) are checked here. A resource that does not
parse is a 400 naming it, never "no consent". What is read off a parsed consent is format
conversion (docs/interop.md §3); whether the law honours it is the policy's ``hipaa.consents``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.consent import Consent as ConsentR5
from fhir.resources.R4B.consent import Consent as ConsentR4
from pydantic import ValidationError

from service import jsonio
from service.errors import pointer
from service.interop.vocabulary import Vocabulary

TPO = frozenset({"treatment", "payment", "health_care_operations"})
#: Keys only an R5 Consent has at its root (R4's are patient, scope, dateTime, policyRule).
_R5_KEYS = frozenset(
    {"decision", "subject", "date", "regulatoryBasis", "controller", "manager", "grantor",
     "grantee", "period", "policyBasis", "policyText"}
)  # fmt: skip


class ConsentProblem(Exception):
    """A consent (or a code in it) the translation cannot use: a 400 naming the field."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        super().__init__(details[0]["message"] if details else "invalid consent")
        self.details = details


@dataclass
class Consent:
    """What the translation reads off one parsed Consent."""

    ref: str
    version: str
    path: str
    status: str
    patient: list[tuple[str | None, str | None]]  # (system, value) identifiers; reference ids
    signed_on: str | None
    period_start: str | None
    period_end: str | None
    signed: bool
    has_form: bool
    has_discloser: bool
    patient_named: bool
    policies: set[str]
    root: str | None
    permits: list[dict[str, Any]] = field(default_factory=list)
    denies: list[dict[str, Any]] = field(default_factory=list)


def _codes(codings: Any) -> list[tuple[str | None, str]]:
    return [
        (c.get("system"), c["code"])
        for c in codings or []
        if isinstance(c, dict) and isinstance(c.get("code"), str)
    ]


def _concept_codes(concepts: Any) -> list[tuple[str | None, str]]:
    out: list[tuple[str | None, str]] = []
    for concept in concepts or []:
        if isinstance(concept, dict):
            out.extend(_codes(concept.get("coding")))
    return out


def _uri_code(uri: Any) -> str | None:
    if not isinstance(uri, str) or not uri:
        return None
    return uri.rstrip("/").replace("#", "/").rsplit("/", 1)[-1]


def _version(resource: dict[str, Any]) -> str:
    if isinstance(resource.get("provision"), list) or _R5_KEYS & resource.keys():
        return "R5"
    return "R4"


def _model_errors(exc: ValidationError, base: str) -> list[dict[str, str]]:
    details = []
    for error in exc.errors()[:20]:
        loc = [p for p in error.get("loc", ()) if p != "__root__"]
        details.append({"path": base + pointer(loc), "message": str(error.get("msg", "invalid"))})
    return details or [{"path": base, "message": "is not a valid FHIR Consent"}]


#: Deeper provision trees are refused (real consents nest two or three levels).
MAX_PROVISION_DEPTH = 16


def _depth(prov: Any, level: int = 1) -> int:
    children = prov.get("provision") if isinstance(prov, dict) else prov
    if not isinstance(children, list) or level > MAX_PROVISION_DEPTH:
        return level
    return max([level, *(_depth(c, level + 1) for c in children if isinstance(c, dict))])


class _Validated:
    """The digests of the last ``size`` resources that passed model validation (an LRU).

    Validating a Consent with the models is most of what a consult costs the shim, and the same
    consents arrive again and again. The key is the SHA-256 of the resource's JSON bytes (keys in
    the order sent): a resource whose content differs in any way, the same id included, is
    validated afresh. Only successes are kept; a resource that fails is checked every time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: bytes) -> bool:
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return True
        return False

    def add(self, key: bytes) -> None:
        with self._lock:
            self._seen[key] = None
            self._seen.move_to_end(key)
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


VALIDATED = _Validated(size=1024)


def _validate(model: type, resource: dict[str, Any], path: str) -> None:
    """``model.model_validate(resource)``, skipped for a resource that passed before."""
    key = model.__module__.encode() + hashlib.sha256(jsonio.dumps(resource)).digest()
    if key in VALIDATED:
        return
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        raise ConsentProblem(_model_errors(exc, path)) from None
    except (TypeError, ValueError) as exc:  # the model library's own checks
        raise ConsentProblem(
            [{"path": path, "message": f"is not a valid FHIR Consent: {exc}"}]
        ) from None
    VALIDATED.add(key)


def parse(resource: Any, path: str, vocab: Vocabulary) -> Consent:
    """Parse and check one Consent; ``path`` is its JSON Pointer in the hook request."""
    if isinstance(resource, dict) and _depth(resource.get("provision")) > MAX_PROVISION_DEPTH:
        raise ConsentProblem(
            [{"path": path + "/provision", "message": "provisions are nested too deeply"}]
        )
    if not isinstance(resource, dict) or resource.get("resourceType") != "Consent":
        raise ConsentProblem([{"path": path, "message": "must be a FHIR Consent resource"}])
    version = _version(resource)
    _validate(ConsentR5 if version == "R5" else ConsentR4, resource, path)
    cid = resource.get("id")
    if not isinstance(cid, str) or not cid:
        raise ConsentProblem([{"path": path + "/id", "message": "is required (Consent/<id>)"}])
    status = resource.get("status")
    if status not in vocab.statuses[version]:
        allowed = ", ".join(sorted(vocab.statuses[version]))
        raise ConsentProblem(
            [{"path": path + "/status", "message": f"must be one of ({version}): {allowed}"}]
        )
    return _read(resource, f"Consent/{cid}", version, path, status)


def _read(res: dict[str, Any], ref: str, version: str, path: str, status: str) -> Consent:
    if version == "R4":
        subject = res.get("patient") or {}
        signed_on = res.get("dateTime")
        root = res.get("provision") or {}
        period = root.get("period") or {}
        form = bool(res.get("sourceAttachment") or res.get("sourceReference"))
        discloser = bool(res.get("organization"))
        policies = {c for _, c in _codes((res.get("policyRule") or {}).get("coding"))}
        policies |= {u for p in res.get("policy") or [] if (u := _uri_code(p.get("uri")))}
        root_type = root.get("type") if root else None
    else:
        subject = res.get("subject") or {}
        signed_on = res.get("date")
        period = res.get("period") or {}
        form = bool(res.get("sourceAttachment") or res.get("sourceReference"))
        discloser = bool(res.get("controller") or res.get("manager") or res.get("custodian"))
        policies = {c for _, c in _concept_codes(res.get("regulatoryBasis"))}
        policies |= {
            u
            for p in res.get("policy") or []
            if isinstance(p, dict) and (u := _uri_code(p.get("uri")))
        }
        root_type = res.get("decision")
        root = {"provision": res.get("provision") or []}
    identifiers: list[tuple[str | None, str | None]] = []
    ident = subject.get("identifier")
    if isinstance(ident, dict):
        identifiers.append((ident.get("system"), ident.get("value")))
    reference = subject.get("reference")
    if isinstance(reference, str) and reference.startswith("Patient/"):
        identifiers.append((None, reference.split("/", 1)[1]))
    has_provisions = bool(res.get("provision"))
    if has_provisions and root_type not in ("permit", "deny"):
        where = "/provision/type" if version == "R4" else "/decision"
        raise ConsentProblem(
            [{"path": path + where, "message": "must be permit or deny (what the consent grants)"}]
        )
    verified = any(
        isinstance(v, dict) and v.get("verified") is True for v in res.get("verification") or []
    )
    consent = Consent(
        ref=ref,
        version=version,
        path=path,
        status=status,
        patient=identifiers,
        signed_on=signed_on[:10] if isinstance(signed_on, str) else None,
        period_start=(period.get("start") or "")[:10] or None,
        period_end=(period.get("end") or "")[:10] or None,
        signed=verified or form,
        has_form=form,
        has_discloser=discloser,
        patient_named=bool(identifiers or subject.get("display")),
        policies=policies,
        root=root_type if root_type in ("permit", "deny") else None,
    )
    if consent.root is not None:
        base = path + "/provision"
        if version == "R4":
            nodes = _walk_r4(root, base, None, {})
        else:
            # R5: the root decision has the consent's scope; each provision is an exception to it.
            top = {"type": root_type, "provision": root["provision"]}
            nodes = _walk(top, path, root_type, {}, children_key="provision", r5=True)
        for node in nodes:
            (consent.permits if node["type"] == "permit" else consent.denies).append(node)
    return consent


def _scope(prov: dict[str, Any], inherited: dict[str, Any], path: str) -> dict[str, Any]:
    scope = dict(inherited)
    for key in ("actor", "purpose", "securityLabel", "class", "code", "data", "period"):
        if prov.get(key):
            scope[key] = prov[key]
            scope[key + "@"] = path + "/" + key
    return scope


def _walk_r4(prov: dict[str, Any], path: str, parent: str | None, inherited: dict[str, Any]):
    return _walk(prov, path, parent, inherited, children_key="provision", r5=False)


def _walk(
    prov: dict[str, Any],
    path: str,
    parent: str | None,
    inherited: dict[str, Any],
    *,
    children_key: str,
    r5: bool,
    top: bool = True,
) -> Iterator[dict[str, Any]]:
    """Every provision with its effective type (its own, else the opposite of its parent's) and
    its scope (its own fields, else its ancestors')."""
    kind = prov.get("type") if not r5 or top else None
    if kind not in ("permit", "deny"):
        kind = "deny" if parent == "permit" else "permit"
    scope = _scope(prov, inherited, path)
    yield {"type": kind, "scope": scope, "path": path, "top": top}
    for index, child in enumerate(prov.get(children_key) or []):
        if isinstance(child, dict):
            child_path = f"{path}/{children_key}/{index}"
            yield from _walk(
                child, child_path, kind, scope, children_key=children_key, r5=r5, top=False
            )
