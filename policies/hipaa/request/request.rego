# METADATA
# title: The request, normalized
# description: |
#   The facts of the OPA input every rule family reads, with the contract's defaults applied
#   (decision-api.md §3), so that a missing optional field behaves like its default and a
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
