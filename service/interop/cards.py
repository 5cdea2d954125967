"""Decisions → one CDS Hooks card (docs/interop.md §4), in LEAP's card extension shape."""

from __future__ import annotations

from typing import Any

from service.interop.vocabulary import Vocabulary

#: Requirements that only a patient's consent or authorization can meet.
CONSENT_REQUIREMENTS = frozenset(
    {
        "OBTAIN_PATIENT_AUTHORIZATION",
        "OBTAIN_PART2_CONSENT",
        "OBTAIN_PSYCHOTHERAPY_NOTES_AUTHORIZATION",
        "OBTAIN_STATE_CONSENT",
    }
)
REDISCLOSURE_OBLIGATIONS = frozenset({"PART2_REDISCLOSURE_NOTICE", "STATE_REDISCLOSURE_NOTICE"})
ELEMENT_SYSTEM = "urn:hipaa-gate:data-element"
_SEVERITY = {"CONSENT_PERMIT": 0, "NO_CONSENT": 1, "CONSENT_DENY": 2}
_INDICATOR = {"CONSENT_PERMIT": "info", "NO_CONSENT": "warning", "CONSENT_DENY": "critical"}


def verdict(decision: dict[str, Any]) -> str:
    if decision["allow"]:
        return "CONSENT_PERMIT"
    codes = {r.get("code") for r in decision["requirements"] if isinstance(r, dict)}
    if codes and codes <= CONSENT_REQUIREMENTS:
        return "NO_CONSENT"
    return "CONSENT_DENY"


def governing(decisions: list[dict[str, Any]]) -> dict[str, Any]:
    """Deny overrides: the first decision with the most severe verdict."""
    return max(decisions, key=lambda d: _SEVERITY[verdict(d)])


def _cited(items: list[dict[str, Any]], text_key: str) -> list[str]:
    out = []
    for item in items:
        text = item.get(text_key) or item.get("message") or ""
        citation = f" ({item['citation']})" if item.get("citation") else ""
        out.append(f"{item.get('code')}{citation}: {text}".rstrip(": "))
    return out


def detail(decisions: list[dict[str, Any]]) -> str:
    """One readable paragraph per purpose: the basis or the reasons, with their citations."""
    parts = []
    for decision in decisions:
        purpose = decision.get("_purpose", "")
        if decision["allow"]:
            parts.append(
                f"Allowed for {purpose}: " + " ".join(_cited(decision["basis"], "summary"))
            )
        else:
            text = f"Denied for {purpose}: " + " ".join(_cited(decision["reasons"], "message"))
            needs = [f"{r.get('code')}: {r.get('message', '')}" for r in decision["requirements"]]
            if needs:
                text += " To proceed: " + " ".join(needs)
            parts.append(text)
    return "\n\n".join(parts)


def _categories(decisions: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for decision in decisions:
        for category in decision.get("_categories", []):
            seen[category] = None
    return list(seen)


def obligations(
    decisions: list[dict[str, Any]],
    vocab: Vocabulary,
    notices: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """LEAP obligations of an allow: REDACT what was not requested or is withheld; NORDSCLCD.
    ``notices``: the decisions' ``_notices`` when the caller has them already."""
    if not all(d["allow"] for d in decisions):
        return []
    requested = set(_categories(decisions))
    requested_labels = {vocab.category_labels.get(c) for c in requested}
    codes = []
    for category, label in vocab.category_labels.items():
        if category not in requested and label not in requested_labels:
            codes.append({"system": vocab.act_code, "code": label})
    codes = list({c["code"]: c for c in codes}.values())
    withheld: dict[str, None] = {}
    for decision in decisions:
        minimum = decision.get("minimum_necessary") or {}
        for element in minimum.get("withheld_elements") or []:
            withheld[element] = None
    codes += [{"system": ELEMENT_SYSTEM, "code": e} for e in withheld]
    out: list[dict[str, Any]] = []
    if codes:
        out.append(
            {"id": {"system": vocab.act_code, "code": "REDACT"}, "parameters": {"codes": codes}}
        )
    if notices is None:
        notices = _notices(decisions)
    if notices:
        out.append(
            {
                "id": {"system": vocab.act_code, "code": "NORDSCLCD"},
                "parameters": {"notices": notices},
            }
        )
    return out


def _notices(decisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for decision in decisions:
        for item in decision["obligations"]:
            if isinstance(item, dict) and item.get("code") in REDISCLOSURE_OBLIGATIONS:
                notice = {
                    "code": item["code"],
                    "text": item.get("text"),
                    "citation": item.get("citation"),
                }
                if item.get("state"):
                    notice["state"] = item["state"]
                seen[(item["code"], str(item.get("text")))] = notice
    return list(seen.values())


def security_labels(
    decisions: list[dict[str, Any]],
    vocab: Vocabulary,
    notices: list[dict[str, Any]] | None = None,
) -> list[dict[str, str]]:
    """``meta.security`` for the outgoing data of an allow (empty for a deny)."""
    if not all(d["allow"] for d in decisions):
        return []
    categories = _categories(decisions)
    sensitive = [c for c in categories if c in vocab.category_labels]
    labels = [
        {
            "system": vocab.confidentiality,
            "code": vocab.raw["confidentiality"]["restricted" if sensitive else "normal"],
        }
    ]
    if any(d.get("_part2") for d in decisions):
        labels.append({"system": vocab.act_code, "code": vocab.raw["part2_policy_label"]})
    labels += [{"system": vocab.act_code, "code": vocab.category_labels[c]} for c in sensitive]
    if notices is None:
        notices = _notices(decisions)
    if notices:
        labels.append({"system": vocab.act_code, "code": "NORDSCLCD"})
    return list({lab["code"]: lab for lab in labels}.values())


def public(decision: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in decision.items() if not k.startswith("_")}


def card(
    decisions: list[dict[str, Any]],
    *,
    vocab: Vocabulary,
    based_on: list[str],
    findings: list[dict[str, Any]],
    ignored: list[dict[str, str]],
) -> dict[str, Any]:
    main = governing(decisions)
    summary = verdict(main)
    notices = _notices(decisions)
    extension: dict[str, Any] = {
        "decision": summary,
        "basedOn": based_on,
        "obligations": obligations(decisions, vocab, notices),
        "org.hipaa-gate.decision": public(main),
        "org.hipaa-gate.security-labels": security_labels(decisions, vocab, notices),
        "org.hipaa-gate.consent-findings": findings,
        "org.hipaa-gate.consents-ignored": ignored,
    }
    if len(decisions) > 1:
        extension["org.hipaa-gate.decisions"] = [public(d) for d in decisions]
    return {
        "uuid": main["decision_id"],
        "summary": summary,
        "indicator": _INDICATOR[summary],
        "detail": detail(decisions),
        "source": {"label": "hipaa-gate", "topic": {"code": "patient-consent-consult"}},
        "extension": extension,
    }
