"""Policy-change replay: logged decisions re-evaluated by a real OPA over another policy dir."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from service.audit import replay
from service.cli.main import main
from service.paths import policy_dir
from tests.test_accounting import PRIVACY_OFFICER, disclosure, drive
from tests.test_scenarios import FILES, load

# ---------------------------------------------------------------- comparing (unit)


def logged(**fields) -> dict:
    rec = {
        "decision_id": "d-1",
        "timestamp": "2026-11-01T00:00:00Z",
        "policy_revision": "sha256-old",
        "purpose": "treatment",
        "recipient": {"type": "provider", "id": "npi-0000000001", "name": "Test"},
        "allow": True,
        "basis": ["TREATMENT"],
        "reasons": [],
        "obligations": ["LIMIT_TO_RELEVANT_INFORMATION"],
        "accountable": False,
        "elements_permitted": ["medications"],
        "input": {"purpose": "treatment"},
    }
    rec.update(fields)
    return rec


def decided(**fields) -> dict:
    out = {
        "allow": True,
        "basis": [{"code": "TREATMENT", "citation": "x", "summary": "y", "rule": "P1"}],
        "reasons": [],
        "requirements": [],
        "obligations": [{"code": "LIMIT_TO_RELEVANT_INFORMATION", "rule": "P1"}],
        "minimum_necessary": {"applies": False, "permitted_elements": ["medications"]},
        "accountable": False,
        "policy_revision": "sha256-new",
    }
    out.update(fields)
    return out


def test_same_decision_under_a_new_revision_is_unchanged():
    assert replay.compare(logged(), decided()) is None


def test_allow_flip_with_codes_added_and_removed():
    change = replay.compare(
        logged(),
        decided(
            allow=False,
            basis=[],
            reasons=[{"code": "ACCESS_REVOKED"}],
            obligations=[],
            minimum_necessary={"permitted_elements": []},
        ),
    )
    assert change is not None
    got = change.as_dict()
    assert got["allow"] == {"before": True, "after": False}
    assert got["allow_changed"] is True
    assert got["basis"] == {"added": [], "removed": ["TREATMENT"]}
    assert got["reasons"] == {"added": ["ACCESS_REVOKED"], "removed": []}
    assert got["obligations"] == {"added": [], "removed": ["LIMIT_TO_RELEVANT_INFORMATION"]}
    assert got["elements_permitted"] == {"added": [], "removed": ["medications"]}
    assert got["decision_id"] == "d-1"


def test_code_only_and_accountable_changes_are_changes():
    obligation = replay.compare(
        logged(), decided(obligations=[{"code": "DOCUMENT_RATIONALE"}])
    ).as_dict()
    assert obligation["allow_changed"] is False
    assert obligation["obligations"] == {
        "added": ["DOCUMENT_RATIONALE"],
        "removed": ["LIMIT_TO_RELEVANT_INFORMATION"],
    }
    assert replay.compare(logged(), decided(accountable=True)) is not None


def test_report_orders_allow_flips_first():
    report = replay.Report("dir", "rev")
    report.changes = [
        replay.compare(logged(decision_id="d-code"), decided(obligations=[])).as_dict(),
        replay.compare(
            logged(decision_id="d-flip", timestamp="2026-12-01T00:00:00Z"), decided(allow=False)
        ).as_dict(),
    ]
    report.evaluated = 5
    got = report.as_dict()
    assert [c["decision_id"] for c in got["changes"]] == ["d-flip", "d-code"]
    assert (got["evaluated"], got["changed"], got["unchanged"], got["allow_flips"]) == (5, 2, 3, 1)


def test_an_input_without_a_decision_is_a_change_even_for_a_logged_deny():
    flip = replay.compare(logged(), dict(replay.NO_DECISION)).as_dict()
    assert (flip["allow_changed"], flip["no_decision"]) == (True, True)
    deny = logged(allow=False, basis=[], reasons=[], obligations=[], elements_permitted=[])
    same_codes = replay.compare(deny, dict(replay.NO_DECISION))
    assert same_codes is not None
    assert same_codes.as_dict()["no_decision"] is True
    report = replay.Report("dir", "rev", evaluated=1, changes=[same_codes.as_dict()])
    assert "NO DECISION" in replay.to_text(report.as_dict())


def test_records_of_failed_requests_are_not_policy_decisions():
    assert replay.is_policy_decision(logged())
    failed = logged(policy_revision=None, allow=False, reasons=["policy_engine_unavailable"])
    assert not replay.is_policy_decision(failed)


# ---------------------------------------------------------------- end to end (real OPA)

PHYSICIAN = {"user_id": "u-102", "roles": ["physician"], "mfa": True}
BILLING = {"user_id": "u-201", "roles": ["billing_specialist"], "mfa": True}

SCENARIO = {
    "treatment_1": disclosure(
        "treatment", "provider", "npi-0000000001", "Test Cardiology", requester=PHYSICIAN
    ),
    "treatment_2": disclosure(
        "treatment",
        "provider",
        "npi-0000000002",
        "Test Oncology",
        requester=PHYSICIAN,
        data={"elements": ["medications"]},
    ),
    "physician_law_enforcement_denied": disclosure(
        "law_enforcement",
        "law_enforcement",
        "le-0001",
        "Synthetic Police Department",
        requester=PHYSICIAN,
        context={"court_order": True},
    ),
    "bulk_payment_30": disclosure(
        "payment",
        "health_plan",
        "plan-0001",
        "Synthetic Health Plan",
        requester=BILLING,
        data={"elements": ["member_id", "billing_codes"], "record_count": 30},
    ),
    "public_health": disclosure(
        "public_health",
        "public_health_authority",
        "pha-0001",
        "County Public Health",
        requester=PRIVACY_OFFICER,
    ),
}


@pytest.fixture
def scenario_log(client, decision_log_path: Path) -> tuple[Path, dict[str, dict]]:
    answers = drive(client, SCENARIO)
    assert answers["physician_law_enforcement_denied"]["allow"] is False
    for name in ("treatment_1", "treatment_2", "bulk_payment_30", "public_health"):
        assert answers[name]["allow"] is True, (name, answers[name]["reasons"])
    return decision_log_path, answers


def copy_policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(policy_dir(), target)
    return target


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def run_replay(argv: list[str], capsys) -> tuple[int, dict]:
    code = main(["replay", "--format", "json", *argv])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)


@pytest.mark.integration
def test_replay_against_the_same_policies_changes_nothing(scenario_log, capsys):
    log, _ = scenario_log
    # The logged inputs carry patient_ref in place of the patient id, so an unchanged replay
    # also shows that no decision depends on the raw patient id.
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert all(r["input"]["patient"]["id"] == r["patient_ref"] for r in records)
    assert all(r["input"]["patient"]["id"] != "p-test-0001" for r in records)
    code, report = run_replay(
        ["--fail-on-change", "--policies", str(policy_dir()), str(log)], capsys
    )
    assert code == 0
    assert report["evaluated"] == len(SCENARIO)
    assert report["changed"] == 0
    assert report["changes"] == []
    assert report["skipped"] == 0


@pytest.mark.integration
def test_replay_reports_exactly_the_decisions_a_revocation_changes(scenario_log, tmp_path, capsys):
    log, answers = scenario_log
    policies = copy_policies(tmp_path)
    edit_json(
        policies / "config" / "revoked_access" / "data.json",
        lambda d: d["users"].update({"u-102": {"revoked_on": "2026-01-01", "reason": "test"}}),
    )
    code, report = run_replay(["--fail-on-change", "--policies", str(policies), str(log)], capsys)
    assert code == 1
    assert report["evaluated"] == len(SCENARIO)
    ids = {name: answers[name]["decision_id"] for name in SCENARIO}
    changes = report["changes"]
    # The two allowed treatment disclosures flip first; the denied one gains a reason.
    assert {c["decision_id"] for c in changes[:2]} == {ids["treatment_1"], ids["treatment_2"]}
    assert [c["decision_id"] for c in changes[2:]] == [ids["physician_law_enforcement_denied"]]
    assert report["changed"] == 3
    assert report["allow_flips"] == 2
    for change in changes[:2]:
        assert change["allow"] == {"before": True, "after": False}
        assert "ACCESS_REVOKED" in change["reasons"]["added"]
    denied = changes[2]
    assert denied["allow_changed"] is False
    assert "ACCESS_REVOKED" in denied["reasons"]["added"]


@pytest.mark.integration
def test_replay_reports_a_lower_bulk_threshold(scenario_log, tmp_path, capsys):
    log, answers = scenario_log
    policies = copy_policies(tmp_path)
    edit_json(
        policies / "config" / "thresholds" / "data.json",
        lambda d: d.update({"bulk_record_count": 20}),
    )
    code, report = run_replay(["--policies", str(policies), str(log)], capsys)
    assert code == 0  # without --fail-on-change a change is reported, not an error
    assert report["changed"] == 1
    (change,) = report["changes"]
    assert change["decision_id"] == answers["bulk_payment_30"]["decision_id"]
    assert change["allow"] == {"before": True, "after": False}
    assert change["reasons"]["added"] == ["APPROVAL_REQUIRED"]


@pytest.mark.integration
def test_replay_text_output_and_unreadable_lines(scenario_log, tmp_path, capsys):
    log, answers = scenario_log
    with log.open("a", encoding="utf-8") as handle:
        handle.write('{"truncated": \n')
    policies = copy_policies(tmp_path)
    edit_json(
        policies / "config" / "thresholds" / "data.json",
        lambda d: d.update({"bulk_record_count": 20}),
    )
    code = main(["replay", "--policies", str(policies), str(log)])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith(f"Replayed {len(SCENARIO)} decision(s) against {policies}")
    assert "1 changed, 1 allow flip(s), 0 without a decision, 0 skipped." in out
    assert f"{answers['bulk_payment_30']['decision_id']} " in out
    assert "allow true -> false" in out
    assert "reasons: +APPROVAL_REQUIRED" in out
    assert f"{log}:{len(SCENARIO) + 1}: not valid JSON" in err


@pytest.mark.integration
def test_replay_with_a_broken_policy_is_an_error(scenario_log, tmp_path, capsys):
    log, _ = scenario_log
    policies = copy_policies(tmp_path)
    (policies / "hipaa" / "broken.rego").write_text("package hipaa.broken\n\nallow if {\n")
    code = main(["replay", "--policies", str(policies), str(log)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "opa build failed" in err


@pytest.mark.integration
def test_replay_of_every_scenario_fixture_changes_nothing(client, decision_log_path, capsys):
    # What the log keeps of each input (pseudonyms, redacted free text) decides as the input did:
    # a blank break-glass rationale stays blank (it once became "[redacted]" and replayed as an
    # allow).
    for path in FILES:
        assert client.post("/v1/disclosures/decide", json=load(path)["request"]).status_code == 200
    code, report = run_replay(
        ["--fail-on-change", "--policies", str(policy_dir()), str(decision_log_path)], capsys
    )
    assert (code, report["evaluated"], report["changes"]) == (0, len(FILES), [])


#: A decision log recorded by the shim before the service/ consolidation (issue 17): every
#: scenario fixture, the example requests and the CDS Hooks worked examples, decided and logged
#: through HTTP. Replaying it against today's policies is the "no behaviour changed" check; a
#: deliberate policy change that alters one of these decisions must say so here and re-record it.
RECORDED_LOG = Path(__file__).parent / "logs" / "decision-log-before-consolidation.jsonl.gz"


@pytest.mark.integration
def test_a_log_recorded_before_the_consolidation_replays_unchanged(capsys):
    code, report = run_replay(
        ["--fail-on-change", "--policies", str(policy_dir()), str(RECORDED_LOG)], capsys
    )
    assert (code, report["evaluated"], report["changes"], report["skipped"]) == (0, 212, [], 0)
