"""The configuration: ``HIPAA_GATE_``-prefixed environment variables (docs/api.md lists them),
read here and nowhere else, into one frozen ``Config``.

``load()`` builds it from defaults < environment < overrides, typed and checked (a bad value is
refused naming its variable). The patient-ref key is required only where it is used: the server
(``resolve()``, ``create_app``) and the commands that pseudonymise (``require_patient_ref_key``);
other commands run without it. ``CLOCK`` is set in code only, never from the environment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from service.records.patient_ref import DEVELOPMENT_KEY

PREFIX = "HIPAA_GATE_"

#: The checkout this package runs from (``service.paths.REPO_DIR``): the default policy and
#: build directories.
CHECKOUT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """The configuration is unusable; the service refuses to start."""


def system_clock() -> dt.datetime:
    """The decision time in production: now, in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True)
class Config:
    """Every setting, typed; ``cfg.max_body_bytes`` is ``HIPAA_GATE_MAX_BODY_BYTES``.

    ``cfg["MAX_BODY_BYTES"]`` and ``cfg.get(...)`` read a setting by its variable's name.
    """

    bind: str = "127.0.0.1:8000"
    opa_url: str = "http://127.0.0.1:8181"
    opa_connect_timeout: float = 0.25
    opa_read_timeout: float = 0.5
    opa_ca_bundle: str | None = None
    opa_token: str | None = None
    #: The loopback address of the OPA that ``hipaa-gate serve`` starts.
    opa_addr: str = "127.0.0.1:8181"
    opa_bin: str | None = None
    decision_log: str = "./decision-log.jsonl"
    log_fsync: str = "always"
    #: The configured key, the development key (DEV_MODE without a key), or None.
    patient_ref_key: str | None = None
    patient_ref_key_is_development: bool = False
    dev_mode: bool = False
    #: SHA-256 digests of the tokens (``@/path`` one per line, or separated by commas or lines).
    api_tokens: tuple[bytes, ...] = ()
    max_body_bytes: int = 64 * 1024
    workers: int = 2
    threads: int = 4
    policy_dir: Path = CHECKOUT / "policies"
    #: The bundle revision the shim expects of OPA (serve sets it for gunicorn).
    policy_revision: str | None = None
    build_dir: Path = CHECKOUT / ".build"
    # The decision explorer page (/explorer): unset, on exactly in development mode.
    explorer: bool = False
    # Private directory (0700) for files the workers share; default $XDG_RUNTIME_DIR/hipaa-gate
    # or <tmp>/hipaa-gate-<uid> (service.records.runtime_dir).
    runtime_dir: str | None = None
    # gunicorn's (service/server/gunicorn_settings.py), checked here with everything else so that
    # a bad value stops `hipaa-gate serve` before anything starts, naming the variable.
    keepalive: int = 75
    graceful_timeout: int = 10
    # Slow clients (service/server/worker.py): seconds to send a request head (from its first
    # byte) and then its body; connections one worker holds (open, idle or in use).
    head_timeout: int = 10
    body_timeout: int = 10
    worker_connections: int = 100
    # The audit desk (docs/audit.md).
    review_log: str | None = None
    audit_config: str | None = None
    audit_memory_limit: str | None = None
    seal_key: str | None = None
    seal_public_key: str | None = None
    # CDS Hooks client JWTs (service.interop.client_jwt).
    cds_jwks_file: str | None = None
    cds_jwt_issuers: str | None = None
    cds_jwt_audience: str | None = None
    #: The decision time's source (code only).
    clock: Callable[[], dt.datetime] = system_clock
    #: The settings given (by variable name), not defaulted: ``is_set``.
    given: frozenset[str] = frozenset()

    def __getitem__(self, name: str) -> Any:
        if name.lower() not in _NAMES:
            raise KeyError(name)
        return getattr(self, name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def is_set(self, name: str) -> bool:
        """Whether ``HIPAA_GATE_<name>`` (or an override) gave the setting; e.g. with ``OPA_URL``
        set, serve, decide and the OPA commands use that OPA instead of starting their own."""
        return name in self.given

    def require_patient_ref_key(self) -> str:
        """The key, or ConfigError naming the variable (unset outside development mode)."""
        if not self.patient_ref_key:
            raise ConfigError(
                f"{PREFIX}PATIENT_REF_KEY is not set: refusing to start "
                f"(set {PREFIX}DEV_MODE=1 to use the development key)"
            )
        return self.patient_ref_key


_NAMES = {f.name for f in dataclasses.fields(Config)}
#: Settings that are not variables: derived, or set in code.
_NOT_VARIABLES = {"patient_ref_key_is_development", "clock", "given"}
_DERIVED = {name.upper() for name in _NOT_VARIABLES}
#: The defaults by variable name (without the prefix).
DEFAULTS: dict[str, Any] = {
    f.name.upper(): f.default for f in dataclasses.fields(Config) if f.name not in _NOT_VARIABLES
}
DEFAULTS["EXPLORER"] = None  # unset: on exactly in development mode

_FLOATS = {"opa_connect_timeout", "opa_read_timeout"}
_INTS = {
    "max_body_bytes",
    "workers",
    "threads",
    "head_timeout",
    "body_timeout",
    "worker_connections",
}
#: Seconds, where 0 is meaningful (no keep-alive; stop at once).
_SECONDS = {"keepalive", "graceful_timeout"}
_PATHS = {"policy_dir", "build_dir"}


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{PREFIX}{name.upper()} must be a boolean (1/0, true/false), got {value!r}")


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
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


def _number(name: str, value: Any, kind: type, unit: str) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{PREFIX}{name.upper()} must be {unit}") from None


def _build(given: Mapping[str, Any], clock: Any) -> Config:
    """The settings ``given`` (by variable name) over the defaults, typed and checked."""
    cfg: dict[str, Any] = {name.lower(): value for name, value in {**DEFAULTS, **given}.items()}
    for name in _FLOATS:
        cfg[name] = _number(name, cfg[name], float, "a number of seconds")
        if not 0 < cfg[name] <= 60:
            raise ConfigError(f"{PREFIX}{name.upper()} must be between 0 and 60 seconds")
    for name in _INTS:
        cfg[name] = _number(name, cfg[name], int, "an integer")
        if cfg[name] < 1:
            raise ConfigError(f"{PREFIX}{name.upper()} must be at least 1")
    for name in _SECONDS:
        cfg[name] = _number(name, cfg[name], int, "a whole number of seconds")
        if not 0 <= cfg[name] <= 3600:
            raise ConfigError(f"{PREFIX}{name.upper()} must be between 0 and 3600 seconds")
    cfg["dev_mode"] = _as_bool("dev_mode", cfg["dev_mode"])
    explorer = given.get("EXPLORER")
    cfg["explorer"] = cfg["dev_mode"] if explorer is None else _as_bool("explorer", explorer)
    fsync = str(cfg["log_fsync"]).strip().lower()
    if fsync not in {"always", "never"}:
        raise ConfigError(f"{PREFIX}LOG_FSYNC must be 'always' or 'never'")
    cfg["log_fsync"] = fsync
    cfg["given"] = frozenset(name for name, value in given.items() if value not in (None, ""))
    cfg["opa_url"] = str(cfg["opa_url"] or DEFAULTS["OPA_URL"]).rstrip("/")
    if not cfg["opa_url"].startswith(("http://", "https://")):
        raise ConfigError(f"{PREFIX}OPA_URL must be an http:// or https:// URL")
    for name in _PATHS:
        cfg[name] = Path(cfg[name]).resolve() if cfg[name] else DEFAULTS[name.upper()]
    key = cfg["patient_ref_key"]
    cfg["patient_ref_key_is_development"] = False
    if not key:
        cfg["patient_ref_key"] = None
        if cfg["dev_mode"]:
            cfg["patient_ref_key"] = DEVELOPMENT_KEY
            cfg["patient_ref_key_is_development"] = True
    elif len(str(key)) < 16:
        raise ConfigError(f"{PREFIX}PATIENT_REF_KEY must be at least 16 characters long")
    tokens = cfg["api_tokens"]
    if not (isinstance(tokens, tuple) and all(isinstance(t, bytes) for t in tokens)):
        cfg["api_tokens"] = load_api_tokens(tokens)
    cfg["clock"] = _clock(clock)
    return Config(**cfg)


def _clock(clock: Any) -> Callable[[], dt.datetime]:
    """``CLOCK``: the decision time's source. Tests give ``create_app`` a fixed one in code; it is
    never read from the environment (a ``HIPAA_GATE_CLOCK`` variable is ignored) nor a request."""
    clock = clock or system_clock
    if not callable(clock):
        raise ConfigError("CLOCK must be a callable returning an aware datetime (set in code only)")
    return clock


@functools.lru_cache(maxsize=8)
def _from_environment(items: frozenset[tuple[str, str]]) -> Config:
    return _build(_known(dict(items)), None)


def _known(values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings among ``values``: unknown ``HIPAA_GATE_*`` variables are ignored."""
    return {k: v for k, v in values.items() if k.lower() in _NAMES and k not in _DERIVED}


def load(overrides: Mapping[str, Any] | None = None, environ=None) -> Config:
    """Defaults < environment (``environ``, default ``os.environ``) < ``overrides`` (by variable
    name, without the prefix; ``CLOCK`` only here); typed, checked, secrets normalised. The
    environment alone is read once per process (while it does not change). A ``Config`` is
    taken as it is."""
    if isinstance(overrides, Config):
        return overrides
    env = from_env(environ)
    if not overrides:
        return _from_environment(frozenset(env.items()))
    unknown = sorted(k for k in overrides if k.lower() not in _NAMES or k in _DERIVED - {"CLOCK"})
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    given = {**_known(env), **{k: v for k, v in overrides.items() if k != "CLOCK"}}
    return _build(given, overrides.get("CLOCK"))


def resolve(overrides: Mapping[str, Any] | None = None, environ=None) -> Config:
    """The server's configuration: ``load()``, and the patient-ref key is required."""
    cfg = load(overrides, environ)
    cfg.require_patient_ref_key()
    return cfg
