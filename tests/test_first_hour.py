"""What a new user meets in the first hour: warnings for ignored input, the state law list, the
explorer switch, examples that are scenario fixtures, OpenAPI examples, the .http collection,
``check-data``, ``decide`` as a dry run, folded policy messages and ``make run``'s reload."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator

from service.api.explorer import load_examples
from service.opa.input import load_schema
from service.opa.policy_data import PolicyDataError, check_policy_data
from tests.conftest import read_log, request_body
from tests.test_openapi import check, spec  # noqa: F401 - the OpenAPI fixtures
from tests.test_serve import CLI, REPO, Served, this_checkout_first, wait_gone

DECIDE = "/v1/disclosures/decide"
EXAMPLES = REPO / "examples" / "requests"
SCENARIOS = REPO / "policy_tests" / "scenarios"


def _codes(items):
    return [item["code"] for item in items]


# ----------------------------------------------------------------------------- warnings


def test_a_typo_inside_an_object_is_warned_about_and_changes_nothing(client, decision_log_path):
    clean = request_body()
    typo = request_body(context={"court_ordr": True})
    typo["patient"]["restrictions"] = [{"purposes": ["payment"], "reasn": "agreed"}]
    typo["recipient"]["identity_verifed"] = True
    plain = client.post(DECIDE, json=clean).get_json()
    warned = client.post(DECIDE, json=typo).get_json()
    assert plain["warnings"] == []
    assert warned["warnings"] == [
        {
            "code": "UNKNOWN_FIELD",
            "path": "/context/court_ordr",
            "message": "unknown field 'court_ordr' was ignored; did you mean 'court_order'?",
        },
        {
            "code": "UNKNOWN_FIELD",
            "path": "/patient/restrictions/0/reasn",
            "message": "unknown field 'reasn' was ignored; did you mean 'reason'?",
        },
        {
            "code": "UNKNOWN_FIELD",
            "path": "/recipient/identity_verifed",
            "message": "unknown field 'identity_verifed' was ignored; "
            "did you mean 'identity_verified'?",
        },
    ]
    for key in ("allow", "basis", "reasons", "requirements", "obligations", "minimum_necessary"):
        assert warned[key] == plain[key], key
    # The warnings are not part of the decision record.
    assert all("warnings" not in record for record in read_log(decision_log_path))


def test_an_unknown_role_is_named(client):
    body = request_body()
    body["requester"]["roles"] = ["physican", "nurse"]
    answer = client.post(DECIDE, json=body).get_json()
    assert answer["warnings"] == [
        {
            "code": "UNKNOWN_ROLE",
            "path": "/requester/roles/0",
            "message": "role 'physican' is not in the role catalog "
            "(policies/config/roles/data.json), so it permits nothing; did you mean 'physician'?",
        }
    ]
    assert answer["allow"] is True  # nurse may act for treatment: the decision is the policy's


def test_an_authorization_that_can_match_nothing_is_named(client):
    body = request_body(
        authorizations=[
            {
                "id": "auth-test-empty",
                "type": "hipaa_authorization",
                "signed": True,
                "signed_on": "2026-01-10",
                "recipients": ["*"],
                "purposes": ["treatment"],
                "categories": [],
            },
            {
                "id": "auth-test-star",
                "type": "hipaa_authorization",
                "signed": True,
                "signed_on": "2026-01-10",
                "recipient_types": ["provider"],
                "purposes": ["treatment"],
                "categories": ["*"],
            },
            {
                "id": "auth-test-tpo",
                "type": "part2_tpo_consent",
                "signed": True,
                "signed_on": "2026-01-10",
                "categories": ["substance_use_disorder"],
            },
        ]
    )
    answer = client.post(DECIDE, json=body).get_json()
    assert answer["warnings"] == [
        {
            "code": "AUTHORIZATION_MATCHES_NOTHING",
            "path": "/authorizations/0",
            "message": "authorization auth-test-empty: its categories are empty, "
            "so it covers no category",
        },
        {
            "code": "AUTHORIZATION_MATCHES_NOTHING",
            "path": "/authorizations/1",
            "message": "authorization auth-test-star: '*' is not a wildcard in an "
            "authorization's categories: name each category",
        },
        {
            "code": "AUTHORIZATION_MATCHES_NOTHING",
            "path": "/authorizations/2",
            "message": "authorization auth-test-tpo: its recipients and recipient_types are "
            "empty: it covers no recipient",
        },
    ]  # a part2_tpo_consent covers treatment, payment and operations by its type
    assert answer["allow"] is True


# ----------------------------------------------------------------------------- state laws


def test_state_law_list_names_every_matrix_state_in_order(client):
    matrix = json.loads((REPO / "policies/config/state_laws/data.json").read_text("utf-8"))
    resp = client.get("/v1/state-laws")
    assert resp.status_code == 200
    states = resp.get_json()["states"]
    assert [s["state"] for s in states] == sorted(matrix)
    ca = next(s for s in states if s["state"] == "CA")
    assert ca == {
        "state": "CA",
        "name": matrix["CA"]["name"],
        "last_reviewed": matrix["CA"]["last_reviewed"],
        "categories": sorted(matrix["CA"]["categories"]),
    }


def test_a_valid_state_without_overlay_is_told_apart_from_a_wrong_code(client):
    matrix = json.loads((REPO / "policies/config/state_laws/data.json").read_text("utf-8"))
    assert "AK" not in matrix
    ak = client.get("/v1/state-laws/ak")
    assert ak.status_code == 404
    assert ak.get_json()["error"]["code"] == "not_found"
    assert "AK is a valid state with no overlay" in ak.get_json()["error"]["message"]
    zz = client.get("/v1/state-laws/ZZ")
    assert zz.status_code == 404
    assert "valid state" not in zz.get_json()["error"]["message"]


def test_state_law_list_matches_the_openapi_document(client, check):  # noqa: F811
    check("/v1/state-laws", "GET", client.get("/v1/state-laws"))
    check("/v1/state-laws/{state}", "GET", client.get("/v1/state-laws/AK"))
    check("/explorer", "GET", client.get("/explorer"))
    check("/explorer/examples", "GET", client.get("/explorer/examples"))


# ----------------------------------------------------------------------------- explorer switch


def test_explorer_is_off_in_production_unless_enabled(app_factory):
    production = app_factory(DEV_MODE=False, PATIENT_REF_KEY="k" * 32).test_client()
    assert production.get("/explorer").status_code == 404
    assert production.get("/explorer/examples").status_code == 404
    enabled = app_factory(DEV_MODE=False, PATIENT_REF_KEY="k" * 32, EXPLORER="1").test_client()
    assert enabled.get("/explorer").status_code == 200
    development = app_factory().test_client()
    assert development.get("/explorer").status_code == 200
    off = app_factory(EXPLORER="0").test_client()
    assert off.get("/explorer").status_code == 404


def test_explorer_page_is_self_contained(client):
    resp = client.get("/explorer")
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    # No external script, style, font or image: nothing is fetched but this API.
    assert not re.search(r"""\s(src|href)\s*=""", html)
    assert "@import" not in html
    assert "url(" not in html
    csp = resp.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">' in html
    assert "default-src 'none'" in csp
    assert "connect-src 'self'" in csp
    assert client.get("/explorer").headers["Content-Security-Policy"] != csp  # fresh nonce


# ----------------------------------------------------------------------------- examples


def test_every_example_is_a_scenario_fixture_and_decides_as_it_expects(client):
    files = sorted(EXAMPLES.glob("*.json"))
    assert len(files) >= 10
    for path in files:
        example = json.loads(path.read_text("utf-8"))
        scenario = json.loads((REPO / example["scenario"]).read_text("utf-8"))
        assert example["name"] == path.stem == scenario["name"]
        assert example["request"] == scenario["request"], path.name
        assert example["expect"] == scenario["expect"], path.name
        assert example["title"]
        answer = client.post(DECIDE, json=example["request"]).get_json()
        assert answer["allow"] is example["expect"]["allow"], path.name
        found = set(_codes(answer["basis"] + answer["reasons"] + answer["requirements"]))
        found |= set(_codes(answer["obligations"]))
        assert set(example["expect"]["codes"]) <= found, path.name
        assert answer["warnings"] == [], path.name
    assert [e["name"] for e in load_examples()] == [p.stem for p in files]


def test_every_operation_has_an_example_and_request_examples_are_the_files(spec):  # noqa: F811
    validator = Draft202012Validator(load_schema("request.schema.json"))
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            contents = [
                content
                for response in operation["responses"].values()
                for content in response.get("content", {}).values()
            ]
            contents += list(operation.get("requestBody", {}).get("content", {}).values())
            assert any("example" in c or "examples" in c for c in contents), (path, method)
    decide_examples = spec["paths"][DECIDE]["post"]["requestBody"]["content"]["application/json"][
        "examples"
    ]
    assert len(decide_examples) >= 3
    for name, example in decide_examples.items():
        assert list(validator.iter_errors(example["value"])) == [], name
        on_disk = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
        assert example["value"] == on_disk["request"], name


def test_the_http_collection_holds_valid_requests(client):
    text = (REPO / "examples" / "hipaa-gate.http").read_text("utf-8")
    blocks = [b for b in re.split(r"^###.*$", text, flags=re.M) if b.strip()]
    seen = set()
    for block in blocks:
        lines = [line for line in block.strip().splitlines() if not line.startswith(("#", "@"))]
        if not lines:
            continue
        method, url = lines[0].split()[:2]
        path = url.replace("{{base}}", "")
        body_at = lines.index("") + 1 if "" in lines else len(lines)
        body = "\n".join(lines[body_at:]).strip()
        kwargs = {"json": json.loads(body)} if body else {}
        resp = client.open(path, method=method, **kwargs)
        seen.add((method, path.split("?")[0]))
        expected = 404 if path.endswith("/AK") else 200
        assert resp.status_code == expected, (method, path, resp.get_data(as_text=True))
    assert ("POST", DECIDE) in seen
    assert ("GET", "/v1/state-laws") in seen
    assert ("POST", "/v1/breach-notifications/plan") in seen


# ----------------------------------------------------------------------------- check-data


def broken_policies(tmp_path: Path) -> Path:
    copy_dir = tmp_path / "policies"
    shutil.copytree(REPO / "policies", copy_dir)
    roles_file = copy_dir / "config/roles/data.json"
    roles = json.loads(roles_file.read_text("utf-8"))
    roles["roles"]["nurse"]["purposes"]["treatment"] = "treatmnt"
    roles["roles"]["nurse"]["purposes"]["gossip"] = "treatment"
    roles_file.write_text(json.dumps(roles), encoding="utf-8")
    hie_file = copy_dir / "config/hie_agreements/data.json"
    hie = json.loads(hie_file.read_text("utf-8"))
    next(iter(hie.values()))["purposes"].append("payment_posting")
    hie_file.write_text(json.dumps(hie), encoding="utf-8")
    return copy_dir


def test_check_data_passes_on_the_shipped_data():
    check_policy_data()


def test_check_data_names_file_and_problem(tmp_path):
    with pytest.raises(PolicyDataError) as caught:
        check_policy_data(broken_policies(tmp_path))
    problems = caught.value.problems
    roles = "policies/config/roles/data.json"
    assert any(
        p.startswith(f"{roles}: /roles/nurse/purposes/treatment: view 'treatmnt' does not exist")
        for p in problems
    ), problems
    assert f"{roles}: /roles/nurse/purposes/gossip: purpose 'gossip' does not exist" in problems
    assert any(
        p.startswith("policies/config/hie_agreements/data.json: /")
        and "purpose 'payment_posting' does not exist" in p
        for p in problems
    ), problems
    assert any(p.startswith(f"{roles}: /roles/nurse/purposes: ") for p in problems)  # schema


def test_decide_refuses_to_build_a_bundle_from_invalid_data(tmp_path):
    broken = broken_policies(tmp_path)
    result = run_cli(
        ["decide", str(EXAMPLES / "mfa-missing.json")],
        tmp_path,
        HIPAA_GATE_POLICY_DIR=str(broken),
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "refusing to build the policy bundle" in result.stderr
    assert "policies/config/roles/data.json: /roles/nurse/purposes/treatment: view" in (
        result.stderr
    )
    assert not (tmp_path / "build").exists()


def test_serve_refuses_to_start_on_invalid_data(tmp_path):
    server = Served(tmp_path, HIPAA_GATE_POLICY_DIR=str(broken_policies(tmp_path)))
    try:
        assert server.proc.wait(60) == 2
        assert "view 'treatmnt' does not exist" in server.output()
        assert "policies/config/roles/data.json" in server.output()
        assert wait_gone(server.marker) == set()
    finally:
        server.kill_all()


# ----------------------------------------------------------------------------- decide CLI


def run_cli(args: list[str], cwd: Path, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIPAA_GATE_")}
    if os.environ.get("HIPAA_GATE_OPA_BIN"):
        env["HIPAA_GATE_OPA_BIN"] = os.environ["HIPAA_GATE_OPA_BIN"]
    env["HIPAA_GATE_BUILD_DIR"] = str(cwd / "build")
    env.update(env_extra)
    return subprocess.run(
        [CLI, *args],
        env=this_checkout_first(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_decide_takes_a_scenario_fixture_without_a_key_and_keeps_no_record(tmp_path):
    result = run_cli(["decide", str(SCENARIOS / "mfa-missing.json")], tmp_path)
    assert result.returncode == 1, result.stderr
    answer = json.loads(result.stdout)
    assert answer["request_id"] == "scn-mfa-missing"
    assert _codes(answer["reasons"]) == ["MFA_REQUIRED"]
    assert result.stderr == ""  # quiet: no OPA log, no start-up lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build"]  # no decision-log.jsonl


def test_decide_names_a_missing_file(tmp_path):
    result = run_cli(["decide", str(tmp_path / "nope.json")], tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "nope.json is not a file" in result.stderr
    assert "examples/requests" in result.stderr


def test_decide_verbose_shows_the_logs(tmp_path):
    result = run_cli(
        ["decide", "--verbose", str(EXAMPLES / "provider-handoff-treatment.json")], tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "sending the request of scenario provider-handoff-treatment" in result.stderr
    assert "opa_ready" in result.stderr


def test_decide_log_needs_a_key_and_says_how(tmp_path):
    log = tmp_path / "kept.jsonl"
    refused = run_cli(["decide", "--log", str(log), str(SCENARIOS / "mfa-missing.json")], tmp_path)
    assert refused.returncode == 2
    assert "HIPAA_GATE_PATIENT_REF_KEY" in refused.stderr
    assert "HIPAA_GATE_DEV_MODE=1" in refused.stderr
    assert not log.exists()
    kept = run_cli(
        ["decide", "--log", str(log), str(SCENARIOS / "mfa-missing.json")],
        tmp_path,
        HIPAA_GATE_PATIENT_REF_KEY="k" * 32,
    )
    assert kept.returncode == 1, kept.stderr
    (record,) = read_log(log)
    assert record["decision_id"] == json.loads(kept.stdout)["decision_id"]


# ----------------------------------------------------------------------------- policy messages


def _metadata_blocks(text: str):
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "# METADATA":
            block = []
            for follow in lines[i + 1 :]:
                if not follow.startswith("#"):
                    break
                block.append(follow[2:] if follow.startswith("# ") else follow[1:])
            yield yaml.safe_load("\n".join(block))


def _texts(node, key=None):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _texts(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _texts(v, key)
    elif isinstance(node, str) and key in {"message", "summary"}:
        yield node


def test_policy_messages_have_no_literal_line_breaks():
    found = []
    for path in sorted((REPO / "policies").rglob("*.rego")):
        for block in _metadata_blocks(path.read_text("utf-8")):
            custom = (block or {}).get("custom") or {}
            found += [(path.name, t) for t in _texts(custom) if "\n" in t.strip()]
    assert found == []


# ----------------------------------------------------------------------------- make run reload


@pytest.mark.integration
def test_development_serve_announces_itself_and_reloads_edited_policies(tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(REPO / "policies", policies)
    server = Served(tmp_path, HIPAA_GATE_POLICY_DIR=str(policies))
    try:
        first = server.wait_ready()["policy_revision"]
        deadline = time.monotonic() + 30
        while "listening on" not in server.output() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert f"listening on http://127.0.0.1:{server.port}" in server.output()
        assert f"OPA at http://127.0.0.1:{server.opa_port}" in server.output()
        listening = next(
            json.loads(line)
            for line in server.output().splitlines()
            if '"event": "listening"' in line
        )
        assert listening["explorer"] == f"http://127.0.0.1:{server.port}/explorer"
        assert listening["watching"] == str(policies)

        # An invalid edit is refused; the running policies stay.
        roles_file = policies / "config/roles/data.json"
        good = roles_file.read_text("utf-8")
        roles = json.loads(good)
        bad = copy.deepcopy(roles)
        bad["roles"]["physician"]["purposes"]["treatment"] = "treatmnt"
        roles_file.write_text(json.dumps(bad), encoding="utf-8")
        _wait_for(server, "still serving")
        assert server.wait_ready()["policy_revision"] == first

        # A valid edit (the physician may no longer act for treatment) is served.
        del roles["roles"]["physician"]["purposes"]["treatment"]
        roles_file.write_text(json.dumps(roles), encoding="utf-8")
        _wait_for(server, "policies reloaded")
        second = server.wait_ready()["policy_revision"]
        assert second != first
        assert f"{first} -> {second}" in server.output()
        answer = requests.post(f"{server.url}{DECIDE}", json=request_body(), timeout=5).json()
        assert answer["policy_revision"] == second
        assert _codes(answer["reasons"]) == ["ROLE_NOT_PERMITTED"]
        assert server.stop() == 0
        assert wait_gone(server.marker) == set()
    finally:
        server.stop()
        server.kill_all()


def _wait_for(server: Served, text: str, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.output():
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not seen:\n{server.output()[-3000:]}")


# ----------------------------------------------------------------------------- the reference


def test_the_request_reference_lists_the_catalogs_as_shipped():
    text = (REPO / "docs" / "api.md").read_text("utf-8")
    part = text[text.index("\n## Writing a request") :]
    elements = json.loads((REPO / "policies/config/elements/data.json").read_text("utf-8"))
    documented = re.findall(r"^\| `([a-z0-9_]+)` \| [^|]+ \| [a-z_]+ \| (?:yes|no) \|", part, re.M)
    assert documented == list(elements)
    roles = json.loads((REPO / "policies/config/roles/data.json").read_text("utf-8"))["roles"]
    for role, entry in roles.items():
        row = re.search(rf"^\| `{role}` \| (.*) \|$", part, re.M)
        assert row, role
        pairs = re.findall(r"`([a-z_]+)` → `([a-z_]+)`", row.group(1))
        assert dict(pairs) == entry["purposes"], role
    for name in re.findall(r"examples/requests/([a-z0-9-]+)\.json", part):
        assert (EXAMPLES / f"{name}.json").is_file(), name


def test_a_person_at_a_terminal_gets_plain_lines(monkeypatch, capsys):
    """The plain lines go to stderr only when it is a terminal (``make run`` in a shell); the JSON
    log on stdout carries the same facts for everyone else."""
    from service import config
    from service.server import serve

    class Tty:
        def __init__(self, real):
            self.real = real

        def isatty(self):
            return True

        def write(self, text):
            return self.real.write(text)

        def flush(self):
            self.real.flush()

    cfg = config.load({"BIND": "127.0.0.1:18000", "EXPLORER": True})
    monkeypatch.setattr("sys.stderr", Tty(__import__("sys").stderr))
    serve._announce(cfg, None, serve.PolicyWatcher(REPO / "policies"))
    err = capsys.readouterr().err
    assert "hipaa-gate: listening on http://127.0.0.1:18000" in err
    assert "hipaa-gate: decision explorer: http://127.0.0.1:18000/explorer" in err
    assert "an edit there reloads the policies" in err
    monkeypatch.undo()
    serve._announce(cfg, None, None)
    assert "hipaa-gate:" not in capsys.readouterr().err  # not a terminal: JSON only


def test_accounting_without_a_key_says_which_key(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text("", encoding="utf-8")
    result = run_cli(["accounting", "--patient", "p-test-0001", str(log)], tmp_path)
    assert result.returncode == 2
    assert "the key the logs were written with" in result.stderr
    assert "HIPAA_GATE_DEV_MODE=1" in result.stderr


def test_check_data_covers_the_audit_desk_data(tmp_path):
    copy_dir = tmp_path / "policies"
    shutil.copytree(REPO / "policies", copy_dir)
    audit_file = copy_dir / "config/audit/data.json"
    audit = json.loads(audit_file.read_text("utf-8"))
    audit["emergency"]["purposes"].append("medical_emergancy")
    audit_file.write_text(json.dumps(audit), encoding="utf-8")
    with pytest.raises(PolicyDataError) as caught:
        check_policy_data(copy_dir)
    assert any(
        p.startswith("policies/config/audit/data.json: /emergency/purposes/")
        and "'medical_emergancy' does not exist" in p
        for p in caught.value.problems
    ), caught.value.problems
