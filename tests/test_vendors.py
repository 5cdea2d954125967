"""Business-associate oversight: ``hipaa-gate vendors`` and the findings document on a real OPA."""

from __future__ import annotations

import argparse
import json
import shutil

import pytest

from service.audit import vendors
from service.opa.sidecar import free_port
from service.paths import policy_dir

NOW = "2026-11-28T09:14:03Z"
EXAMPLE_FINDINGS = {
    ("ba-expired-vendor", "BAA_EXPIRED"),
    ("ba-expired-vendor", "REVIEW_OVERDUE"),
    ("ba-expired-vendor", "SECURITY_ATTESTATION_MISSING"),
    ("ba-pending-vendor", "BAA_NOT_EXECUTED"),
    ("ba-pending-vendor", "BAA_CLAUSE_MISSING"),
    ("ba-pending-vendor", "SUBCONTRACTOR_FLOW_DOWN_UNCONFIRMED"),
}

pytestmark = pytest.mark.integration


def run_vendors(argv: list[str], env: dict[str, str], capsys) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    vendors.add_arguments(parser)
    args = parser.parse_args(argv)
    code = args.func(args, environ=env)
    out, err = capsys.readouterr()
    return code, out, err


def test_command_with_a_local_opa_lists_the_example_vendors_problems(capsys):
    code, out, err = run_vendors(["--format", "json", "--now", NOW], {}, capsys)
    assert (code, err) == (0, "")
    items = json.loads(out)
    assert {(f["vendor_id"], f["code"]) for f in items} == EXAMPLE_FINDINGS
    for item in items:
        assert set(item) >= {"vendor_id", "code", "severity", "citation", "message"}
        assert item["citation"].startswith("45 CFR")
    missing = sorted(f["clause"] for f in items if f["code"] == "BAA_CLAUSE_MISSING")
    assert missing == ["breach_reporting", "return_or_destroy"]


def test_command_text_output_groups_by_vendor(capsys):
    code, out, _ = run_vendors(["--now", NOW], {}, capsys)
    assert code == 0
    assert out.startswith("7 finding(s) for 2 vendor(s) at 2026-11-28T09:14:03Z.")
    expired = out.index("ba-expired-vendor (Expired Vendor (example))")
    pending = out.index("ba-pending-vendor (Pending Vendor (example))")
    assert expired < out.index("CRITICAL BAA_EXPIRED") < pending
    assert pending < out.index("CRITICAL BAA_NOT_EXECUTED")
    assert "ba-care-analytics" not in out


def test_command_reads_an_edited_registry(tmp_path, capsys):
    policies = tmp_path / "policies"
    shutil.copytree(policy_dir(), policies)
    registry_file = policies / "config" / "business_associates" / "data.json"
    registry = json.loads(registry_file.read_text())
    registry["ba-care-analytics"]["baa"]["expires_on"] = "2027-01-15"
    registry["ba-care-analytics"]["baa"]["clauses"]["hhs_access"] = False
    registry_file.write_text(json.dumps(registry))
    code, out, _ = run_vendors(
        ["--format", "json", "--now", NOW, "--policies", str(policies)], {}, capsys
    )
    assert code == 0
    got = {(f["vendor_id"], f["code"]) for f in json.loads(out)}
    assert got - EXAMPLE_FINDINGS == {
        ("ba-care-analytics", "BAA_EXPIRING"),
        ("ba-care-analytics", "BAA_CLAUSE_MISSING"),
    }


def test_a_later_now_finds_more_problems(capsys):
    # Two years on, every review is older than 12 months.
    code, out, _ = run_vendors(["--format", "json", "--now", "2028-11-28T00:00:00Z"], {}, capsys)
    assert code == 0
    overdue = {f["vendor_id"] for f in json.loads(out) if f["code"] == "REVIEW_OVERDUE"}
    registry = json.loads(
        (policy_dir() / "config" / "business_associates" / "data.json").read_text()
    )
    assert overdue == set(registry)


def test_command_uses_the_configured_opa_url(opa_server, capsys):
    code, out, _ = run_vendors(
        ["--format", "json", "--now", NOW], {"HIPAA_GATE_OPA_URL": opa_server.url}, capsys
    )
    assert code == 0
    assert {(f["vendor_id"], f["code"]) for f in json.loads(out)} == EXAMPLE_FINDINGS


def test_unreachable_opa_is_an_error_not_an_empty_list(capsys):
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = run_vendors(["--now", NOW], {"HIPAA_GATE_OPA_URL": url}, capsys)
    assert code == 2
    assert out == ""
    assert "cannot reach OPA" in err


def test_bad_policy_directory_is_an_error(tmp_path, capsys):
    code, out, err = run_vendors(["--policies", str(tmp_path / "none")], {}, capsys)
    assert (code, out) == (2, "")
    assert "policy directory not found" in err


def test_invalid_now_is_a_usage_error():
    parser = argparse.ArgumentParser()
    vendors.add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--now", "yesterday"])


def test_text_for_no_findings():
    assert vendors.render([], "text", NOW) == f"No business-associate findings at {NOW}.\n"


def test_findings_endpoint_lists_the_example_vendors_problems(client):
    resp = client.get("/v1/business-associates/findings")
    assert resp.status_code == 200
    got = {(f["vendor_id"], f["code"]) for f in resp.get_json()}
    # The endpoint evaluates at the real current time: later reviews may also become overdue.
    assert got >= EXAMPLE_FINDINGS
    assert {v for v, _ in got} >= {"ba-expired-vendor", "ba-pending-vendor"}
    assert ("ba-care-analytics", "BAA_NOT_EXECUTED") not in got
