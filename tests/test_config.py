"""Configuration: HIPAA_GATE_* variables, refusal to start, secrets, a TLS sidecar."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from service import config
from service.app import create_app
from service.opa.client import OpaClient
from service.opa.sidecar import OpaSidecar, free_port
from service.records.patient_ref import DEVELOPMENT_KEY, patient_ref
from tests.conftest import request_body


def test_refuses_to_start_without_a_key_outside_dev_mode(tmp_path):
    with pytest.raises(config.ConfigError, match="PATIENT_REF_KEY"):
        config.resolve({}, environ={})
    with pytest.raises(config.ConfigError, match="PATIENT_REF_KEY"):
        create_app({"DECISION_LOG": str(tmp_path / "log.jsonl"), "DEV_MODE": False})


def test_dev_mode_uses_the_labelled_development_key():
    cfg = config.resolve({}, environ={"HIPAA_GATE_DEV_MODE": "1"})
    assert cfg["PATIENT_REF_KEY"] == DEVELOPMENT_KEY
    assert "DEVELOPMENT" in DEVELOPMENT_KEY
    assert cfg["PATIENT_REF_KEY_IS_DEVELOPMENT"] is True


def test_dev_mode_logs_a_warning(app_factory, capfd):
    capfd.readouterr()
    app_factory()
    assert "development_patient_ref_key" in capfd.readouterr().out


def test_values_come_from_prefixed_environment_variables():
    cfg = config.resolve(
        {},
        environ={
            "HIPAA_GATE_PATIENT_REF_KEY": "0123456789abcdef0123",
            "HIPAA_GATE_MAX_BODY_BYTES": "2048",
            "HIPAA_GATE_OPA_CONNECT_TIMEOUT": "0.1",
            "HIPAA_GATE_OPA_READ_TIMEOUT": "2",
            "HIPAA_GATE_LOG_FSYNC": "never",
            "HIPAA_GATE_OPA_URL": "https://opa.internal:8443/",
            "OTHER_MAX_BODY_BYTES": "1",
        },
    )
    assert cfg["MAX_BODY_BYTES"] == 2048
    assert cfg["OPA_CONNECT_TIMEOUT"] == 0.1
    assert cfg["OPA_READ_TIMEOUT"] == 2.0
    assert cfg["LOG_FSYNC"] == "never"
    assert cfg["OPA_URL"] == "https://opa.internal:8443"
    assert cfg["PATIENT_REF_KEY_IS_DEVELOPMENT"] is False


def test_defaults():
    cfg = config.resolve({"DEV_MODE": True}, environ={})
    assert cfg["MAX_BODY_BYTES"] == 64 * 1024
    assert (cfg["OPA_CONNECT_TIMEOUT"], cfg["OPA_READ_TIMEOUT"]) == (0.25, 0.5)
    assert cfg["LOG_FSYNC"] == "always"
    assert cfg["DECISION_LOG"] == "./decision-log.jsonl"
    assert cfg["BIND"] == "127.0.0.1:8000"
    assert cfg["API_TOKENS"] == ()
    assert (cfg["KEEPALIVE"], cfg["GRACEFUL_TIMEOUT"]) == (75, 10)
    assert config.resolve({"DEV_MODE": True, "KEEPALIVE": "0"}, environ={})["KEEPALIVE"] == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_FSYNC", "sometimes"),
        ("OPA_URL", "ftp://opa"),
        ("OPA_READ_TIMEOUT", "soon"),
        ("OPA_READ_TIMEOUT", "0"),
        ("MAX_BODY_BYTES", "0"),
        ("THREADS", "many"),
        ("DEV_MODE", "perhaps"),
        ("PATIENT_REF_KEY", "short"),
        ("API_TOKENS", ","),
        ("API_TOKENS", "@/nonexistent/tokens"),
        ("KEEPALIVE", "75s"),
        ("KEEPALIVE", "-1"),
        ("GRACEFUL_TIMEOUT", "ten"),
    ],
)
def test_bad_values_refuse_to_start(name, value):
    environ = {"HIPAA_GATE_DEV_MODE": "1", f"HIPAA_GATE_{name}": value}
    with pytest.raises(config.ConfigError, match=name):
        config.resolve({}, environ=environ)


@pytest.mark.parametrize("separator", [",", "\n", "\r\n", ",\n"])
def test_tokens_in_the_variable_may_be_one_per_line(separator):
    # A Kubernetes Secret made with --from-file puts the file's lines into the variable.
    digests = config.load_api_tokens(separator.join(["tok-one-0000000001", "tok-two-0000000002"]))
    assert digests == (
        hashlib.sha256(b"tok-one-0000000001").digest(),
        hashlib.sha256(b"tok-two-0000000002").digest(),
    )


def test_tokens_are_hashed_on_load(tmp_path):
    path = tmp_path / "tokens"
    path.write_text("tok-one-0000000001\n# comment\ntok-two-0000000002\n", encoding="utf-8")
    digests = config.load_api_tokens(f"@{path}")
    assert digests == (
        hashlib.sha256(b"tok-one-0000000001").digest(),
        hashlib.sha256(b"tok-two-0000000002").digest(),
    )


def test_patient_ref_is_keyed_hmac_sha256():
    ref = patient_ref("k" * 32, "p-test-0001")
    assert len(ref) == 64
    assert ref == patient_ref(b"k" * 32, "p-test-0001")
    assert ref != patient_ref("j" * 32, "p-test-0001")
    assert ref != hashlib.sha256(b"p-test-0001").hexdigest()
    with pytest.raises(ValueError, match="empty"):
        patient_ref("", "p-test-0001")


def test_opa_client_settings():
    client = OpaClient("https://opa.internal:8443", ca_bundle="/etc/ca.pem", token="tok-opa-01")
    assert (client.scheme, client.base_url) == ("https", "https://opa.internal:8443")
    assert client.ca_bundle == "/etc/ca.pem"
    assert client.headers["Authorization"] == "Bearer tok-opa-01"
    assert client.timeout == (0.25, 0.5)
    plain = OpaClient("http://127.0.0.1:8181/", connect_timeout=0.1, read_timeout=0.3)
    assert (plain.scheme, plain.base_url) == ("http", "http://127.0.0.1:8181")
    assert "Authorization" not in plain.headers
    assert plain.timeout == (0.1, 0.3)
    with pytest.raises(ValueError, match="http"):
        OpaClient("ftp://opa.internal")
    with pytest.raises(ValueError, match="http"):
        OpaClient("http://")


def test_opa_client_keeps_one_connection_per_thread(opa_server):
    # Keep-alive: repeated queries from a thread reuse its connection; each thread has its own.
    import pycurl

    client = OpaClient(opa_server.url)
    results = {}

    def work(name: str) -> None:
        for _ in range(5):
            assert client.query("hipaa/decision", {}).defined
        curl = client._handle()
        results[name] = (curl.getinfo(pycurl.NUM_CONNECTS), curl.getinfo(pycurl.LOCAL_PORT))

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 3
    assert all(new == 0 for new, _ in results.values())  # the last query made no new connection
    assert len({port for _, port in results.values()}) == 3  # one connection per thread
    client.close()


@pytest.fixture(scope="module")
def tls_opa(opa_bundle, tmp_path_factory):
    root = tmp_path_factory.mktemp("tls")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    bundle, revision = opa_bundle
    sidecar = OpaSidecar(
        bundle, f"127.0.0.1:{free_port()}", revision=revision, tls=(str(cert), str(key))
    )
    with sidecar:
        sidecar.wait_ready()
        yield sidecar, cert


def test_a_remote_tls_sidecar_needs_its_ca_bundle(app_factory, tls_opa):
    sidecar, cert = tls_opa
    assert sidecar.url.startswith("https://")
    trusted = app_factory(OPA_URL=sidecar.url, OPA_CA_BUNDLE=str(cert)).test_client()
    resp = trusted.post("/v1/disclosures/decide", json=request_body())
    assert resp.status_code == 200, resp.get_data(as_text=True)
    untrusted = app_factory(OPA_URL=sidecar.url).test_client()
    resp = untrusted.post("/v1/disclosures/decide", json=request_body())
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "policy_engine_unavailable"


def test_the_clock_is_set_in_code_only():
    assert config.resolve({}, environ={"HIPAA_GATE_DEV_MODE": "1"})["CLOCK"] is config.system_clock
    # An environment variable cannot move the decision time ...
    env = {"HIPAA_GATE_DEV_MODE": "1", "HIPAA_GATE_CLOCK": "1999-01-01T00:00:00Z"}
    assert config.resolve({}, environ=env)["CLOCK"] is config.system_clock
    # ... and a clock given in code must be callable.
    with pytest.raises(config.ConfigError, match="CLOCK"):
        config.resolve({"CLOCK": "1999-01-01T00:00:00Z"}, environ={"HIPAA_GATE_DEV_MODE": "1"})


def test_the_configuration_is_one_frozen_object():
    cfg = config.load({"DEV_MODE": True, "WORKERS": "3"}, environ={"HIPAA_GATE_THREADS": "8"})
    assert isinstance(cfg, config.Config)
    assert (cfg.workers, cfg.threads) == (3, 8)
    assert cfg["WORKERS"] == cfg.workers  # also by the variable's name
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.workers = 4  # type: ignore[misc]
    # A Config is taken as it is (create_app(config) accepts one, or overrides by name).
    assert config.resolve(cfg) is cfg
    assert [cfg.is_set(n) for n in ("WORKERS", "THREADS", "OPA_URL")] == [True, True, False]


def test_commands_without_the_key_still_load_it_and_the_key_is_required_where_used():
    cfg = config.load({}, environ={"HIPAA_GATE_OPA_URL": "http://127.0.0.1:9"})
    assert cfg.patient_ref_key is None
    assert cfg.opa_url == "http://127.0.0.1:9"
    with pytest.raises(config.ConfigError, match="PATIENT_REF_KEY is not set: refusing to start"):
        cfg.require_patient_ref_key()
    # A key that is set but too short is a bad value wherever the configuration is read.
    with pytest.raises(config.ConfigError, match="at least 16 characters"):
        config.load({}, environ={"HIPAA_GATE_PATIENT_REF_KEY": "short"})


def test_an_unknown_override_is_refused():
    with pytest.raises(config.ConfigError, match=r"unknown setting\(s\): WORKRES"):
        config.load({"DEV_MODE": True, "WORKRES": 3}, environ={})


def test_gunicorn_settings_use_the_same_checks_and_messages():
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIPAA_GATE_")} | {
        "HIPAA_GATE_WORKERS": "many"
    }
    proc = subprocess.run(
        [sys.executable, "-c", "import service.server.gunicorn_settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.returncode != 0
    with pytest.raises(config.ConfigError) as refused:
        config.load({}, environ={"HIPAA_GATE_WORKERS": "many"})
    assert proc.stderr.strip().splitlines()[-1] == str(refused.value)
    assert str(refused.value) == "HIPAA_GATE_WORKERS must be an integer"
