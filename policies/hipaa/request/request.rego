# METADATA
# title: The request, normalized
# description: |
#   The facts of the OPA input every rule family reads, with the contract's defaults applied
#   (docs/api.md (request)), so that a missing optional field behaves like its default and a
#   wrong type never matches a permission. hipaa.validation rejects malformed input first.
#   Rules compare input.purpose and input.recipient.type directly (OPA indexes `==` on input
#   refs, so rule families that cannot match are skipped).
package hipaa.request

import data.hipaa.lib

# The recipient id as compared with registries and authorizations (hipaa.lib.id_key).
recipient_id := lib.id_key(input.recipient.id) if is_string(input.recipient.id)

categories := {c | some c in input.data.categories}

# Requested elements (empty when none were named).
default elements := set()

elements := {e | some e in input.data.elements} if is_array(input.data.elements)

form := object.get(input, ["data", "form"], "identified")

record_count := object.get(input, ["data", "record_count"], 1)

# Patient facts: each true only when the input says exactly true.
patient(flag) if input.patient[flag] == true

# Context flags: each true only when the input says exactly true.
context(flag) if input.context[flag] == true

# A context identifier (approval, DUA, IRB waiver) that is a non-empty string.
context_id(name) if {
	is_string(input.context[name])
	input.context[name] != ""
}

# SUD information is Part 2 information unless the request says `part2_program: false`
# (the shim defaults it to true when substance_use_disorder is requested).
part2_program if object.get(input, ["data", "part2_program"], true) != false

# The decision time in nanoseconds and as a UTC date (YYYY-MM-DD).
now_ns := time.parse_rfc3339_ns(input.now)

today := time.format([now_ns, "UTC", "2006-01-02"])

# `entry` (with effective_on / expires_on dates, either may be null) is in force today. A date
# that is not a YYYY-MM-DD calendar date (e.g. "31-12-2025") never counts as in force: the text
# comparison with `today` is only meaningful for that format (fail closed).
in_force(entry) if {
	_started(entry)
	_not_ended(entry)
}

_started(entry) if object.get(entry, "effective_on", null) == null

_started(entry) if {
	is_string(entry.effective_on)
	entry.effective_on <= today
	_date(entry.effective_on)
}

_not_ended(entry) if object.get(entry, "expires_on", null) == null

_not_ended(entry) if {
	is_string(entry.expires_on)
	entry.expires_on >= today
	_date(entry.expires_on)
}

# A calendar date in the YYYY-MM-DD form (Go's parser rejects other forms and impossible dates).
_date(text) if is_number(time.parse_ns("2006-01-02", text))

tpo := {"treatment", "payment", "health_care_operations"}

# The legal process behind a proceeding or law-enforcement disclosure (docs/api.md
# `context.legal_process`), as boolean facts with one indexed comparison per body. The v1 flags
# map onto them: `court_order` true is a court order; `subpoena` true is a subpoena of unknown
# issuer, enough for P13 with assurances and not for P14 (validation refuses a v1 flag set to true
# beside `legal_process`).

# An order of the court: a court order, a court-ordered warrant, or a subpoena or summons signed
# by a judicial officer (45 CFR 164.512(e)(1)(i), (f)(1)(ii)(A)).
court_ordered if input.context.legal_process == "court_order"

court_ordered if input.context.legal_process == "court_ordered_warrant"

court_ordered if input.context.legal_process == "judicial_subpoena"

court_ordered if input.context.court_order == true

# Process that compels the disclosure: "required by law" (45 CFR 164.103), so minimum necessary
# does not apply (164.502(b)(2)(v)) and psychotherapy notes may follow it (164.508(a)(2)(ii)).
compulsory_process if court_ordered

compulsory_process if input.context.legal_process == "grand_jury_subpoena"

# Lawful process that is not an order of the court (P13 needs satisfactory assurances with it).
other_process if input.context.legal_process == "grand_jury_subpoena"

other_process if input.context.legal_process == "attorney_subpoena"

other_process if input.context.legal_process == "discovery_request"

other_process if input.context.legal_process == "administrative_request"

other_process if input.context.subpoena == true

# Law-enforcement situations other than legal process (45 CFR 164.512(f)(2)-(6), rule P26).
law_enforcement_reason := object.get(input, ["context", "law_enforcement_reason"], null)

# The patient's known objection: `objects` true, or `agrees` false (a refusal is an objection,
# 45 CFR 164.510(b)(2)(ii)).
objection if input.patient.objects == true

objection if input.patient.agrees == false
