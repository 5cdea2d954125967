"""The audit desk on a log written by the real shim and OPA: a break-glass decision is a
BREAK_GLASS finding that needs a review, the review is recorded, and the list shows it."""

from __future__ import annotations

import json

import pytest

from service.cli import main as cli
from tests.conftest import read_log, request_body

DECIDE = "/v1/disclosures/decide"
RATIONALE = "Synthetic: unresponsive patient; covering clinician outside the role catalog."

pytestmark = pytest.mark.integration


def test_a_real_break_glass_decision_is_found_and_reviewed(
    client, decision_log_path, tmp_path, capsys
):
    plain = request_body(purpose="treatment")
    plain["requester"]["roles"] = ["billing_specialist"]
    glass = json.loads(json.dumps(plain))
    glass["context"] = {"break_glass": True, "rationale": RATIONALE}
    assert client.post(DECIDE, json=plain).get_json()["allow"] is False
    decision = client.post(DECIDE, json=glass).get_json()
    assert decision["break_glass"] is True
    assert len(read_log(decision_log_path)) == 2

    log = str(decision_log_path)
    assert cli.main(["audit", "findings", "--format", "json", log]) == 0
    findings = json.loads(capsys.readouterr().out)
    glass_findings = [f for f in findings if f["finding"] == "BREAK_GLASS"]
    assert [f["evidence"] for f in glass_findings] == [[decision["decision_id"]]]
    assert glass_findings[0]["review"]["status"] == "open"

    reviews = str(tmp_path / "reviews.jsonl")
    listing = ["reviews", "list", "--review-log", reviews, "--format", "json", log]
    assert cli.main(listing) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert (item["decision_id"], item["status"]) == (decision["decision_id"], "open")
    assert "break_glass" in item["why"]
    assert (
        cli.main(
            [
                "reviews",
                "record",
                "--review-log",
                reviews,
                decision["decision_id"],
                "--reviewer",
                "u-po-0001",
                "--outcome",
                "appropriate",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert cli.main(listing) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert (item["status"], item["review"]["outcome"]) == ("recorded", "appropriate")
