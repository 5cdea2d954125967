"""Accounting of disclosures (164.528; 42 CFR 2.25): log reading, filtering, formats, command.

The unit tests use synthetic log lines with the decision log fields of docs/api.md; the end-to-end
test drives real decisions through the shim (``app_factory``) into a log file and reads it back.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import io
import json
import uuid
from pathlib import Path

import pytest

from service.audit import accounting
from service.records.files import Problem, ReadStats, read_records
from service.records.patient_ref import DEVELOPMENT_KEY, patient_ref

KEY = "test-key-0123456789abcdef"
PATIENT = "p-test-0001"
OTHER = "p-test-0002"
REF = patient_ref(KEY, PATIENT)
TODAY = dt.date(2026, 11, 28)
# For the command, whose window ends on the `today` the test gives it: ten days before it.
RECENT = (dt.datetime.combine(TODAY, dt.time(9), dt.UTC) - dt.timedelta(days=10)).strftime(
    "%Y-%m-%dT%H:%M:%SZ"
)


def record(
    *,
    when: str = "2026-11-01T10:00:00Z",
    patient: str = PATIENT,
    allow: bool = True,
    accountable: bool = True,
    purpose: str = "public_health",
    recipient: tuple[str, str, str] = ("public_health_authority", "pha-0001", "County Health"),
    basis: list[str] | None = None,
    categories: list[str] | None = None,
    elements: list[str] | None = None,
    decision_id: str | None = None,
) -> dict:
    """A decision log record with the decision log fields of docs/api.md (synthetic values)."""
    rtype, rid, rname = recipient
    return {
        "timestamp": when,
        "event": "disclosure_decision",
        "decision_id": decision_id or str(uuid.uuid4()),
        "request_id": "gw-test",
        "opa_decision_id": None,
        "policy_revision": "sha256-test",
        "requester": {"user_id": "u-102", "roles": ["privacy_officer"], "organization_id": "org-1"},
        "patient_ref": patient_ref(KEY, patient),
        "patient_state": "CA",
        "recipient": {"type": rtype, "id": rid, "name": rname},
        "purpose": purpose,
        "categories": categories or ["general"],
        "elements_permitted": elements if elements is not None else ["dob", "lab_results"],
        "allow": allow,
        "basis": basis if basis is not None else ["PUBLIC_HEALTH"],
        "reasons": [] if allow else ["NO_PERMISSION"],
        "obligations": ["ACCOUNT_FOR_DISCLOSURE"] if accountable else [],
        "accountable": accountable,
        "latency_ms": 1.5,
        "input": {"patient": {"id": patient_ref(KEY, patient)}, "purpose": purpose},
    }


def write_log(path: Path, records: list[dict], *, compress: bool = False, extra: str = "") -> Path:
    text = "".join(json.dumps(r) + "\n" for r in records) + extra
    if compress:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def window(years: int = 6) -> accounting.Window:
    return accounting.Window(accounting.years_before(TODAY, years), TODAY)


def build(records: list[dict], *, part2: bool = False, win: accounting.Window | None = None):
    return accounting.build(records, patient_ref=REF, window=win or window(), part2=part2)


# ---------------------------------------------------------------- reading logs


def test_reads_plain_and_gzip_files_in_any_order_and_dedupes(tmp_path):
    a = record(when="2026-01-01T00:00:00Z", decision_id="d-1")
    b = record(when="2026-02-01T00:00:00Z", decision_id="d-2")
    c = record(when="2026-03-01T00:00:00Z", decision_id="d-3")
    current = write_log(tmp_path / "decisions.jsonl", [b, c])
    rotated = write_log(tmp_path / "decisions.jsonl.1.gz", [a, b], compress=True)
    stats = ReadStats()
    problems: list[Problem] = []
    got = read_records([current, rotated], problems.append, stats)
    assert sorted(r["decision_id"] for r in got) == ["d-1", "d-2", "d-3"]
    assert stats.duplicates == 1
    assert stats.files == 2
    assert problems == []


def test_gzip_is_detected_by_content_not_name(tmp_path):
    path = write_log(tmp_path / "decisions.log", [record(decision_id="d-9")], compress=True)
    assert [r["decision_id"] for r in read_records([path], pytest.fail)] == ["d-9"]


def test_malformed_lines_are_reported_with_file_and_line_and_skipped(tmp_path):
    good = record(decision_id="d-ok")
    no_id = record()
    del no_id["decision_id"]
    lines = [
        json.dumps(good),
        "{not json",
        "",
        json.dumps([1, 2]),
        json.dumps(no_id),
        json.dumps({**record(decision_id="d-bad-allow"), "allow": "yes"}),
    ]
    path = tmp_path / "decisions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems: list[Problem] = []
    stats = ReadStats()
    got = read_records([path], problems.append, stats)
    assert [r["decision_id"] for r in got] == ["d-ok"]
    assert [(p.path, p.line) for p in problems] == [
        (str(path), 2),
        (str(path), 4),
        (str(path), 5),
        (str(path), 6),
    ]
    assert "not valid JSON" in problems[0].message
    assert "not a JSON object" in problems[1].message
    assert "'decision_id'" in problems[2].message
    assert "'allow'" in problems[3].message
    assert stats.problems == 4
    assert str(problems[0]).startswith(f"{path}:2: ")


def test_other_events_are_counted_not_reported(tmp_path):
    path = write_log(tmp_path / "mixed.jsonl", [record(decision_id="d-1"), {"event": "startup"}])
    stats = ReadStats()
    got = read_records([path], pytest.fail, stats)
    assert [r["decision_id"] for r in got] == ["d-1"]
    assert stats.other_events == 1


def test_truncated_gzip_keeps_complete_lines_and_reports(tmp_path):
    records = [record(decision_id=f"d-{i}") for i in range(200)]
    full = write_log(tmp_path / "full.gz", records, compress=True)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    problems: list[Problem] = []
    got = read_records([cut], problems.append)
    assert len(problems) >= 1
    assert problems[-1].path == str(cut)
    assert "truncated or corrupt" in problems[-1].message
    # Whatever was decoded before the cut is kept; a half line is reported, not used.
    assert all(r["decision_id"].startswith("d-") for r in got)
    assert len(got) < 200


def test_invalid_utf8_is_reported(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(json.dumps(record(decision_id="d-1")).encode() + b"\n\xff\xfe\n")
    problems: list[Problem] = []
    got = read_records([path], problems.append)
    assert [r["decision_id"] for r in got] == ["d-1"]
    assert [(p.line, "UTF-8" in p.message) for p in problems] == [(2, True)]


def test_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_records([tmp_path / "nope.jsonl"], pytest.fail)


# ---------------------------------------------------------------- selecting entries


def test_lists_only_allowed_accountable_disclosures_of_the_patient_newest_first():
    older = record(when="2026-03-01T08:00:00Z", decision_id="d-older")
    newer = record(when="2026-09-01T08:00:00Z", decision_id="d-newer")
    records = [
        older,
        newer,
        record(patient=OTHER, decision_id="d-other-patient"),
        record(allow=False, decision_id="d-denied"),
        record(accountable=False, purpose="treatment", basis=["TREATMENT"], decision_id="d-tpo"),
    ]
    got = build(records)
    assert [e["decision_id"] for e in got] == ["d-newer", "d-older"]


def test_default_window_is_six_years_inclusive():
    records = [
        record(when="2020-11-28T00:00:00Z", decision_id="d-edge"),
        record(when="2020-11-27T23:59:59Z", decision_id="d-too-old"),
        record(when="2026-11-28T23:59:59Z", decision_id="d-today"),
        record(when="2026-11-29T00:00:00Z", decision_id="d-future"),
    ]
    win = accounting.Window.default(part2=False, since=None, until=None, today=TODAY)
    assert win == accounting.Window(dt.date(2020, 11, 28), TODAY)
    assert [e["decision_id"] for e in build(records, win=win)] == ["d-today", "d-edge"]


def test_part2_lists_consented_disclosures_of_three_years():
    part2 = record(
        when="2025-06-01T00:00:00Z",
        purpose="research",
        recipient=("researcher", "r-0001", "Synthetic Study"),
        basis=["PART2_CONSENT"],
        categories=["substance_use_disorder"],
        decision_id="d-part2",
    )
    old_part2 = {**part2, "timestamp": "2023-06-01T00:00:00Z", "decision_id": "d-part2-old"}
    hipaa_only = record(when="2025-07-01T00:00:00Z", decision_id="d-hipaa")
    win = accounting.Window.default(part2=True, since=None, until=None, today=TODAY)
    assert win.since == dt.date(2023, 11, 28)
    got = build([part2, old_part2, hipaa_only], part2=True, win=win)
    assert [e["decision_id"] for e in got] == ["d-part2"]
    # The HIPAA accounting lists both accountable disclosures of the six years.
    assert [e["decision_id"] for e in build([part2, old_part2, hipaa_only])] == [
        "d-hipaa",
        "d-part2",
        "d-part2-old",
    ]


def test_since_and_until_are_inclusive_dates():
    records = [record(when=f"2026-0{m}-15T12:00:00Z", decision_id=f"d-{m}") for m in range(1, 10)]
    win = accounting.Window.default(
        part2=False, since=dt.date(2026, 3, 15), until=dt.date(2026, 5, 15), today=TODAY
    )
    assert [e["decision_id"] for e in build(records, win=win)] == ["d-5", "d-4", "d-3"]


def test_since_after_until_is_an_error():
    with pytest.raises(ValueError, match="after"):
        accounting.Window.default(
            part2=False, since=dt.date(2026, 5, 1), until=dt.date(2026, 4, 1), today=TODAY
        )


def test_leap_day_window():
    assert accounting.years_before(dt.date(2028, 2, 29), 6) == dt.date(2022, 2, 28)


def test_timestamp_with_offset_is_normalised_to_utc():
    rec = record(when="2026-11-01T23:30:00-05:00", decision_id="d-offset")
    (got,) = build([rec])
    assert got["date"] == "2026-11-02"
    assert got["disclosed_at"] == "2026-11-02T04:30:00Z"


def test_bad_timestamp_is_reported_not_dropped_silently():
    rec = record(when="yesterday", decision_id="d-bad-time")
    problems: list[Problem] = []
    got = accounting.build([rec], patient_ref=REF, window=window(), on_problem=problems.append)
    assert got == []
    assert len(problems) == 1
    assert "d-bad-time" in problems[0].path
    assert "bad timestamp" in problems[0].message


# ---------------------------------------------------------------- entry content


def test_entry_has_the_164_528_b_2_content():
    rec = record(
        when="2026-10-05T14:03:00Z",
        purpose="law_enforcement",
        recipient=("law_enforcement", "le-0001", "Synthetic Police Dept"),
        basis=["LAW_ENFORCEMENT"],
        categories=["general", "hiv"],
        elements=["name", "dob", "lab_results"],
        decision_id="d-le",
    )
    (got,) = build([rec])
    assert got == {
        "date": "2026-10-05",
        "disclosed_at": "2026-10-05T14:03:00Z",
        "recipient": {
            "type": "law_enforcement",
            "id": "le-0001",
            "name": "Synthetic Police Dept",
            "address": None,
        },
        "description": "General health information and HIV-related information: "
        "name, date of birth and laboratory results.",
        "categories": ["general", "hiv"],
        "elements": ["name", "dob", "lab_results"],
        "purpose": "law_enforcement",
        "purpose_statement": "Disclosed for law enforcement, permitted for a law enforcement "
        "purpose (court order, warrant or subpoena) (45 CFR 164.512(f)(1)).",
        "basis": [
            {
                "code": "LAW_ENFORCEMENT",
                "statement": "a law enforcement purpose (court order, warrant or subpoena)",
                "citation": "45 CFR 164.512(f)(1)",
            }
        ],
        "decision_id": "d-le",
    }


def test_every_contract_basis_code_has_words_and_a_citation():
    codes = {
        "TREATMENT", "PAYMENT", "HEALTH_CARE_OPERATIONS", "PATIENT_AUTHORIZATION",
        "PART2_CONSENT", "INDIVIDUAL_ACCESS", "FAMILY_INVOLVEMENT", "PROFESSIONAL_JUDGMENT",
        "DISASTER_RELIEF", "SERIOUS_THREAT", "MEDICAL_EMERGENCY", "REQUIRED_BY_LAW",
        "PUBLIC_HEALTH", "HEALTH_OVERSIGHT", "JUDICIAL_PROCEEDING", "LAW_ENFORCEMENT",
        "CORONER_MEDICAL_EXAMINER", "HHS_COMPLIANCE", "BUSINESS_ASSOCIATE", "LIMITED_DATA_SET",
        "DEIDENTIFIED", "PSYCHOTHERAPY_NOTES_EXCEPTION", "RESEARCH_WAIVER",
        # v1.2
        "FAMILY_NOTIFICATION", "ABUSE_NEGLECT_REPORT", "WORKERS_COMPENSATION", "ORGAN_DONATION",
        "FUNERAL_DIRECTOR", "SPECIALIZED_GOVERNMENT_FUNCTION",
    }  # fmt: skip
    assert set(accounting.BASIS_WORDS) == codes
    for code, (statement, citation) in accounting.BASIS_WORDS.items():
        assert statement, code
        assert citation.startswith(("45 CFR", "42 CFR")), code


def test_description_without_elements():
    assert accounting.describe(["mental_health"], []) == "Mental health information."


# ---------------------------------------------------------------- formats


def sample_entries() -> list[dict]:
    recs = [
        record(when="2026-02-01T09:00:00Z", decision_id="d-a1"),
        record(when="2026-05-01T09:00:00Z", decision_id="d-a2"),
        record(when="2026-08-01T09:00:00Z", decision_id="d-a3"),
        record(
            when="2026-07-01T09:00:00Z",
            purpose="health_oversight",
            recipient=("health_oversight_agency", "hoa-0001", "State Board"),
            basis=["HEALTH_OVERSIGHT"],
            decision_id="d-b1",
        ),
    ]
    return build(recs)


def test_json_is_an_array_of_entries():
    entries = sample_entries()
    parsed = json.loads(accounting.render(entries, "json", window=window(), part2=False))
    assert isinstance(parsed, list)
    assert [e["decision_id"] for e in parsed] == ["d-a3", "d-b1", "d-a2", "d-a1"]
    assert {"date", "recipient", "description", "purpose", "basis", "decision_id"} <= set(parsed[0])


def test_csv_has_one_row_per_disclosure():
    text = accounting.render(sample_entries(), "csv", window=window(), part2=False)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["decision_id"] for r in rows] == ["d-a3", "d-b1", "d-a2", "d-a1"]
    assert rows[1]["recipient_name"] == "State Board"
    assert rows[1]["citation"] == "45 CFR 164.512(d)"
    assert rows[1]["purpose"] == "health_oversight"


def test_text_groups_repeated_disclosures_to_one_recipient_for_one_purpose():
    text = accounting.render(sample_entries(), "text", window=window(), part2=False)
    assert "4 disclosure(s)." in text
    assert (
        "Repeated: 3 disclosures to this recipient for this purpose, the first on 2026-02-01, "
        "the last on 2026-08-01 (45 CFR 164.528(b)(3))." in text
    )
    assert "Decisions: d-a1, d-a2, d-a3" in text
    assert "Decision: d-b1" in text
    # The group whose latest disclosure is newest comes first.
    assert text.index("County Health") < text.index("State Board")


def test_unnamed_recipients_are_never_summarised_as_one():
    recs = [
        record(
            when=f"2026-0{month}-01T09:00:00Z",
            purpose="required_by_law",
            recipient=("other", None, None),
            basis=["REQUIRED_BY_LAW"],
            decision_id=f"d-u{month}",
        )
        for month in (3, 4)
    ]
    text = accounting.render(build(recs), "text", window=window(), part2=False)
    assert "Repeated" not in text
    assert "Decision: d-u4" in text
    assert "Decision: d-u3" in text


def test_the_recipients_address_comes_from_the_logged_request():
    rec = record(
        purpose="law_enforcement",
        recipient=("law_enforcement", "le-0001", "Synthetic Police Dept"),
        basis=["LAW_ENFORCEMENT"],
        decision_id="d-addr",
    )
    rec["input"]["recipient"] = {"type": "law_enforcement", "address": "1 Example Plaza, Testville"}
    (got,) = build([rec])
    assert got["recipient"]["address"] == "1 Example Plaza, Testville"
    text = accounting.render([got], "text", window=window(), part2=False)
    assert "Address: 1 Example Plaza, Testville" in text
    (row,) = csv.DictReader(
        io.StringIO(accounting.render([got], "csv", window=window(), part2=False))
    )
    assert row["recipient_address"] == "1 Example Plaza, Testville"


def test_text_for_an_empty_accounting():
    text = accounting.render([], "text", window=window(3), part2=True)
    assert "42 CFR 2.25" in text
    assert "No accountable disclosures in this period." in text


# ---------------------------------------------------------------- the command


def run_command(tmp_path, argv: list[str], env: dict[str, str], capsys):
    parser = argparse.ArgumentParser()
    accounting.add_arguments(parser)
    args = parser.parse_args(argv)
    code = args.func(args, environ=env, today=TODAY)
    out, err = capsys.readouterr()
    return code, out, err


def test_command_uses_the_configured_key(tmp_path, capsys):
    log = write_log(
        tmp_path / "d.jsonl",
        [record(when=RECENT, decision_id="d-1")],
        extra="garbage\n",
    )
    env = {"HIPAA_GATE_PATIENT_REF_KEY": KEY}
    code, out, err = run_command(
        tmp_path, ["--patient", PATIENT, "--format", "json", str(log)], env, capsys
    )
    # Printed, but exit 1: a line could not be read, so the accounting may be incomplete.
    assert code == 1
    assert [e["decision_id"] for e in json.loads(out)] == ["d-1"]
    assert f"{log}:2: not valid JSON" in err
    assert "1 log line(s) could not be read" in err
    # Another key yields another patient_ref: nothing matches.
    env = {"HIPAA_GATE_PATIENT_REF_KEY": "another-key-0123456789"}
    code, out, _ = run_command(
        tmp_path, ["--patient", PATIENT, "--format", "json", str(log)], env, capsys
    )
    assert (code, json.loads(out)) == (1, [])


def test_command_warns_when_a_record_of_the_patient_cannot_be_placed_in_time(tmp_path, capsys):
    undated = record(when=RECENT.removesuffix("Z"), decision_id="d-no-offset")
    log = write_log(tmp_path / "d.jsonl", [record(when=RECENT, decision_id="d-1"), undated])
    env = {"HIPAA_GATE_PATIENT_REF_KEY": KEY}
    code, out, err = run_command(
        tmp_path, ["--patient", PATIENT, "--format", "json", str(log)], env, capsys
    )
    assert (code, [e["decision_id"] for e in json.loads(out)]) == (1, ["d-1"])
    assert "decision d-no-offset" in err
    assert "bad timestamp" in err
    assert "the accounting may be incomplete" in err


def test_command_uses_the_development_key_only_in_dev_mode(tmp_path, capsys):
    rec = record(decision_id="d-dev", when=RECENT)
    rec["patient_ref"] = patient_ref(DEVELOPMENT_KEY, PATIENT)
    log = write_log(tmp_path / "d.jsonl", [rec])
    argv = ["--patient", PATIENT, "--format", "json", str(log)]
    code, out, _ = run_command(tmp_path, argv, {"HIPAA_GATE_DEV_MODE": "1"}, capsys)
    assert (code, [e["decision_id"] for e in json.loads(out)]) == (0, ["d-dev"])
    code, out, err = run_command(tmp_path, argv, {}, capsys)
    assert code == 2
    assert out == ""
    assert "PATIENT_REF_KEY" in err


def test_command_reports_an_unreadable_file(tmp_path, capsys):
    env = {"HIPAA_GATE_PATIENT_REF_KEY": KEY}
    code, _, err = run_command(
        tmp_path, ["--patient", PATIENT, str(tmp_path / "missing.jsonl")], env, capsys
    )
    assert code == 2
    assert "cannot read" in err
    assert "missing.jsonl" in err


# ---------------------------------------------------------------- end to end (real decisions)

E2E_PATIENT = "p-test-0001"
E2E_OTHER = "p-test-0002"
PRIVACY_OFFICER = {"user_id": "u-po-0001", "roles": ["privacy_officer"], "mfa": True}


def disclosure(
    purpose: str,
    recipient_type: str,
    recipient_id: str,
    name: str,
    *,
    patient: str = E2E_PATIENT,
    requester: dict | None = None,
    categories: list[str] | None = None,
    context: dict | None = None,
    authorizations: list[dict] | None = None,
    data: dict | None = None,
    patient_fields: dict | None = None,
    recipient_fields: dict | None = None,
) -> dict:
    """A decision request (docs/api.md, request) with synthetic ids."""
    body = {
        "requester": requester or PRIVACY_OFFICER,
        "patient": {"id": patient, "state": "CA", "age": 54, **(patient_fields or {})},
        "recipient": {
            "type": recipient_type,
            "id": recipient_id,
            "name": name,
            "identity_verified": True,
            **(recipient_fields or {}),
        },
        "purpose": purpose,
        "data": {"categories": categories or ["general"], **(data or {})},
    }
    if context:
        body["context"] = context
    if authorizations:
        body["authorizations"] = authorizations
    return body


def authorization(kind: str, purposes: list[str], categories: list[str], **fields) -> dict:
    return {
        "id": f"auth-{kind}",
        "type": kind,
        "signed": True,
        "signed_on": "2026-01-10",
        "expires_on": None,
        "revoked": False,
        "recipients": ["*"],
        "recipient_types": fields.pop("recipient_types", []),
        "purposes": purposes,
        "categories": categories,
        **fields,
    }


#: Allowed disclosures that 164.528(a)(1) does not exclude: they must be in the accounting.
ACCOUNTABLE = {
    "public_health": disclosure(
        "public_health", "public_health_authority", "pha-0001", "County Public Health"
    ),
    "hhs": disclosure("hhs_compliance", "hhs", "hhs-ocr-0001", "HHS Office for Civil Rights"),
    "law_enforcement_order": disclosure(
        "law_enforcement",
        "law_enforcement",
        "le-0001",
        "Synthetic Police Department",
        context={"court_order": True},
        recipient_fields={"address": "1 Example Plaza, Testville"},
    ),
    "court_order": disclosure(
        "judicial_proceeding",
        "court",
        "court-0001",
        "Synthetic County Court",
        context={"court_order": True},
    ),
    "health_oversight": disclosure(
        "health_oversight", "health_oversight_agency", "hoa-0001", "State Medical Board"
    ),
    "coroner": disclosure(
        "coroner_medical_examiner", "coroner_medical_examiner", "me-0001", "County Coroner"
    ),
    "research_waiver": disclosure(
        "research",
        "researcher",
        "res-0001",
        "Synthetic Outcomes Study",
        requester={"user_id": "u-res-0001", "roles": ["researcher"], "mfa": True},
        context={"irb_waiver_id": "irb-0001"},
    ),
    # v1.2 pathways (rule A): accountable, each quoting the paragraph its rule rests on.
    "workers_compensation": disclosure(
        "workers_compensation",
        "workers_compensation_insurer",
        "wc-0001",
        "Synthetic Comp Insurer",
        context={"authorized_by_law": True},
    ),
    "child_abuse_report": disclosure(
        "abuse_report",
        "government_agency",
        "cps-0001",
        "Synthetic Child Protective Services",
        context={"abuse_victim": "child"},
    ),
    "part2_consented_public_health": disclosure(
        "public_health",
        "public_health_authority",
        "pha-0001",
        "County Public Health",
        categories=["substance_use_disorder"],
        authorizations=[
            authorization(
                "part2_consent",
                ["public_health"],
                ["substance_use_disorder"],
                recipient_types=["public_health_authority"],
            )
        ],
    ),
}

#: Allowed disclosures that 164.528(a)(1) excludes: they must not be in the accounting.
EXCLUDED = {
    "treatment": disclosure(
        "treatment",
        "provider",
        "npi-0000000001",
        "Test Cardiology",
        requester={"user_id": "u-102", "roles": ["physician"], "mfa": True},
    ),
    "payment": disclosure(
        "payment",
        "health_plan",
        "plan-0001",
        "Synthetic Health Plan",
        requester={"user_id": "u-201", "roles": ["billing_specialist"], "mfa": True},
        data={"elements": ["member_id", "billing_codes"]},
    ),
    "to_the_patient": disclosure("individual_access", "patient", "p-test-0001", "The patient"),
    "authorization": disclosure(
        "marketing",
        "other",
        "org-0001",
        "Synthetic Marketing Partner",
        authorizations=[authorization("hipaa_authorization", ["marketing"], ["general"])],
    ),
    "national_security": disclosure(
        "specialized_government_function",
        "government_agency",
        "fed-0001",
        "Synthetic Federal Agency",
        context={"government_function": "national_security"},
    ),
    "family_notification": disclosure(
        "family_notification",
        "family",
        "fam-0002",
        "Family member",
        patient_fields={"present": True, "agrees": True},
        data={"elements": ["general_condition"]},
    ),
    "family_involved_in_care": disclosure(
        "family_involvement",
        "family",
        "fam-0001",
        "Family member",
        patient_fields={"present": True, "agrees": True},
        recipient_fields={"involved_in_care": True},
        data={"elements": ["general_condition"]},
    ),
    "limited_data_set": disclosure(
        "research",
        "researcher",
        "res-0001",
        "Synthetic Outcomes Study",
        requester={"user_id": "u-res-0001", "roles": ["researcher"], "mfa": True},
        context={"data_use_agreement_id": "dua-0001"},
        data={"form": "limited_data_set", "elements": ["diagnoses", "dates_of_service"]},
    ),
    "part2_tpo_consent_treatment": disclosure(
        "treatment",
        "provider",
        "npi-0000000001",
        "Test Cardiology",
        requester={"user_id": "u-102", "roles": ["physician"], "mfa": True},
        categories=["substance_use_disorder"],
        authorizations=[
            authorization("part2_tpo_consent", ["treatment"], ["substance_use_disorder"])
        ],
    ),
}

#: Decisions that must not appear for the patient either: another patient's, a denied one.
OTHERS = {
    "other_patient": disclosure(
        "public_health",
        "public_health_authority",
        "pha-0001",
        "County Public Health",
        patient=E2E_OTHER,
    ),
}
DENIED = {
    "law_enforcement_without_order": disclosure(
        "law_enforcement", "law_enforcement", "le-0001", "Synthetic Police Department"
    ),
}


def drive(client, bodies: dict[str, dict]) -> dict[str, dict]:
    """POST every body to the running shim; ``{name: response JSON}``."""
    answers = {}
    for name, body in bodies.items():
        resp = client.post("/v1/disclosures/decide", json=body)
        assert resp.status_code == 200, (name, resp.get_json())
        answers[name] = resp.get_json()
    return answers


@pytest.mark.integration
def test_accounting_of_a_log_written_by_the_running_service(
    client, decision_log_path, tmp_path, capsys, monkeypatch
):
    from service.cli.main import main

    accountable = drive(client, ACCOUNTABLE)
    excluded = drive(client, EXCLUDED)
    others = drive(client, OTHERS)
    denied = drive(client, DENIED)
    for name, answer in {**accountable, **excluded, **others}.items():
        assert answer["allow"] is True, (name, answer["reasons"])
    for name, answer in denied.items():
        assert answer["allow"] is False, name
    # A rotated, compressed copy overlapping the live file: read in any order, deduplicated.
    rotated = tmp_path / "decision-log.jsonl.1.gz"
    with gzip.open(rotated, "wb") as handle:
        handle.write(decision_log_path.read_bytes())
    # The app under test used the development key.
    monkeypatch.setenv("HIPAA_GATE_DEV_MODE", "1")

    logs = [str(rotated), str(decision_log_path)]
    code = main(["accounting", "--patient", E2E_PATIENT, "--format", "json", *logs])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    entries = json.loads(out)
    assert sorted(e["decision_id"] for e in entries) == sorted(
        a["decision_id"] for a in accountable.values()
    )
    stamps = [e["disclosed_at"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    le = next(
        e
        for e in entries
        if e["decision_id"] == accountable["law_enforcement_order"]["decision_id"]
    )
    assert le["recipient"] == {
        "type": "law_enforcement",
        "id": "le-0001",
        "name": "Synthetic Police Department",
        "address": "1 Example Plaza, Testville",  # from the request, through the logged input
    }
    assert le["purpose"] == "law_enforcement"
    assert le["basis"] == [
        {
            "code": "LAW_ENFORCEMENT",
            "statement": "a law enforcement purpose (court order, warrant or subpoena)",
            # As logged: the rule's own citation (decision-api.md §5 v1.2).
            "citation": "45 CFR 164.512(f)(1)(ii)(A)",
        }
    ]
    assert "164.512(f)" in le["purpose_statement"]
    # v1.2: the log itself keeps the policy's own citation with each basis.
    logged = [json.loads(line) for line in decision_log_path.read_text().splitlines()]
    le_record = next(
        r for r in logged if r["decision_id"] == accountable["law_enforcement_order"]["decision_id"]
    )
    assert le_record["basis"] == [
        {"code": "LAW_ENFORCEMENT", "rule": "P14", "citation": "45 CFR 164.512(f)(1)(ii)(A)"}
    ]
    wc = next(
        e for e in entries if e["decision_id"] == accountable["workers_compensation"]["decision_id"]
    )
    assert wc["purpose_statement"] == (
        "Disclosed for workers' compensation, permitted for a workers' compensation law "
        "(45 CFR 164.512(l))."
    )

    # Text: the two public health disclosures to one authority are grouped (164.528(b)(3)).
    code = main(["accounting", "--patient", E2E_PATIENT, *logs])
    out, _ = capsys.readouterr()
    assert code == 0
    assert f"{len(ACCOUNTABLE)} disclosure(s)." in out
    assert out.count("Repeated: 2 disclosures to this recipient for this purpose") == 1
    assert out.count("Recipient: County Public Health (public_health_authority, pha-0001)") == 1

    code = main(["accounting", "--patient", E2E_PATIENT, "--part2", "--format", "json", *logs])
    out, _ = capsys.readouterr()
    assert code == 0
    assert [e["decision_id"] for e in json.loads(out)] == [
        accountable["part2_consented_public_health"]["decision_id"]
    ]

    code = main(["accounting", "--patient", E2E_OTHER, "--format", "json", *logs])
    out, _ = capsys.readouterr()
    assert code == 0
    assert [e["decision_id"] for e in json.loads(out)] == [others["other_patient"]["decision_id"]]
