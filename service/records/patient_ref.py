"""The keyed pseudonym that stands for a patient id in every log line."""

from __future__ import annotations

import hashlib
import hmac
import re

#: Used only with HIPAA_GATE_DEV_MODE=1. Anything logged under it is linkable by anyone.
DEVELOPMENT_KEY = "hipaa-gate-DEVELOPMENT-ONLY-patient-ref-key-do-not-use-in-production"


def patient_ref(key: str | bytes, patient_id: str) -> str:
    """Hex HMAC-SHA256 of the normalized ``patient_id`` under ``key``.

    Identifiers are case-insensitive (docs/api.md): the id is case-folded first, so ``P-1`` and
    ``p-1`` are one patient with one pseudonym (one accounting).
    """
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not key:
        raise ValueError("patient_ref key must not be empty")
    return hmac.new(key, patient_id.lower().encode("utf-8"), hashlib.sha256).hexdigest()


def replace_patient_id(text: str, patient_id: str, ref: str) -> str:
    """``text`` with every occurrence of ``patient_id`` (any case) replaced by ``ref``.

    Ids that embed the patient id (``portal:<id>``, a request id made from it) identify the
    patient as much as the id itself.
    """
    if not patient_id or patient_id.lower() not in text.lower():
        return text
    return re.sub(re.escape(patient_id), lambda _m: ref, text, flags=re.IGNORECASE)
