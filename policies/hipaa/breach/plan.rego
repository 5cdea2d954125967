# METADATA
# title: Breach-notification planner
# description: |
#   `data.hipaa.breach.plan`, served by the shim as POST /v1/breach-notifications/plan.
#
#   Input (the request body):
#     {"discovered_on": "2026-11-02", "affected": {"CA": 1200, "TX": 40}, "part2_records": false,
#      "covered_entity": true}
#   `discovered_on` is a calendar date; `affected` maps USPS codes (50 states, DC and the
#   territories) to non-negative integer counts of residents; `part2_records` and
#   `covered_entity` (the notifier is a HIPAA covered entity or business associate notifying a PHI
#   breach under 45 CFR 164.400-414) are optional booleans, default false.
#
#   With `covered_entity` true, a state whose law deems a HIPAA-compliant notice sufficient
#   (`breach_notice.hipaa_deemed_compliance` in the matrix) lists the duties that notice meets with
#   `met_by_hipaa_notice: true`, no deadline and the state's citation, instead of its own clock;
#   notices it still requires on the HIPAA timing fall on the federal individual-notice date.
#   Without it nothing changes.
#
#   Invalid input gives ONLY an error list, sorted by path (JSON Pointer into the body):
#     {"errors": [{"path": "/discovered_on", "message": "must be a calendar date YYYY-MM-DD"},
#                 {"path": "/affected/ZZ", "message": "unknown state code ..."}]}
#   ("" is the path of the whole body). The shim answers 400 `invalid_request` with them.
#
#   Valid input gives the plan (no `errors` key):
#     {"discovered_on", "total_affected",
#      "federal": {"individuals", "media": [...per state over 500], "hhs"},
#      "states": {"CA": {"name", "residents", "in_matrix", "individual_notice",
#                        "regulator_notices": [...], "citation", "confidence"}},
#      "deadlines": [{"date", "duty", "recipient", "name", "state", "citation"}] (sorted by date),
#      "entity_specific_deadlines": [...] (duties binding only some entities, e.g. CA H&S 1280.15),
#      "earliest_deadline": {"date", "duties": [...]} | null,
#      "part2": {...} when part2_records is true}
#   Dates are calendar days from `discovered_on` (time.add_date, UTC). Business days skip
#   Saturdays and Sundays only (holidays are not known to the policy). Where a state law
#   gives no number of days the entry says so and falls back to the federal 60-day limit.
package hipaa.breach

# 50 states, DC and the territories HIPAA treats as States (45 CFR 160.103 "State"): the
# vocabulary's states (policies/config/vocabulary/data.json).
_us_codes := object.keys(data.config.vocabulary.states)

# Fields the body may carry (`now` and `request_id` may be added by the shim).
_known_fields := {"discovered_on", "affected", "part2_records", "covered_entity", "now", "request_id"}

_federal_days := 60

_date_layout := "2006-01-02"

# ---------------------------------------------------------------- validation

# The shim checks the body against its JSON Schema (the shape) and then asks this policy, which
# adds what the schema cannot say (a calendar date OPA can represent, a state of the vocabulary).
# Queried directly, the policy refuses malformed input itself rather than planning from it: a
# lower-case or unknown code, a negative or fractional count or a misspelt field would otherwise
# drop duties from the plan without a word.

_fields := object.keys(input) if is_object(input)

_errors contains {"path": "", "message": "the body must be a JSON object"} if not is_object(input)

_errors contains {"path": "/discovered_on", "message": "is required"} if {
	is_object(input)
	not "discovered_on" in _fields
}

_errors contains {"path": "/discovered_on", "message": "must be a calendar date YYYY-MM-DD (years 1900-2999)"} if {
	"discovered_on" in _fields
	not _discovered_ns
}

_errors contains {"path": "/affected", "message": "is required"} if {
	is_object(input)
	not "affected" in _fields
}

_errors contains {"path": "/affected", "message": "must be an object mapping state codes to resident counts"} if {
	"affected" in _fields
	not is_object(input.affected)
}

_errors contains {"path": "/affected", "message": "must name at least one state"} if {
	is_object(input.affected)
	count(input.affected) == 0
}

_errors contains {"path": _pointer(["affected", code]), "message": _unknown_state} if {
	is_object(input.affected)
	some code, _ in input.affected
	not code in _us_codes
}

