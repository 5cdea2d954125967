"""Shared fixtures: one real OPA for the session, apps wired to it, a tmp decision log."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.opa.sidecar import OpaSidecar, build_bundle, free_port
from service.paths import policy_dir

# Tests configure the app explicitly; stray HIPAA_GATE_* settings from the shell must not leak in.
for _name in list(os.environ):
    if _name.startswith("HIPAA_GATE_") and _name not in {"HIPAA_GATE_OPA_BIN"}:
        del os.environ[_name]

SAMPLE_PATIENT_ID = "p-test-0001"
#: The decision time of every app the fixtures build (no test depends on the wall clock): the
#: scenario fixtures and the shipped example registry and agreements are in force at this time.
TEST_NOW = "2026-11-28T12:00:00Z"


def fixed_clock(when: str = TEST_NOW) -> Callable[[], dt.datetime]:
    """A ``CLOCK`` for ``create_app`` that always answers ``when`` (RFC 3339)."""
    moment = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    return lambda: moment


def request_body(**changes: Any) -> dict[str, Any]:
    """A valid request (docs/api.md example, synthetic ids); ``changes`` replace top-level keys."""
    body: dict[str, Any] = {
        "request_id": "gw-test-0001",
        "requester": {
            "user_id": "u-102",
            "roles": ["physician"],
            "mfa": True,
            "organization_id": "org-test",
            "state": "CA",
        },
        "patient": {"id": SAMPLE_PATIENT_ID, "state": "CA", "age": 54},
        "recipient": {
            "type": "provider",
            "id": "npi-0000000001",
            "name": "Test Cardiology",
            "identity_verified": True,
            "state": "CA",
        },
        "purpose": "treatment",
        "data": {"categories": ["general"], "elements": ["problem_list", "medications"]},
    }
    body.update(changes)
    return body


class RunningOpa:
    def __init__(self, sidecar: OpaSidecar, log_path: Path) -> None:
        self.sidecar = sidecar
        self.url = sidecar.url
        self.revision = sidecar.revision
        self.log_path = log_path
        self.bundle_path = sidecar.bundle_path


@pytest.fixture(scope="session")
def opa_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return build_bundle(policy_dir(), tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="session")
def opa_server(
    opa_bundle: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningOpa]:
    """The real OPA (hardened flags) on a free loopback port, once per session."""
    bundle, revision = opa_bundle
    log_path = tmp_path_factory.mktemp("opa") / "opa.log"
    sidecar = OpaSidecar(bundle, f"127.0.0.1:{free_port()}", revision=revision, log=log_path)
    sidecar.start()
    try:
        sidecar.wait_ready(timeout=30)
        yield RunningOpa(sidecar, log_path)
    finally:
        sidecar.stop()


@pytest.fixture
def decision_log_path(tmp_path: Path) -> Path:
    return tmp_path / "decision-log.jsonl"


@pytest.fixture
def app_factory(opa_server: RunningOpa, decision_log_path: Path) -> Callable[..., Any]:
    """``app_factory(**overrides)``: an app wired to ``opa_server`` with the development key,
    deciding at ``TEST_NOW`` (``CLOCK=fixed_clock(...)`` sets another time)."""
    from service.app import create_app

    apps = []

    def make(**overrides: Any):
        config = {
            "OPA_URL": opa_server.url,
            "DECISION_LOG": str(decision_log_path),
            "DEV_MODE": True,
            "POLICY_REVISION": opa_server.revision,
            "CLOCK": fixed_clock(),
        }
        config.update(overrides)
        app = create_app(config)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield make
    for app in apps:
        state = app.extensions["hipaa_gate"]
        state.log_sink.close()
        state.log_sink.failure_marker.unlink(missing_ok=True)
        state.opa.close()


@pytest.fixture
def app(app_factory: Callable[..., Any]):
    return app_factory()


@pytest.fixture
def client(app):
    return app.test_client()


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every record of a decision log file (each line must be one JSON object)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
