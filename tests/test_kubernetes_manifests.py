"""The Kubernetes manifests in deploy/kubernetes/ parse and keep the sidecar pattern's promises.

They are checked against the code they deploy: the OPA flags against ``OpaSidecar.command()``,
the shim command against the gunicorn configuration, the resource requests against the
benchmark targets.
"""

from __future__ import annotations

import importlib
import ipaddress
import json
import re
from pathlib import Path

import pytest
import yaml
from gunicorn.workers.gthread import ThreadWorker

from service.opa.sidecar import OpaSidecar
from service.server import gunicorn_settings as gunicorn_config

REPO = Path(__file__).resolve().parent.parent
K8S = REPO / "deploy" / "kubernetes"

# Budgets from the benchmark targets (docs/benchmarks.md): per shim worker and for OPA.
SHIM_WORKER_BUDGET_MI = 80
OPA_BUDGET_MI = 150


def _load_all() -> list[dict]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                doc["__file__"] = path.name
                docs.append(doc)
    return docs


DOCS = _load_all()


def _one(kind: str) -> dict:
    found = [d for d in DOCS if d["kind"] == kind]
    assert len(found) == 1, f"expected exactly one {kind}, found {len(found)}"
    return found[0]


def _mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi)", quantity)
    assert match, f"unexpected memory quantity {quantity!r}"
    return float(match.group(1)) * units[match.group(2)]