_errors contains {"path": _pointer(["affected", code]), "message": "must be a non-negative integer"} if {
	is_object(input.affected)
	some code, n in input.affected
	not _count(n)
}

_errors contains {"path": "/part2_records", "message": "must be a boolean"} if {
	"part2_records" in _fields
	not is_boolean(input.part2_records)
}

_errors contains {"path": "/covered_entity", "message": "must be a boolean"} if {
	"covered_entity" in _fields
	not is_boolean(input.covered_entity)
}

_errors contains {"path": _pointer([field]), "message": "unknown field"} if {
	some field in _fields
	not field in _known_fields
}

_unknown_state := "unknown state code (use a USPS code such as CA)"

_count(n) if {
	is_number(n)
	n >= 0
	n == floor(n)
}

# A JSON Pointer (RFC 6901) to a place in the body.
_pointer(parts) := concat("", [sprintf("/%s", [replace(replace(p, "~", "~0"), "/", "~1")]) | some p in parts])

_discovered_ns := ns if {
	is_string(input.discovered_on)
	regex.match(`^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$`, input.discovered_on)
	ns := time.parse_ns(_date_layout, input.discovered_on)
}

_error_list := [{"path": p, "message": m} | some [p, m] in sort({[e.path, e.message] | some e in _errors})]

# ---------------------------------------------------------------- the document

# METADATA
# scope: document
# title: plan
# description: The breach-notification plan, or an error list for invalid input (see the package description).
plan := {"errors": _error_list} if count(_errors) > 0

plan := object.union(_plan, _part2) if count(_errors) == 0

_plan := {
	"discovered_on": input.discovered_on,
	"total_affected": _total,
	"federal": {"individuals": _federal_individuals, "media": _media, "hhs": _hhs},
	"states": _states,
	"deadlines": _deadlines,
	"entity_specific_deadlines": _entity_specific_deadlines,
	"earliest_deadline": _earliest,
}

default _part2 := {}

_part2 := {"part2": {
	"citation": "42 CFR 2.16",
	"text": concat(" ", [
		"Records of a 42 CFR Part 2 program are involved. Since the 2024 Part 2 final rule",
		"(compliance date 2026-02-16) a Part 2 program notifies breaches of unsecured Part 2",
		"records as the HIPAA Breach Notification Rule requires (45 CFR 164.400-414), even",
		"when the program is not a covered entity; the federal duties in this plan apply to those records.",
	]),
}} if {
	input.part2_records == true
}

_total := sum([n | some n in input.affected])

# ---------------------------------------------------------------- dates

_date(ns) := time.format([ns, "UTC", _date_layout])

_plus_days(ns, n) := time.add_date(ns, 0, 0, n)

_plus_business_days(ns, 0) := ns

_plus_business_days(ns, n) := [d |
	some i in numbers.range(1, (2 * n) + 7)
	d := time.add_date(ns, 0, 0, i)
	not time.weekday(d) in {"Saturday", "Sunday"}
][n - 1] if {
	n > 0
}

_federal_deadline_ns := _plus_days(_discovered_ns, _federal_days)

# 164.408(c): within 60 days after the end of the calendar year of discovery.
_annual_hhs_ns := _plus_days(_year_end_ns, _federal_days)

_year_end_ns := time.parse_ns(_date_layout, sprintf("%04d-12-31", [time.date(_discovered_ns)[0]]))

# ---------------------------------------------------------------- federal duties

_federal_individuals := {
	"duty": "individual_notice",
	"recipient": "individuals",
	"required": _total > 0,
	"days": _federal_days,
	"deadline": _date(_federal_deadline_ns),
	"citation": "45 CFR 164.404(b)",
	"text": "Without unreasonable delay and in no case later than 60 calendar days after discovery.",
}

_media := [{
	"duty": "media_notice",
	"recipient": "media",
	"state": code,
	"residents": input.affected[code],
	"days": _federal_days,
	"deadline": _date(_federal_deadline_ns),
	"citation": "45 CFR 164.406",
	"text": "More than 500 residents of this State: notify prominent media outlets serving it within 60 days.",
} |
	some code in sort(object.keys(input.affected))
	input.affected[code] > 500
]

_hhs := {
	"duty": "hhs_notice",
	"recipient": "hhs",
	"required": true,
	"timing": "with_individual_notice",
	"deadline": _date(_federal_deadline_ns),
	"citation": "45 CFR 164.408(b)",
	"text": "500 or more individuals: notify the Secretary with the individual notice, within 60 days of discovery.",
} if {
	_total >= 500
}

