"""`make image-test`: build the image from the Dockerfile with buildah and run it for real.

No Docker engine here: buildah builds with ``--isolation chroot`` on a local Debian base
(tests/image/base.sh) and ``buildah run --isolation chroot`` runs the image's own command
(gunicorn with /app/gunicorn.conf.py, as the image's user) on the host network, against a real
OPA sidecar serving the bundle `make bundle` built. Checks: a decision, a bad request, /readyz,
/metrics, the decision log where the image says, a non-root process and image user, no build-time
CA store or secret in any layer; prints the image size. Exit status 0 only when every check holds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from service.opa.sidecar import OpaSidecar, free_port  # noqa: E402

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
DECISION = {
    "request_id": "image-test-0001",
    "requester": {"user_id": "u-102", "roles": ["physician"], "mfa": True},
    "patient": {"id": "p-image-test-0001", "state": "CA", "age": 54},
    "recipient": {"type": "provider", "id": "npi-0000000001", "identity_verified": True},
    "purpose": "treatment",
    "data": {"categories": ["general"], "elements": ["problem_list"]},
}
FAILURES: list[str] = []


def check(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        FAILURES.append(what)


def buildah(*args: str, capture: bool = True) -> str:
    done = subprocess.run(
        ["buildah", *args], check=True, text=True, stdout=subprocess.PIPE if capture else None
    )
    return (done.stdout or "").strip()


def inspect(image: str) -> dict:
    return json.loads(buildah("inspect", "--type", "image", image))


def build(image: str, base: str) -> float:
    started = time.monotonic()
    args = ["bud", "--isolation", "chroot", "--layers", "--build-arg", f"BASE_IMAGE={base}"]
    if HOST_CA_BUNDLE.is_file():
        # This network's TLS trust, for pip during the build only (read-only, not in a layer).
        args += ["--build-arg", f"PIP_CERT={HOST_CA_BUNDLE}"]
        args += ["--volume", f"{HOST_CA_BUNDLE.parent}:{HOST_CA_BUNDLE.parent}:ro"]
    buildah(*args, "--quiet", "-f", "Dockerfile", "-t", image, str(REPO), capture=False)
    return time.monotonic() - started


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), nearest first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def process_info(pid: int) -> tuple[str, int]:
    """(command line, real uid) of ``pid``."""
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    uid_line = next(
        line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line[:4] == "Uid:"
    )
    return cmdline, int(uid_line.split()[1])


def wait_ready(url: str, runner: subprocess.Popen, timeout: float = 90) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if runner.poll() is not None:
            return False
        try:
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


def run_and_probe(image: str, config: dict, bundle: Path, revision: str, work: Path) -> None:
    user = config["config"].get("User", "")
    command = config["config"]["Cmd"]
    env = dict(item.split("=", 1) for item in config["config"].get("Env", []))
    token = secrets.token_hex(16)
    key = secrets.token_hex(24)
    opa = OpaSidecar(
        bundle, f"127.0.0.1:{free_port()}", revision=revision, log=work / "opa.log", token=token
    )
    port = free_port()
    name = f"hipaa-gate-image-test-{os.getpid()}"
    ctr = buildah("from", "--quiet", "--name", name, image)
    runner = None
    try:
        opa.start()
        opa.wait_ready(timeout=30)
        settings = {
            "HIPAA_GATE_BIND": f"127.0.0.1:{port}",
            "HIPAA_GATE_OPA_URL": opa.url,
            "HIPAA_GATE_OPA_TOKEN": token,
            "HIPAA_GATE_PATIENT_REF_KEY": key,
            "HIPAA_GATE_POLICY_REVISION": revision,
        }
        args = ["buildah", "run", "--isolation", "chroot"]
        for name_value in settings.items():
            args += ["--env", "=".join(name_value)]
        out = (work / "shim.log").open("wb")
        # The image's own command and user (buildah run uses the image's USER).
        runner = subprocess.Popen([*args, ctr, "--", *command], stdout=out, stderr=out)
        url = f"http://127.0.0.1:{port}"
        ready = wait_ready(url, runner)
        check(ready, f"{' '.join(command)} answers /readyz 200 on {url} (host network, chroot)")
        if not ready:
            print((work / "shim.log").read_text(errors="replace")[-3000:])
            return

        readyz = requests.get(f"{url}/readyz", timeout=5).json()
        check(
            readyz.get("checks", {}).get("policies") == "ok" and revision in json.dumps(readyz),
            f"/readyz: OPA sidecar ready with the bundle's revision {revision}",
        )
        resp = requests.post(f"{url}/v1/disclosures/decide", json=DECISION, timeout=10)
        decision = resp.json()
        check(
            resp.status_code == 200
            and decision.get("allow") is True
            and decision.get("policy_revision") == revision,
            "a treatment decision: 200, allow, with the bundle's policy revision",
        )
        bad = requests.post(
            f"{url}/v1/disclosures/decide",
            json={k: v for k, v in DECISION.items() if k != "purpose"},
            timeout=10,
        )
        fields = (
            json.dumps(bad.json())
            if bad.headers.get("Content-Type", "").startswith("application/json")
            else ""
        )
        check(
            bad.status_code == 400 and "/purpose" in fields and "Traceback" not in bad.text,
            "a request without purpose: 400 JSON naming /purpose",
        )
        metrics = requests.get(f"{url}/metrics", timeout=5)
        check(
            metrics.status_code == 200
            and re.search(r'hipaa_gate_requests_total\{[^}]*endpoint="decide"', metrics.text)
            is not None,
            "/metrics: Prometheus text counting the decide requests (multiprocess directory)",
        )

        # Below buildah's chroot helpers: the gunicorn master (first) and its workers.
        gunicorn = [
            p
            for p in descendants(runner.pid)
            if "gunicorn" in process_info(p)[0] and not process_info(p)[0].startswith("buildah")
        ]
        uids = {process_info(p)[1] for p in gunicorn}
        check(
            len(gunicorn) >= 2 and 0 not in uids,
            f"gunicorn master and workers: uid {sorted(uids)} (image USER {user!r}), not root",
        )

        mount = Path(buildah("mount", ctr))
        try:
            log_path = env["HIPAA_GATE_DECISION_LOG"]
            log_file = mount / log_path.lstrip("/")
            records = (
                [json.loads(x) for x in log_file.read_text().splitlines()]
                if (log_file.is_file())
                else []
            )
            logged = [r for r in records if r.get("decision_id") == decision.get("decision_id")]
            check(
                len(logged) == 1
                and log_file.stat().st_uid in uids
                and key not in log_file.read_text(),
                f"the decision record is in {log_path} (the image's HIPAA_GATE_DECISION_LOG), "
                "written by the image's user, without the key",
            )
            passwd = (mount / "etc/passwd").read_text()
            name_part = user.split(":")[0]
            image_uid = next(
                (
                    int(line.split(":")[2])
                    for line in passwd.splitlines()
                    if line.split(":")[0] == name_part or line.split(":")[2] == name_part
                ),
                0,
            )
            check(bool(user) and image_uid != 0, f"the image's USER {user!r} is uid {image_uid}")
        finally:
            buildah("umount", ctr)

        master = gunicorn[0]
        os.kill(master, signal.SIGTERM)
        try:
            runner.wait(timeout=30)
            check(runner.returncode == 0, "SIGTERM stops gunicorn cleanly (exit 0)")
        except subprocess.TimeoutExpired:
            check(False, "SIGTERM stops gunicorn within 30 s")
    finally:
        if runner is not None and runner.poll() is None:
            for pid in reversed(descendants(runner.pid)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            runner.kill()
            runner.wait()
        opa.stop()
        subprocess.run(["buildah", "rm", ctr], check=False, stdout=subprocess.DEVNULL)


def scan_layers(image: str, base: str, work: Path) -> int:
    """No build-time CA store or pip cache in any layer; returns the uncompressed size."""
    layout = work / "oci"
    buildah("push", "--quiet", image, f"oci:{layout}")
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((layout / "blobs/sha256" / manifest_digest).read_text())
    layers = [layout / "blobs/sha256" / d["digest"].split(":", 1)[1] for d in manifest["layers"]]
    base_layers = len(inspect(base)["OCIv1"]["rootfs"]["diff_ids"])
    host_certs = (
        set(PEM.findall(HOST_CA_BUNDLE.read_bytes())) if HOST_CA_BUNDLE.is_file() else set()
    )
    host_bundle = HOST_CA_BUNDLE.read_bytes() if HOST_CA_BUNDLE.is_file() else None
    # The certificates this network adds to the base's: the ones a leak would carry.
    public: set[bytes] = set()
    seen_certs: dict[bytes, str] = {}
    size = 0
    own_paths: list[str] = []
    for number, layer in enumerate(layers):
        with tarfile.open(layer, "r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                size += member.size
                data = tar.extractfile(member).read() if member.size < 64 << 20 else b""
                if number >= base_layers:
                    own_paths.append(member.name)
                if host_bundle is not None and data == host_bundle:
                    seen_certs[b"<the host CA bundle file>"] = member.name
                for cert in PEM.findall(data):
                    if cert in host_certs:
                        seen_certs.setdefault(cert, member.name)
                    if number < base_layers:
                        public.add(cert)  # the base's own (Debian's) certificates
    private = host_certs - public
    leaked = {name for cert, name in seen_certs.items() if cert in private or cert.startswith(b"<")}
    check(
        not leaked,
        f"no layer holds the host CA bundle or any of its {len(private)} network-specific "
        f"certificate(s) mounted for the build{': ' + ', '.join(sorted(leaked)) if leaked else ''}",
    )
    stray = [p for p in own_paths if p.startswith(("etc/ssl/", "root/.cache/", "tmp/"))]
    check(
        not stray,
        f"the Dockerfile's layers add nothing under etc/ssl, root/.cache, tmp {stray[:5]}",
    )
    return size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--bundle", required=True, type=Path)
    parser.add_argument("--revision", required=True)
    args = parser.parse_args()
    os.chdir(REPO)
    print(f"building {args.image} from Dockerfile on {args.base} (buildah, chroot isolation)")
    seconds = build(args.image, args.base)
    config = inspect(args.image)["OCIv1"]
    print(f"built in {seconds:.0f} s; running it")
    with tempfile.TemporaryDirectory(prefix="hipaa-gate-image-") as tmp:
        work = Path(tmp)
        run_and_probe(args.image, config, args.bundle.resolve(), args.revision, work)
        size = scan_layers(args.image, args.base, work)
    stored = buildah("images", "--format", "{{.Size}}", args.image).splitlines()[0]
    print(f"image {args.image}: {size / 1e6:.0f} MB uncompressed in its layers ({stored} stored)")
    if FAILURES:
        print(f"image-test FAILED: {len(FAILURES)} check(s)")
        return 1
    print("image-test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
