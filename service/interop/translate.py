"""A CDS Hooks ``patient-consent-consult`` request → decide requests (docs/interop.md §2-§3).

Format conversion only. The facts the law needs and a consent does not carry come from the
``org.hipaa-gate.request`` extension; the patient id from ``context.patientId``; the purpose from
``context.purposeOfUse``; authorizations and restrictions from the FHIR Consents in
``context.consent`` or ``prefetch.consents``. Nothing is guessed: a missing fact is a 400 naming
it by JSON Pointer into the hook request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.errors import RequestValidationError, pointer
from service.interop import consents as fhir
from service.interop.vocabulary import Vocabulary

HOOK = "patient-consent-consult"
EXTENSION = "org.hipaa-gate.request"
EXT_PATH = "/extension/" + EXTENSION
#: Where a field of the decide request comes from in the hook request (for error paths).
_FIELD_SOURCES = {"/purpose": "/context/purposeOfUse", "/patient/id": "/context/patientId/0/value"}


@dataclass
class Translation:
    """The decide requests (one per purpose) and what was read off the consents."""

    requests: list[dict[str, Any]]
    consent_facts: list[dict[str, Any]]
    consents_ignored: list[dict[str, str]]
    consent_refs: list[str]
    hook_instance: str | None
    #: The consents that became authorizations (the others were restrictions or opt-outs).
    auth_refs: set[str] = field(default_factory=set)
    #: JSON Pointer (decide request) → JSON Pointer (hook request), for validation errors.
    sources: dict[str, str] = field(default_factory=dict)


def _fail(path: str, message: str) -> RequestValidationError:
    return RequestValidationError(
        "The CDS Hooks request cannot be translated.", details=[{"path": path, "message": message}]
    )


def _identifiers(value: Any, path: str, *, required: bool) -> list[dict[str, str]]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise _fail(path, "must be a non-empty array of {system, value} identifiers")
    for index, item in enumerate(value):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("value"), str)
            or not item["value"]
        ):
            raise _fail(f"{path}/{index}/value", "is required (a non-empty string)")
        if "system" in item and not isinstance(item["system"], str):
            raise _fail(f"{path}/{index}/system", "must be a string")
    return value


def _purposes(value: Any, vocab: Vocabulary) -> list[str]:
    path = "/context/purposeOfUse"
    if value is None:
        raise _fail(path, "is required (a v3-ActReason code or array of codes)")
    codes = [value] if isinstance(value, str) else value
    if not isinstance(codes, list) or not codes:
        raise _fail(path, "must be a v3-ActReason code or a non-empty array of codes")
    purposes: list[str] = []
    for index, code in enumerate(codes):
        where = path if isinstance(value, str) else f"{path}/{index}"
        if not isinstance(code, str):
            raise _fail(where, "must be a string")
        purpose = vocab.purpose_of_use.get(code)
        if purpose is None:
            raise _fail(where, f"v3-ActReason code {code!r} has no hipaa-gate purpose")
        if purpose not in purposes:
            purposes.append(purpose)
    return purposes


def consent_resources(hook: dict[str, Any]) -> list[tuple[Any, str]]:
    """``(resource, JSON Pointer)`` for each Consent in the call (context.consent, prefetch)."""
    found: list[tuple[Any, str]] = []
    context = hook.get("context") or {}
    listed = context.get("consent")
    if listed is not None:
        if not isinstance(listed, list):
            raise _fail("/context/consent", "must be an array of FHIR Consent resources")
        found += [(r, f"/context/consent/{i}") for i, r in enumerate(listed)]
    prefetch = hook.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        raise _fail("/prefetch", "must be an object")
    bundle = (prefetch or {}).get("consents")
    if bundle is not None:
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise _fail("/prefetch/consents", "must be a FHIR Bundle of Consent resources")
        entries = bundle.get("entry") or []
        if not isinstance(entries, list):
            raise _fail("/prefetch/consents/entry", "must be an array")
        for i, entry in enumerate(entries):
            where = f"/prefetch/consents/entry/{i}/resource"
            if not isinstance(entry, dict) or "resource" not in entry:
                raise _fail(where, "is required")
            found.append((entry["resource"], where))
    return found


def _patient_matches(consent: fhir.Consent, ids: list[dict[str, str]]) -> bool:
    for system, value in consent.patient:
        for known in ids:
            if value == known["value"] and (system is None or system == known.get("system")):
                return True
    return False


def _applies(consent: fhir.Consent, ids: list[dict[str, str]], today: str) -> str | None:
    """Why the consent does not apply now to this patient, or None when it does."""
    if not _patient_matches(consent, ids):
        return "patient_mismatch: the consent's patient is not context.patientId"
    if consent.status != "active":
        return f"status_{consent.status.replace('-', '_')}: the consent is not active"
    if consent.period_start and consent.period_start > today:
        return f"not_yet_in_effect: its period starts on {consent.period_start}"
    if consent.period_end and consent.period_end < today:
        return f"expired: its period ended on {consent.period_end}"
    return None


def _labels(scope: dict[str, Any]) -> list[str]:
    return [code for _, code in fhir._codes(scope.get("securityLabel"))]


def _categories(scope: dict[str, Any], vocab: Vocabulary, *, part2: bool) -> list[str]:
    found = [vocab.sensitivity[c] for c in _labels(scope) if c in vocab.sensitivity]
    if part2 and "substance_use_disorder" not in found:
        found.append("substance_use_disorder")
    out = list(dict.fromkeys(found)) or ["general"]
    return out


def _consent_purposes(scope: dict[str, Any], vocab: Vocabulary) -> list[str]:
    out: list[str] = []
    for index, (_, code) in enumerate(fhir._codes(scope.get("purpose"))):
        purpose = vocab.purpose_of_use.get(code)
        if purpose is None:
            raise _fail(
                f"{scope.get('purpose@', '')}/{index}/code",
                f"v3-ActReason code {code!r} has no hipaa-gate purpose",
            )
        if purpose not in out:
            out.append(purpose)
    return out


def _recipients(scope: dict[str, Any], vocab: Vocabulary) -> tuple[list[str], bool]:
    """Recipient ids (identifier system → id prefix) of the IRCP/PRCP actors; whether any."""
    ids: list[str] = []
    named = False
    for actor in scope.get("actor") or []:
        if not isinstance(actor, dict):
            continue
        roles = {code for _, code in fhir._concept_codes([actor.get("role") or {}])}
        if not roles & vocab.recipient_roles:
            continue
        reference = actor.get("reference") or {}
        ident = reference.get("identifier") if isinstance(reference, dict) else None
        named = named or bool(reference)
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            prefix = vocab.identifier_prefixes.get(ident.get("system") or "", "")
            ids.append(prefix + ident["value"])
    return list(dict.fromkeys(ids)), named


def _kind(consent: fhir.Consent, vocab: Vocabulary) -> str:
    meanings = {vocab.policies[c] for c in consent.policies if c in vocab.policies}
    permit_labels = {code for node in consent.permits for code in _labels(node["scope"])}
    if consent.root == "deny" and meanings & {"paid_in_full", "agreed"}:
        return "restriction"
    if "part2" in meanings or permit_labels & vocab.part2_labels:
        return "part2"
    if permit_labels & vocab.psychotherapy_labels:
        return "psychotherapy_notes_authorization"
    if consent.root == "deny" and not [n for n in consent.permits if not n["top"]]:
        return "opt_out"
    return "hipaa_authorization"


def _authorizations(consent: fhir.Consent, kind: str, vocab: Vocabulary, today: str):
    auths = []
    facts_categories: list[str] = []
    all_recipients = all_purposes = True
    information = False
    denied_labels = {code for node in consent.denies for code in _labels(node["scope"])}
    for node in consent.permits:
        scope = node["scope"]
        labels = [c for c in _labels(scope) if c not in denied_labels]
        scoped = {**scope, "securityLabel": [{"code": c} for c in labels]}
        categories = _categories(scoped, vocab, part2=kind == "part2")
        purposes = _consent_purposes(scope, vocab)
        recipients, named = _recipients(scope, vocab)
        all_recipients = all_recipients and named
        all_purposes = all_purposes and bool(purposes)
        information = information or any(
            scope.get(k) for k in ("securityLabel", "class", "code", "data")
        )
        if kind == "part2":
            kind_type = (
                "part2_tpo_consent" if purposes and set(purposes) <= fhir.TPO else ("part2_consent")
            )
        elif kind == "psychotherapy_notes_authorization":
            kind_type = kind
        else:
            kind_type = "hipaa_authorization"
        end = ((scope.get("period") or {}).get("end") or "")[:10] or consent.period_end
        auths.append(
            {
                "id": consent.ref,
                "type": kind_type,
                "signed": consent.signed,
                "signed_on": consent.signed_on,
                "expires_on": end,
                "revoked": consent.status == "inactive",
                "recipients": recipients,
                "purposes": purposes,
                "categories": categories,
            }
        )
        facts_categories += categories
    if kind in ("opt_out", "restriction"):
        auths = []
    tpo_only = bool(auths) and all(a["type"] == "part2_tpo_consent" for a in auths)
    elements = {
        "patient": consent.patient_named,
        "information": information,
        "recipient": bool(consent.permits) and all_recipients,
        "purpose": bool(consent.permits) and all_purposes,
        "statements": consent.has_form,
        "expiration": bool(consent.period_end or any(a["expires_on"] for a in auths)) or tpo_only,
        "signature": consent.signed,
        "date": consent.signed_on is not None,
        "discloser": consent.has_discloser,
    }
    facts = {
        "ref": consent.ref,
        "kind": kind,
        "elements": elements,
        "categories": sorted(set(facts_categories)),
    }
    return auths, facts


def _restrictions(consent, kind, vocab, all_types, all_purposes_list, honored) -> list[dict]:
    meanings = {vocab.policies[c] for c in consent.policies if c in vocab.policies}
    reason = "paid_in_full" if "paid_in_full" in meanings else "agreed"
    if kind == "opt_out" and not honored:
        return []
    if kind not in ("restriction", "opt_out"):
        return []
    nodes = consent.denies or []
    out = []
    for node in nodes or [{"scope": {}}]:
        scope = node["scope"]
        labels = [vocab.sensitivity[c] for c in _labels(scope) if c in vocab.sensitivity]
        purposes = _consent_purposes(scope, vocab)
        if reason == "paid_in_full":
            types, purposes = ["health_plan"], purposes or ["payment", "health_care_operations"]
        else:
            types, purposes = list(all_types), purposes or list(all_purposes_list)
        out.append(
            {
                "recipient_types": types,
                "purposes": purposes,
                "categories": list(dict.fromkeys(labels)) or ["*"],
                "reason": reason,
            }
        )
    return out


def translate(
    hook: Any,
    *,
    vocab: Vocabulary,
    today: str,
    options: dict[str, Any],
    enums: dict[str, list[str]],
) -> Translation:
    """Translate one hook request; raise ``RequestValidationError`` naming the field."""
    if not isinstance(hook, dict):
        raise _fail("", "must be a CDS Hooks request object")
    if hook.get("hook") != HOOK:
        raise _fail("/hook", f"must be {HOOK!r}")
    instance = hook.get("hookInstance")
    if not isinstance(instance, str) or not instance or len(instance) > 128:
        raise _fail("/hookInstance", "is required (a string of at most 128 characters)")
    context = hook.get("context")
    if not isinstance(context, dict):
        raise _fail("/context", "is required (an object)")
    patient_ids = _identifiers(context.get("patientId"), "/context/patientId", required=True)
    _identifiers(context.get("actor"), "/context/actor", required=False)
    purposes = _purposes(context.get("purposeOfUse"), vocab)
    extension = hook.get("extension")
    if not isinstance(extension, dict) or not isinstance(extension.get(EXTENSION), dict):
        raise _fail(EXT_PATH, "is required: the facts the law needs (a decide request without "
                    "patient.id and purpose)")  # fmt: skip
    # Only the top level, patient and recipient are changed below, each on a copy of its own:
    # the rest is shared with the hook request, which is only read (a deep copy cost a third of
    # the translation).
    base = dict(extension[EXTENSION])
    if "purpose" in base:
        raise _fail(EXT_PATH + "/purpose", "is given by context.purposeOfUse")
    patient = base.get("patient")
    if isinstance(patient, dict) and "id" in patient:
        raise _fail(EXT_PATH + "/patient/id", "is given by context.patientId")
    honored = options.get("honor_consent_opt_out") is True

    authorizations: list[dict[str, Any]] = []
    restrictions: list[dict[str, Any]] = []
    facts: list[dict[str, Any]] = []
    ignored: list[dict[str, str]] = []
    refs: list[str] = []
    sources: dict[str, str] = {}
    auth_refs: set[str] = set()
    own = base.get("authorizations")
    own_count = len(own) if isinstance(own, list) else 0
    for resource, path in consent_resources(hook):
        try:
            consent = fhir.parse(resource, path, vocab)
        except fhir.ConsentProblem as exc:
            raise RequestValidationError(
                "A FHIR Consent in the request cannot be used.", details=exc.details
            ) from None
        why = _applies(consent, patient_ids, today)
        if why is not None:
            code, _, message = why.partition(": ")
            ignored.append({"consent": consent.ref, "reason": code, "message": message})
            if not code.startswith(("expired", "status_inactive")):
                continue  # only a revoked or expired consent is shown to the policy (it says so)
        kind = _kind(consent, vocab)
        auths, fact = _authorizations(consent, kind, vocab, today)
        fact["opt_out_honored"] = honored
        if why is None:
            facts.append(fact)
        for auth in auths:
            auth_refs.add(consent.ref)
            sources[f"/authorizations/{own_count + len(authorizations)}"] = path
            authorizations.append(auth)
        if why is None:
            for restriction in _restrictions(
                consent, kind, vocab, enums["recipient_type"], enums["purpose"], honored
            ):
                restrictions.append(restriction)
            if auths or kind in ("restriction",) or (kind == "opt_out" and honored):
                refs.append(consent.ref)

    body = base
    body["patient"] = dict(patient) if isinstance(patient, dict) else patient
    if patient is None:
        body["patient"] = {}  # its required facts are then named by the validation
    if isinstance(body.get("patient"), dict):
        body["patient"]["id"] = patient_ids[0]["value"]
        if restrictions:
            present = body["patient"].get("restrictions")
            body["patient"]["restrictions"] = (present if isinstance(present, list) else []) + (
                restrictions
            )
    if authorizations:
        body["authorizations"] = (own if isinstance(own, list) else []) + authorizations
    recipient = body.get("recipient")
    actors = context.get("actor") or []
    if isinstance(recipient, dict) and "id" not in recipient and actors:
        recipient = body["recipient"] = dict(recipient)
        system = actors[0].get("system") or ""
        recipient["id"] = vocab.identifier_prefixes.get(system, "") + actors[0]["value"]
        sources["/recipient/id"] = "/context/actor/0/value"
    if "request_id" not in body:
        body["request_id"] = instance
    requests = [{**body, "purpose": p} for p in purposes]
    return Translation(
        requests=requests,
        consent_facts=facts,
        consents_ignored=ignored,
        consent_refs=list(dict.fromkeys(refs)),
        hook_instance=instance,
        auth_refs=auth_refs,
        sources=sources,
    )


def hook_path(path: str, sources: dict[str, str]) -> str:
    """The JSON Pointer in the hook request of a decide-request field ``path``."""
    for origin, where in {**_FIELD_SOURCES, **sources}.items():
        if path == origin or path.startswith(origin + "/"):
            return where if path == origin else where + path[len(origin) :]
    return EXT_PATH + path


def rebase_errors(exc: RequestValidationError, sources: dict[str, str]) -> RequestValidationError:
    details = [
        {"path": hook_path(d["path"], sources), "message": d["message"]} for d in exc.details
    ]
    return RequestValidationError(exc.message, details=details)


__all__ = ["EXTENSION", "HOOK", "Translation", "pointer", "rebase_errors", "translate"]