_hhs := {
	"duty": "hhs_notice",
	"recipient": "hhs",
	"required": _total > 0,
	"timing": "annual_log",
	"deadline": _date(_annual_hhs_ns),
	"citation": "45 CFR 164.408(c)",
	"text": "Fewer than 500 individuals: log it; notify the Secretary within 60 days after the calendar year ends.",
} if {
	_total < 500
}

_hhs_ns := _federal_deadline_ns if _total >= 500

_hhs_ns := _annual_hhs_ns if _total < 500

# ---------------------------------------------------------------- state duties

_law(code) := data.config.state_laws[code].breach_notice

_states[code] := object.union(_state_common(code, n), _state_law(code, n)) if {
	some code, n in input.affected
}

_state_common(code, n) := {"residents": n, "in_matrix": _in_matrix(code)}

default _in_matrix(_) := false

_in_matrix(code) if _law(code)

_state_law(code, n) := object.union(
	{
		"name": data.config.state_laws[code].name,
		"individual_notice": _individual(code, n),
		"regulator_notices": [_notice(code, n, notice) | some notice in _law_notices(code)],
		"citation": _law(code).citation,
		"confidence": _law(code).confidence,
	},
	_deemed_block(code),
) if {
	_law(code)
}

_state_law(code, n) := {
	"individual_notice": _individual(code, n),
	"regulator_notices": [],
	"note": "Not in the state law matrix: its breach law is not encoded; the federal duties apply; check its law.",
} if {
	not _law(code)
}

_law_notices(code) := array.concat([ag | ag := _law(code).attorney_general; is_object(ag)], _law(code).other_notices)

_state_days(code) := _law(code).individual_days if is_number(_law(code).individual_days)

# HIPAA deemed compliance: the notifier is a HIPAA covered entity (input) and the state deems a
# notice under the HIPAA breach rule sufficient for some of its duties (matrix).
_deemed(code) := dc if {
	input.covered_entity == true
	dc := _law(code).hipaa_deemed_compliance
}

# The HIPAA notice meets this duty (`individual_notice` or a notice's recipient).
_met(code, duty) if duty in _deemed(code).met

# The state still wants this notice, on the HIPAA clock (the federal individual-notice date).
_hipaa_timing(code, recipient) if recipient in _deemed(code).hipaa_timing

default _deemed_block(_) := {}

_deemed_block(code) := {"hipaa_deemed_compliance": _deemed(code)}

# The state's own individual-notice clock, unless the HIPAA notice meets that duty.
_state_clock(code) := _state_days(code) if not _met(code, "individual_notice")

# The date by which the state's residents must be told (state days, else the federal limit; the
# federal date too when the HIPAA notice meets the duty).
_individual_ns(code) := _plus_days(_discovered_ns, _state_clock(code))

_individual_ns(code) := _federal_deadline_ns if not _state_clock(code)

_individual(code, n) := {
	"duty": "individual_notice",
	"required": n > 0,
	"days": _state_days(code),
	"deadline": _date(_individual_ns(code)),
	"falls_back_to_federal": false,
	"citation": _law(code).citation,
	"text": _law(code).individual_text,
} if {
	_state_clock(code)
}

_individual(code, n) := {
	"duty": "individual_notice",
	"required": n > 0,
	"days": null,
	"deadline": _date(_individual_ns(code)),
	"falls_back_to_federal": true,
	"citation": _individual_citation(code),
	"text": "The state law gives no number of days; the federal 60-day outer limit (45 CFR 164.404(b)) applies.",
} if {
	not _state_days(code)
	not _met(code, "individual_notice")
}

_individual(code, _) := {
	"duty": "individual_notice",
	"required": false,
	"met_by_hipaa_notice": true,
	"days": null,
	"deadline": null,
	"falls_back_to_federal": false,
	"citation": _deemed(code).citation,
	"text": _deemed(code).text,
} if {
	_met(code, "individual_notice")
}

default _individual_citation(_) := "45 CFR 164.404(b)"

_individual_citation(code) := _law(code).citation

_triggered(null, n) if n > 0

_triggered(threshold, n) if {
	threshold.counts == "state_residents"
	n >= threshold.min_residents
}