@pytest.fixture(scope="module")
def pod() -> dict:
    return _one("Deployment")["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def containers(pod) -> dict[str, dict]:
    return {c["name"]: c for c in pod["containers"]}


@pytest.fixture(scope="module")
def config() -> dict[str, str]:
    return _one("ConfigMap")["data"]


def test_kustomization_lists_every_manifest_and_pins_images():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    tags = {i["name"]: i["newTag"] for i in kustomization["images"]}
    assert tags["openpolicyagent/opa"].startswith("1.22.3")  # the pinned OPA (Makefile)
    assert re.fullmatch(r"\d+\.\d+\.\d+", tags["hipaa-gate"])


def test_every_document_is_a_known_kind_with_the_app_label():
    kinds = {d["kind"] for d in DOCS}
    assert kinds == {
        "ServiceAccount",
        "ConfigMap",
        "Deployment",
        "Service",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    }
    for doc in DOCS:
        assert doc["metadata"]["labels"]["app.kubernetes.io/name"] == "hipaa-gate", doc["__file__"]


def test_no_secret_is_committed():
    assert not [d for d in DOCS if d["kind"] == "Secret"]
    text = "\n".join(p.read_text() for p in K8S.glob("*.yaml"))
    assert "PRIVATE KEY" not in text
    assert "BEGIN PUBLIC KEY" not in text  # the verification key is mounted, not pasted


def test_deployment_runs_the_shim_and_opa_as_one_pair(containers, pod):
    assert set(containers) == {"shim", "opa"}
    assert containers["opa"]["image"] == "openpolicyagent/opa"
    assert containers["shim"]["image"] == "hipaa-gate"
    assert pod["automountServiceAccountToken"] is False


def test_shim_runs_gunicorn_with_the_repos_config(containers):
    command = containers["shim"]["command"]
    assert command[:2] == ["gunicorn", "--config"]
    assert Path(command[2]).name == "gunicorn.conf.py"
    assert (REPO / "gunicorn.conf.py").is_file()
    assert len(command) == 3, "the app must come from gunicorn.conf.py (wsgi_app), not argv"
    # The app the config names exists and is the factory.
    module_name, _, factory = gunicorn_config.wsgi_app.partition(":")
    module = importlib.import_module(module_name)
    assert factory == "create_app()"
    assert callable(module.create_app)
    # gunicorn's gthread worker (only its error page for refused request heads is replaced).
    worker_module, _, worker_name = gunicorn_config.worker_class.rpartition(".")
    worker = getattr(importlib.import_module(worker_module), worker_name)
    assert issubclass(worker, ThreadWorker)
    # ...and it is exactly what the image runs by default.
    cmd = re.search(r"^CMD\s+(\[.*\])\s*$", (REPO / "Dockerfile").read_text(), re.MULTILINE)
    assert cmd, "Dockerfile has no exec-form CMD"
    assert command == json.loads(cmd.group(1))


def test_opa_runs_with_the_sidecar_launchers_hardened_flags(containers, pod):
    launcher = OpaSidecar("/policy/bundle.tar.gz", opa_bin="opa").command()
    args = containers["opa"]["args"]
    # Everything the launcher passes (binary and bundle path aside) is passed here too.
    assert launcher[0] == "opa"
    for flag in launcher[1:]:
        if flag != "/policy/bundle.tar.gz":
            assert flag in args, f"missing hardened flag {flag}"
    addr = next(a for a in args if a.startswith("--addr=")).split("=", 1)[1]
    assert ipaddress.ip_address(addr.rsplit(":", 1)[0]).is_loopback
    assert "--authorization=basic" in args
    assert not any(a.startswith("--set") or a.startswith("--config-file") for a in args)
    # Bundle mode on the fetched bundle, verified with the mounted public key.
    bundle = args[args.index("--bundle") + 1]
    key = next(a for a in args if a.startswith("--verification-key=")).split("=", 1)[1]
    mounts = {m["mountPath"]: m["name"] for m in containers["opa"]["volumeMounts"]}
    assert mounts[str(Path(bundle).parent)] == "policy-bundle"
    assert mounts[str(Path(key).parent)] == "policy-verification-key"
    init = {c["name"]: c for c in pod["initContainers"]}["fetch-policy-bundle"]
    assert bundle in " ".join(init["command"])
    init_mounts = {m["mountPath"]: m["name"] for m in init["volumeMounts"]}
    assert init_mounts[str(Path(bundle).parent)] == "policy-bundle"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "configMap" in volumes["policy-verification-key"]


def test_shim_probes_use_healthz_and_readyz(containers):
    shim = containers["shim"]
    assert shim["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert shim["readinessProbe"]["httpGet"]["path"] == "/readyz"
    port_names = {p["name"] for p in shim["ports"]}
    assert shim["readinessProbe"]["httpGet"]["port"] in port_names
    opa_ports = {p["name"]: p["containerPort"] for p in containers["opa"]["ports"]}
    diag = next(a for a in containers["opa"]["args"] if a.startswith("--diagnostic-addr="))
    probe_port = containers["opa"]["livenessProbe"]["httpGet"]["port"]
    assert int(diag.rsplit(":", 1)[1]) == opa_ports[probe_port]
    assert containers["opa"]["livenessProbe"]["httpGet"]["path"] == "/health"


def test_hmac_key_and_tokens_come_from_a_secret_reference(containers, config):
    env = {e["name"]: e for e in containers["shim"]["env"]}
    for name in ("HIPAA_GATE_PATIENT_REF_KEY", "HIPAA_GATE_API_TOKENS"):
        assert "value" not in env[name]
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "hipaa-gate-secrets"
        assert name not in config
    assert containers["shim"]["envFrom"] == [{"configMapRef": {"name": "hipaa-gate-config"}}]


def test_config_points_the_shim_at_its_own_opa(config, containers):
    opa_addr = next(a for a in containers["opa"]["args"] if a.startswith("--addr=")).split("=")[1]
    assert config["HIPAA_GATE_OPA_URL"] == f"http://{opa_addr}"
    assert config["HIPAA_GATE_DEV_MODE"] == "0"
    assert config["HIPAA_GATE_LOG_FSYNC"] in {"always", "never"}
    assert all(k.startswith("HIPAA_GATE_") or k == "POLICY_BUNDLE_URL" for k in config)
    assert config["POLICY_BUNDLE_URL"].startswith("https://")
    log_dir = str(Path(config["HIPAA_GATE_DECISION_LOG"]).parent)
    mounts = {m["mountPath"] for m in containers["shim"]["volumeMounts"]}
    assert log_dir in mounts
    port = int(config["HIPAA_GATE_BIND"].rsplit(":", 1)[1])
    assert port in {p["containerPort"] for p in containers["shim"]["ports"]}


def test_opa_runs_with_the_sidecar_launchers_runtime_settings(containers):
    from service.opa.sidecar import OPA_RUNTIME_ENV

    env = {e["name"]: e["value"] for e in containers["opa"]["env"] if "value" in e}
    assert env == OPA_RUNTIME_ENV
    # The only other variable is the token, from the Secret (test below).
    others = {e["name"] for e in containers["opa"]["env"] if "value" not in e}
    assert others == {"HIPAA_GATE_OPA_TOKEN"}


def test_opa_demands_the_shims_token_from_the_same_secret(containers, config):
    """OPA reads HIPAA_GATE_OPA_TOKEN from its environment (policies/system/authz) and, with
    --authentication=token, refuses queries without it; the shim sends the same value."""
    assert "--authentication=token" in containers["opa"]["args"]
    refs = {}
    for name in ("opa", "shim"):
        env = {e["name"]: e for e in containers[name]["env"]}
        token = env["HIPAA_GATE_OPA_TOKEN"]
        assert "value" not in token, f"{name}: the token must come from the Secret"
        refs[name] = token["valueFrom"]["secretKeyRef"]
    assert refs["opa"] == refs["shim"]
    assert refs["opa"]["name"] == "hipaa-gate-secrets"
    assert "HIPAA_GATE_OPA_TOKEN" not in config


def _flag(args: list[str], name: str) -> int:
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    assert len(values) == 1, f"--{name} given {len(values)} times"
    return int(values[0])


def test_opa_outlives_the_shims_drain_and_the_grace_period_covers_both(pod, containers, config):
    """SIGTERM reaches both containers at once: OPA must keep serving while gunicorn drains its
    in-flight requests (each needs OPA), and the kubelet must not SIGKILL before both are done."""
    # The shim's preStop sleep (the pod leaving the endpoints), then gunicorn's graceful_timeout.
    pre_stop = containers["shim"]["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    shim_drain = int(pre_stop[1]) + int(config["HIPAA_GATE_GRACEFUL_TIMEOUT"])
    args = containers["opa"]["args"]
    opa_wait = _flag(args, "shutdown-wait-period")
    opa_grace = _flag(args, "shutdown-grace-period")
    assert opa_wait > shim_drain, "OPA closes its listener while the shim still drains"
    grace = pod["terminationGracePeriodSeconds"]
    assert grace >= opa_wait + opa_grace, "the kubelet kills OPA before it has shut down"
    assert grace > shim_drain, "the kubelet kills gunicorn before its drain ends"


def test_metrics_of_every_worker_are_collected(pod, containers, config):
    """gunicorn runs several workers: /metrics sums them only in prometheus-client multiprocess
    mode, with PROMETHEUS_MULTIPROC_DIR on an emptyDir of its own (empty at each pod start)."""
    assert int(config["HIPAA_GATE_WORKERS"]) > 1
    env = {e["name"]: e for e in containers["shim"]["env"]}
    directory = env["PROMETHEUS_MULTIPROC_DIR"]["value"]
    mounts = {m["mountPath"]: m["name"] for m in containers["shim"]["volumeMounts"]}
    assert directory in mounts, "the directory must be a volume (the root file system is read-only)"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts[directory]]
    others = [m for m in containers["opa"]["volumeMounts"] if m["name"] == mounts[directory]]
    assert not others, "only the shim writes there"
    # The image sets the same directory and creates it, for `docker run` and compose.
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(rf"PROMETHEUS_MULTIPROC_DIR={re.escape(directory)}\b", dockerfile)
    assert re.search(rf"mkdir -p [^\n]*{re.escape(directory)}", dockerfile)


def test_resource_requests_cover_the_measured_budgets(containers, config):
    workers = int(config["HIPAA_GATE_WORKERS"])
    shim = containers["shim"]["resources"]
    opa = containers["opa"]["resources"]
    assert _mebibytes(shim["requests"]["memory"]) >= workers * SHIM_WORKER_BUDGET_MI
    assert _mebibytes(shim["limits"]["memory"]) > _mebibytes(shim["requests"]["memory"])
    assert _mebibytes(opa["limits"]["memory"]) >= OPA_BUDGET_MI
    for res in (shim, opa):
        assert "cpu" in res["requests"]
        assert "cpu" not in res.get("limits", {})  # no CPU throttling on the decision path


def test_every_container_is_locked_down(pod):
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for container in pod["containers"] + pod["initContainers"]:
        ctx = container["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False, container["name"]
        assert ctx["readOnlyRootFilesystem"] is True, container["name"]
        assert ctx["capabilities"]["drop"] == ["ALL"], container["name"]
        assert "memory" in container["resources"]["limits"], container["name"]


def test_network_policy_admits_only_the_shim_port(pod):
    policy = _one("NetworkPolicy")["spec"]
    labels = _one("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    shim_ports = {p["containerPort"] for p in pod["containers"][0]["ports"]}
    for rule in policy["ingress"]:
        assert {p["port"] for p in rule["ports"]} <= shim_ports
        assert rule["from"], "ingress must name its sources"
    egress_ports = {p["port"] for rule in policy["egress"] for p in rule["ports"]}
    assert egress_ports == {53, 443}


def test_service_pdb_and_hpa_select_the_deployment():
    deployment = _one("Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = _one("Service")["spec"]
    assert service["selector"].items() <= labels.items()
    assert service["ports"][0]["targetPort"] == "http"
    pdb = _one("PodDisruptionBudget")["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    hpa = _one("HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["minReplicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
