"""Bearer-token check for ``/v1/*`` when ``HIPAA_GATE_API_TOKENS`` is set."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence


def token_allowed(authorization: str | None, digests: Sequence[bytes]) -> bool:
    """True when the ``Authorization: Bearer <token>`` header names a configured token.

    Tokens are compared as SHA-256 digests with ``hmac.compare_digest``, against every configured
    digest (no early exit), so timing does not reveal which token or how much of it matched.
    """
    if not authorization:
        return False
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return False
    presented = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
    allowed = False
    for digest in digests:
        allowed |= hmac.compare_digest(presented, digest)
    return allowed