_triggered(threshold, n) if {
	threshold.counts == "all_affected"
	n > 0
	_total >= threshold.min_residents
}

_anchor_ns(_, "discovery") := _discovered_ns

_anchor_ns(code, "individual_notice") := _individual_ns(code)

_anchor_ns(_, "hhs_notice") := _hhs_ns

_notice_ns(code, deadline) := _anchor_ns(code, deadline.from) if not is_number(deadline.days)

_notice_ns(code, deadline) := _plus_days(_anchor_ns(code, deadline.from), deadline.days) if {
	is_number(deadline.days)
	deadline.business_days == false
}

_notice_ns(code, deadline) := _plus_business_days(_anchor_ns(code, deadline.from), deadline.days) if {
	is_number(deadline.days)
	deadline.business_days == true
}

# A state regulator notice: its own clock; met by the HIPAA notice; or still owed on the HIPAA clock.
_notice(code, n, notice) := object.union(_notice_fields(notice), {
	"required": true,
	"deadline": _date(_notice_ns(code, notice.deadline)),
}) if {
	not _met(code, notice.recipient)
	not _hipaa_timing(code, notice.recipient)
	_triggered(notice.threshold, n)
}

_notice(code, n, notice) := object.union(_notice_fields(notice), {"required": false, "deadline": null}) if {
	not _met(code, notice.recipient)
	not _triggered(notice.threshold, n)
}

_notice(code, n, notice) := object.union(_notice_fields(notice), {
	"required": true,
	"deadline": _date(_federal_deadline_ns),
	"hipaa_timing": true,
	"hipaa_deemed_compliance_citation": _deemed(code).citation,
}) if {
	not _met(code, notice.recipient)
	_hipaa_timing(code, notice.recipient)
	_triggered(notice.threshold, n)
}

_notice(code, _, notice) := object.union(_notice_fields(notice), {
	"required": false,
	"deadline": null,
	"met_by_hipaa_notice": true,
	"hipaa_deemed_compliance_citation": _deemed(code).citation,
}) if {
	_met(code, notice.recipient)
}

_notice_fields(notice) := {
	"duty": "regulator_notice",
	"recipient": notice.recipient,
	"name": notice.name,
	"threshold": notice.threshold,
	"days": notice.deadline.days,
	"business_days": notice.deadline.business_days,
	"from": notice.deadline.from,
	"days_in_law": is_number(notice.deadline.days),
	"applies_to": notice.applies_to,
	"citation": notice.citation,
	"confidence": notice.confidence,
	"text": notice.deadline.text,
}

# ---------------------------------------------------------------- deadlines

# Every required duty as a sortable row: [date, state ("" for federal), duty, recipient, name, citation, applies_to].
_rows contains [
	_federal_individuals.deadline, "", "individual_notice", "individuals",
	"Affected individuals", _federal_individuals.citation, null,
] if {
	_total > 0
}

_rows contains [m.deadline, m.state, "media_notice", "media", "Prominent media outlets", m.citation, null] if {
	some m in _media
}

_rows contains [_hhs.deadline, "", "hhs_notice", "hhs", "Secretary of HHS", _hhs.citation, null] if {
	_hhs.required
}

_rows contains [
	s.individual_notice.deadline, code, "individual_notice", "individuals",
	"Affected residents", s.individual_notice.citation, null,
] if {
	some code, s in _states
	s.individual_notice.required
}

_rows contains [r.deadline, code, "regulator_notice", r.recipient, r.name, r.citation, r.applies_to] if {
	some code, s in _states
	some r in s.regulator_notices
	r.required
}

_row_object([date, state, duty, recipient, name, citation, applies_to]) := object.union(
	{
		"date": date, "duty": duty, "recipient": recipient, "name": name,
		"citation": citation, "state": _null_if_empty(state),
	},
	_applies_to(applies_to),
)

_null_if_empty("") := null

_null_if_empty(s) := s if s != ""

_applies_to(null) := {}

_applies_to(a) := {"applies_to": a} if a != null

_deadlines := [_row_object(row) | some row in sort(_rows); row[6] == null]

_entity_specific_deadlines := [_row_object(row) | some row in sort(_rows); row[6] != null]

_earliest := null if count(_deadlines) == 0

_earliest := {"date": first, "duties": [d | some d in _deadlines; d.date == first]} if {
	count(_deadlines) > 0
	first := _deadlines[0].date
}
