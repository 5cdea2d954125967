"""Post-event reviews (append-only log) and the HTML report, rendered in a real Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from service.audit import reviews
from service.cli import main as cli
from tests.audit_records import REF_B, WEDNESDAY, config, decision, local, write_log


def _log(tmp_path: Path) -> tuple[Path, dict, dict, dict]:
    glass = decision(
        local(WEDNESDAY, 9), break_glass=True, obligations=["POST_EVENT_REVIEW"], user="u-test-bg"
    )
    threat = decision(local(WEDNESDAY, 10), purpose="serious_threat", basis=["SERIOUS_THREAT"])
    obliged = decision(local(WEDNESDAY, 11), obligations=["POST_EVENT_REVIEW"])
    ordinary = [decision(local(WEDNESDAY, 12, k), patient_ref=REF_B) for k in range(5)]
    night = decision(local(WEDNESDAY, 23), user="u-test-night")
    log = write_log(tmp_path / "d.jsonl", [glass, threat, obliged, night, *ordinary])
    return log, glass, threat, obliged


def test_reviews_list_then_record_then_list(tmp_path, capsys):
    log, glass, threat, obliged = _log(tmp_path)
    review_log = tmp_path / "reviews.jsonl"
    base = ["reviews", "list", "--review-log", str(review_log), "--format", "json"]
    assert cli.main([*base, str(log)]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [i["decision_id"] for i in items] == [
        glass["decision_id"],
        threat["decision_id"],
        obliged["decision_id"],
    ]
    assert [i["why"] for i in items] == [
        ["break_glass", "POST_EVENT_REVIEW"],
        ["emergency"],
        ["POST_EVENT_REVIEW"],
    ]
    assert {i["status"] for i in items} == {"open"}
    record = ["reviews", "record", "--review-log", str(review_log)]
    assert (
        cli.main(
            [
                *record,
                glass["decision_id"],
                "--reviewer",
                "u-po-0001",
                "--outcome",
                "appropriate",
                "--note",
                "rationale checked",
            ]
        )
        == 0
    )
    assert (
        cli.main(
            [
                *record,
                threat["decision_id"],
                "--reviewer",
                "u-po-0001",
                "--outcome",
                "needs_follow_up",
            ]
        )
        == 0
    )
    capsys.readouterr()
    lines = review_log.read_text().splitlines()
    assert [json.loads(x)["outcome"] for x in lines] == ["appropriate", "needs_follow_up"]
    assert oct(os.stat(review_log).st_mode & 0o777) == "0o600"
    assert cli.main([*base, "--open", str(log)]) == 0
    assert [i["decision_id"] for i in json.loads(capsys.readouterr().out)] == [
        obliged["decision_id"]
    ]
    # Appended, never rewritten: a later review supersedes when read.
    assert (
        cli.main(
            [*record, threat["decision_id"], "--reviewer", "u-po-0002", "--outcome", "appropriate"]
        )
        == 0
    )
    latest, problems = reviews.load(str(review_log))
    assert (latest[threat["decision_id"]]["outcome"], problems) == ("appropriate", 0)
    assert len(review_log.read_text().splitlines()) == 3


def test_reviews_record_refuses_an_unknown_outcome(tmp_path, capsys):
    review_log = tmp_path / "reviews.jsonl"
    with pytest.raises(SystemExit) as exc:
        cli.main(
            [
                "reviews",
                "record",
                "--review-log",
                str(review_log),
                "d-1",
                "--reviewer",
                "u-po-0001",
                "--outcome",
                "fine",
            ]
        )
    assert exc.value.code == 2
    assert not review_log.exists()
    assert "invalid choice" in capsys.readouterr().err


def test_a_damaged_review_log_is_reported(tmp_path, capsys):
    log, *_ = _log(tmp_path)
    review_log = tmp_path / "reviews.jsonl"
    review_log.write_text("{half a review\n")
    assert cli.main(["reviews", "list", "--review-log", str(review_log), str(log)]) == 1
    assert f"{review_log}:1:" in capsys.readouterr().err


def _chromium() -> str:
    found = os.environ.get("HIPAA_GATE_CHROMIUM") or shutil.which("chromium")
    assert found, "Debian's chromium is installed by `make install` (make chromium)"
    return found


def test_html_report_is_self_contained_and_renders_in_chromium(tmp_path, capsys):
    log, glass, threat, _ = _log(tmp_path)
    cfg = config(watch_list=[REF_B])
    cfg_file = tmp_path / "audit.json"
    cfg_file.write_text(json.dumps(cfg))
    page = tmp_path / "report.html"
    review_log = tmp_path / "reviews.jsonl"
    reviews.record(str(review_log), glass["decision_id"], reviewer="u-po-1", outcome="appropriate")
    code = cli.main(
        [
            "audit",
            "report",
            "--config",
            str(cfg_file),
            "--review-log",
            str(review_log),
            "--html",
            str(page),
            str(log),
        ]
    )
    assert code == 0
    html = page.read_text()
    # One page, nothing loaded from anywhere: no scripts, links, images or imports.
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|\bsrc=", html, re.I)
    assert not re.search(r"href=\"(?!#)", html)
    assert html.count("<svg") == 4
    for name in ("BREAK_GLASS", "EMERGENCY", "FLAGGED_PATIENT", "OFF_HOURS"):
        assert name in html
    assert threat["decision_id"] in html  # an open review, listed with its age
    assert "Decisions per day" in html
    assert "Top 10 users" in html
    shot = tmp_path / "report.png"
    done = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            "--window-size=1280,2400",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert shot.stat().st_size > 20_000  # a real picture of the charts, not a blank page
    dom = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
        text=True,
    ).stdout
    assert dom.count("<svg") == 4
    assert "Open post-event reviews" in dom
