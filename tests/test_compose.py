"""docker-compose.yml keeps the sidecar pattern's promises (no Docker engine here: the file is
checked against the code it deploys, as tests/test_kubernetes_manifests.py does for Kubernetes).
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import pytest
import yaml

from service.opa.sidecar import OPA_RUNTIME_ENV, OpaSidecar

REPO = Path(__file__).resolve().parent.parent
COMPOSE_TEXT = (REPO / "docker-compose.yml").read_text()
SERVICES = yaml.safe_load(COMPOSE_TEXT)["services"]


@pytest.fixture
def opa() -> dict:
    return SERVICES["opa"]


@pytest.fixture
def shim() -> dict:
    return SERVICES["shim"]


def _flag(args: list[str], name: str) -> str:
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    assert len(values) == 1, f"--{name} given {len(values)} times"
    return values[0]


def _seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, f"unexpected duration {duration!r}"
    return int(match.group(1))


def test_opa_runs_with_the_sidecar_launchers_hardened_flags(opa):
    launcher = OpaSidecar("/bundle/bundle.tar.gz", opa_bin="opa").command()
    args = opa["command"]
    for flag in launcher[1:]:
        if flag != "/bundle/bundle.tar.gz":
            assert flag in args, f"missing hardened flag {flag}"
    assert args[args.index("--bundle") + 1] == "/bundle/bundle.tar.gz"
    assert "--authentication=token" in args  # HIPAA_GATE_OPA_TOKEN, when set, is required
    assert not any(a.startswith("--set") or a.startswith("--config-file") for a in args)
    assert opa["image"].startswith("openpolicyagent/opa:1.22.3")  # the pinned OPA (Makefile)
    assert opa["read_only"] is True
    env = {k: v for k, v in opa["environment"].items() if k != "HIPAA_GATE_OPA_TOKEN"}
    assert env == OPA_RUNTIME_ENV


def test_opa_is_reachable_only_from_the_shim(opa, shim):
    addr = _flag(opa["command"], "addr")
    assert ipaddress.ip_address(addr.rsplit(":", 1)[0]).is_loopback
    # The shim shares OPA's network namespace, like two containers of a pod ...
    assert shim["network_mode"] == "service:opa"
    assert "network_mode" not in opa
    assert shim["environment"]["HIPAA_GATE_OPA_URL"] == f"http://{addr}"
    # ... and only the shim's port is published, on the host's loopback.
    published = opa.get("ports", []) + shim.get("ports", [])
    assert published == ["127.0.0.1:8000:8000"]
    assert shim["environment"]["HIPAA_GATE_BIND"].endswith(":8000")


def test_the_token_reaches_both_or_neither(opa, shim):
    assert opa["environment"]["HIPAA_GATE_OPA_TOKEN"] == "${HIPAA_GATE_OPA_TOKEN:-}"
    assert shim["environment"]["HIPAA_GATE_OPA_TOKEN"] == "${HIPAA_GATE_OPA_TOKEN:-}"


def test_opa_outlives_the_shims_drain(opa, shim):
    shim_drain = int(shim["environment"]["HIPAA_GATE_GRACEFUL_TIMEOUT"])
    opa_wait = int(_flag(opa["command"], "shutdown-wait-period"))
    opa_grace = int(_flag(opa["command"], "shutdown-grace-period"))
    assert opa_wait > shim_drain
    assert _seconds(opa["stop_grace_period"]) >= opa_wait + opa_grace
    assert _seconds(shim["stop_grace_period"]) > shim_drain
    # compose starts OPA first and stops the shim first.
    assert shim["depends_on"] == ["opa"]


def test_the_bundle_is_built_with_the_content_hash_revision():
    assert "git rev-parse" not in COMPOSE_TEXT
    assert "make bundle" in COMPOSE_TEXT
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^bundle:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "Makefile has no bundle target"
    assert "build_bundle(" in recipe.group(1)  # service.opa.sidecar: revision = content hash
    assert ".build/bundle.revision" in recipe.group(1)


def _dockerfile_env() -> dict[str, str]:
    """The ENV values the Dockerfile sets (``KEY=value`` pairs, line continuations joined)."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in re.findall(r"^ENV\s+(.*)$", text, re.MULTILINE):
        env.update(pair.split("=", 1) for pair in line.split())
    return env


def test_the_shim_is_the_image_with_its_own_command_user_and_paths(shim):
    # `make image-test` builds this Dockerfile and runs its CMD as its USER: compose must use
    # that image unchanged (no command, entrypoint or user of its own) ...
    assert shim["build"] == "."
    assert not {"command", "entrypoint", "user", "image"} & set(shim)
    dockerfile = (REPO / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD\s+(\[.*\])\s*$", dockerfile, re.MULTILINE).group(1))
    assert cmd == ["gunicorn", "--config", "/app/gunicorn.conf.py"]
    assert re.search(r"^WORKDIR /app$", dockerfile, re.MULTILINE)
    assert re.search(r"^COPY [^\n]*gunicorn\.conf\.py \./$", dockerfile, re.MULTILINE)
    assert re.search(r"^USER hipaa:hipaa$", dockerfile, re.MULTILINE)
    # ... and keep the decision log where the image writes it, on the volume.
    image_env = _dockerfile_env()
    log = shim["environment"]["HIPAA_GATE_DECISION_LOG"]
    assert log == image_env["HIPAA_GATE_DECISION_LOG"]
    log_dir = str(Path(log).parent)
    assert f"decision-logs:{log_dir}" in shim["volumes"]
    assert re.search(rf"mkdir -p [^\n]*{re.escape(log_dir)}\b", dockerfile)
    assert re.search(rf"chown hipaa:hipaa [^\n]*{re.escape(log_dir)}\b", dockerfile)
    assert shim["environment"]["HIPAA_GATE_OPA_URL"] == image_env["HIPAA_GATE_OPA_URL"]
