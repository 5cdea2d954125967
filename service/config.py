"""Configuration from ``HIPAA_GATE_``-prefixed environment variables (docs/api.md lists them)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from service.paths import policy_dir
from service.records.patient_ref import DEVELOPMENT_KEY

PREFIX = "HIPAA_GATE_"


class ConfigError(ValueError):
    """The configuration is unusable; the service refuses to start."""


DEFAULTS: dict[str, Any] = {
    "BIND": "127.0.0.1:8000",
    "OPA_URL": "http://127.0.0.1:8181",
    "OPA_CONNECT_TIMEOUT": 0.25,
    "OPA_READ_TIMEOUT": 0.5,
    "OPA_CA_BUNDLE": None,
    "OPA_TOKEN": None,
    "DECISION_LOG": "./decision-log.jsonl",
    "LOG_FSYNC": "always",
    "PATIENT_REF_KEY": None,
    "DEV_MODE": False,
    "API_TOKENS": None,
    "MAX_BODY_BYTES": 64 * 1024,
    "WORKERS": 2,
    "THREADS": 4,
    "POLICY_DIR": None,
    # The decision explorer page (/explorer): unset, on exactly in development mode.
    "EXPLORER": None,
    # Private directory (0700) for files the workers share; default $XDG_RUNTIME_DIR/hipaa-gate
    # or <tmp>/hipaa-gate-<uid> (service.records.runtime_dir).
    "RUNTIME_DIR": None,
    # Read by gunicorn's configuration (service/server/gunicorn_settings.py); checked here so that
    # a bad value stops `hipaa-gate serve` before anything starts, naming the variable.
    "KEEPALIVE": 75,
    "GRACEFUL_TIMEOUT": 10,
    # Slow clients (service/server/worker.py): seconds to send a request head (from its first
    # byte) and then its body; connections one worker holds (open, idle or in use).
    "HEAD_TIMEOUT": 10,
    "BODY_TIMEOUT": 10,
    "WORKER_CONNECTIONS": 100,
}

_FLOATS = {"OPA_CONNECT_TIMEOUT", "OPA_READ_TIMEOUT"}
_INTS = {
    "MAX_BODY_BYTES",
    "WORKERS",
    "THREADS",
    "HEAD_TIMEOUT",
    "BODY_TIMEOUT",
    "WORKER_CONNECTIONS",
}
#: Seconds, where 0 is meaningful (no keep-alive; stop at once).
_SECONDS = {"KEEPALIVE", "GRACEFUL_TIMEOUT"}
_BOOLS = {"DEV_MODE"}


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{PREFIX}{name} must be a boolean (1/0, true/false), got {value!r}")


def system_clock() -> dt.datetime:
    """The decision time in production: now, in UTC."""
    return dt.datetime.now(dt.UTC)


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``HIPAA_GATE_*`` variables that are set, without the prefix."""
    environ = os.environ if environ is None else environ
    return {k[len(PREFIX) :]: v for k, v in environ.items() if k.startswith(PREFIX) and v != ""}


def load_api_tokens(spec: str | None) -> tuple[bytes, ...]:
    """SHA-256 digests of the configured tokens (``@/path`` one per line; otherwise separated by
    commas or line breaks, so a Kubernetes Secret made from such a file works as the variable)."""
    if not spec:
        return ()
    if spec.startswith("@"):
        try:
            lines = Path(spec[1:]).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"{PREFIX}API_TOKENS file unreadable: {exc.strerror}") from None
        tokens = [line.strip() for line in lines]
        tokens = [t for t in tokens if t and not t.startswith("#")]
    else:
        tokens = [t.strip() for t in re.split(r"[,\r\n]", spec) if t.strip()]
    if not tokens:
        raise ConfigError(f"{PREFIX}API_TOKENS is set but holds no token")
    return tuple(hashlib.sha256(t.encode("utf-8")).digest() for t in tokens)


def resolve(overrides: Mapping[str, Any] | None = None, environ=None) -> dict[str, Any]:
    """Defaults < environment < ``overrides``; typed, checked, secrets normalised."""
    cfg: dict[str, Any] = dict(DEFAULTS)
    cfg.update(from_env(environ))
    cfg.update(overrides or {})
    for name in _FLOATS:
        try:
            cfg[name] = float(cfg[name])
        except (TypeError, ValueError):
            raise ConfigError(f"{PREFIX}{name} must be a number of seconds") from None
        if not 0 < cfg[name] <= 60:
            raise ConfigError(f"{PREFIX}{name} must be between 0 and 60 seconds")
    for name in _INTS:
        try:
            cfg[name] = int(cfg[name])
        except (TypeError, ValueError):
            raise ConfigError(f"{PREFIX}{name} must be an integer") from None
        if cfg[name] < 1:
            raise ConfigError(f"{PREFIX}{name} must be at least 1")
    for name in _SECONDS:
        try:
            cfg[name] = int(cfg[name])
        except (TypeError, ValueError):
            raise ConfigError(f"{PREFIX}{name} must be a whole number of seconds") from None
        if not 0 <= cfg[name] <= 3600:
            raise ConfigError(f"{PREFIX}{name} must be between 0 and 3600 seconds")
    for name in _BOOLS:
        cfg[name] = _as_bool(name, cfg[name])
    explorer = cfg["EXPLORER"]
    cfg["EXPLORER"] = cfg["DEV_MODE"] if explorer is None else _as_bool("EXPLORER", explorer)
    fsync = str(cfg["LOG_FSYNC"]).strip().lower()
    if fsync not in {"always", "never"}:
        raise ConfigError(f"{PREFIX}LOG_FSYNC must be 'always' or 'never'")
    cfg["LOG_FSYNC"] = fsync
    cfg["OPA_URL"] = str(cfg["OPA_URL"]).rstrip("/")
    if not cfg["OPA_URL"].startswith(("http://", "https://")):
        raise ConfigError(f"{PREFIX}OPA_URL must be an http:// or https:// URL")
    cfg["POLICY_DIR"] = Path(cfg["POLICY_DIR"]) if cfg["POLICY_DIR"] else policy_dir()
    key = cfg["PATIENT_REF_KEY"]
    cfg["PATIENT_REF_KEY_IS_DEVELOPMENT"] = False
    if not key:
        if not cfg["DEV_MODE"]:
            raise ConfigError(
                f"{PREFIX}PATIENT_REF_KEY is not set: refusing to start "
                f"(set {PREFIX}DEV_MODE=1 to use the development key)"
            )
        cfg["PATIENT_REF_KEY"] = DEVELOPMENT_KEY
        cfg["PATIENT_REF_KEY_IS_DEVELOPMENT"] = True
    elif len(str(key)) < 16:
        raise ConfigError(f"{PREFIX}PATIENT_REF_KEY must be at least 16 characters long")
    cfg["CLOCK"] = _clock(overrides)
    tokens = cfg["API_TOKENS"]
    if not (isinstance(tokens, tuple) and all(isinstance(t, bytes) for t in tokens)):
        cfg["API_TOKENS"] = load_api_tokens(tokens)
    return cfg


def _clock(overrides: Mapping[str, Any] | None) -> Callable[[], dt.datetime]:
    """``CLOCK``: the decision time's source. Tests give ``create_app`` a fixed one in code; it is
    never read from the environment (a ``HIPAA_GATE_CLOCK`` variable is ignored) nor a request."""
    clock = (overrides or {}).get("CLOCK") or system_clock
    if not callable(clock):
        raise ConfigError("CLOCK must be a callable returning an aware datetime (set in code only)")
    return clock
