"""CDS Hooks client JWTs (``Authorization: Bearer <JWT>``), verified with PyJWT against a static
JWKS file read once at start-up; keys are never fetched (docs/decisions/0031)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from service.config import PREFIX, ConfigError

#: Asymmetric algorithms only (CDS Hooks: RS384/ES384 recommended); never "none" or HMAC.
ALGORITHMS = ["RS384", "ES384", "RS256", "ES256", "RS512", "ES512", "PS384", "PS256"]
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]


@dataclass(frozen=True)
class JwtVerifier:
    keys: jwt.PyJWKSet
    issuers: frozenset[str]
    audience: str

    def verify(self, header: str | None) -> dict[str, Any] | None:
        """The verified claims, or None (wrong scheme, bad signature, issuer, audience, expiry)."""
        if not header or not header.startswith("Bearer "):
            return None
        token = header[len("Bearer ") :].strip()
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            candidates = [k for k in self.keys.keys if kid is None or k.key_id == kid]
            for key in candidates:
                try:
                    claims = jwt.decode(
                        token,
                        key=key,
                        algorithms=ALGORITHMS,
                        audience=self.audience,
                        issuer=sorted(self.issuers),
                        options={"require": REQUIRED_CLAIMS},
                        leeway=30,
                    )
                except jwt.InvalidSignatureError:
                    continue
                return claims
        except (jwt.PyJWTError, ValueError, TypeError):
            return None
        return None


def load_verifier(cfg: dict[str, Any]) -> JwtVerifier | None:
    """From ``HIPAA_GATE_CDS_JWKS_FILE``, ``_CDS_JWT_ISSUERS`` ``_CDS_JWT_AUDIENCE``."""
    path = cfg.get("CDS_JWKS_FILE")
    if not path:
        return None
    issuers = frozenset(
        i.strip() for i in str(cfg.get("CDS_JWT_ISSUERS") or "").split(",") if i.strip()
    )
    audience = str(cfg.get("CDS_JWT_AUDIENCE") or "").strip()
    if not issuers or not audience:
        raise ConfigError(
            f"{PREFIX}CDS_JWKS_FILE needs {PREFIX}CDS_JWT_ISSUERS and {PREFIX}CDS_JWT_AUDIENCE"
        )
    try:
        keys = jwt.PyJWKSet.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        raise ConfigError(f"{PREFIX}CDS_JWKS_FILE is not a usable JWKS file: {exc}") from None
    return JwtVerifier(keys=keys, issuers=issuers, audience=audience)
