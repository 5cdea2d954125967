"""Where the service's files are: the package, the checkout it runs from, the policies, OPA."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

from service import config

REPO_DIR = config.CHECKOUT
PACKAGE_DIR = REPO_DIR / "service"
SCHEMA_DIR = PACKAGE_DIR / "schemas"


def policy_dir() -> Path:
    """``$HIPAA_GATE_POLICY_DIR``, else ``policies/`` next to this package (the repo checkout)."""
    return config.load().policy_dir


def opa_binary() -> str:
    """``$HIPAA_GATE_OPA_BIN``, else ``opa`` on PATH, else ``$(go env GOPATH)/bin/opa``."""
    configured = config.load().opa_bin
    if configured:
        return configured
    found = shutil.which("opa")
    if found:
        return found
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        gopath = subprocess.run(
            ["go", "env", "GOPATH"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
        candidate = Path(gopath) / "bin" / "opa"
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError("opa binary not found: set HIPAA_GATE_OPA_BIN or put opa on PATH")
