"""Fixtures that start real OPA + gunicorn stacks and always clean them up.

Every stack a test starts is stopped at teardown, and then every byte its processes printed
(gunicorn stdout/stderr, OPA's log, the decision log file) is scanned for the run's secrets:
the HMAC key, the API tokens and every raw patient id the test sent. A hit fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import harness


@pytest.fixture(scope="session")
def rel_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The policy bundle, built once per session with service.opa.sidecar.build_bundle."""
    return harness.build_bundle(tmp_path_factory.mktemp("rel-bundle"))


@pytest.fixture
def stack_factory(rel_bundle, tmp_path: Path):
    """``make(**kw)`` starts an OPA + gunicorn stack (see harness.start_stack)."""
    stacks: list[harness.Stack] = []

    def make(**kw) -> harness.Stack:
        stack = harness.start_stack(tmp_path / f"stack{len(stacks)}", rel_bundle[0], **kw)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()
    leaks = []
    for stack in stacks:
        leaks += harness.scan_for_secrets(stack.captured_files(), stack.secrets.needles())
    assert not leaks, f"secrets in captured process output: {leaks}"
