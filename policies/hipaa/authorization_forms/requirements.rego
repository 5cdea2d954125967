# METADATA
# title: Authorization form requirements
# description: |
#   What a valid HIPAA authorization (45 CFR 164.508), psychotherapy-notes authorization
#   (164.508(b)(3)(ii)) or 42 CFR Part 2 consent (2.31, 2.32) must contain for given states,
#   categories, purpose, recipient type and document type, each item with its citation: the
#   policy data data.config.authorization_forms (federal items and the states' form
#   requirements) and the state law matrix's redisclosure statements. Served as
#   data.hipaa.authorization_forms.requirements (POST /v1/authorizations/requirements) and
#   used by hipaa.authorizations to check an authorization's `elements_present`.
package hipaa.authorization_forms

import data.hipaa.authorization_forms.items
import data.hipaa.part2
import data.hipaa.validation

# Wording kept once in the policy, referred to by `text_ref` in the data.
_texts := {"part2_notice": part2.notice_text, "part2_enclosure": part2.enclosure}

_with_text(item) := object.union(object.remove(item, ["text_ref"]), {"text": _texts[item.text_ref]}) if item.text_ref

else := item

_states contains state if {
	some state in validation.states_or_null
	state != null
}

# --- the document -----------------------------------------------------------------------------

# METADATA
# title: requirements
# description: |
#   {"errors": [{path, message}]} for a malformed or unknown value (the shim answers 400), else
#   the request echoed with `requirements` (federal items first, then each state's, then the
#   notices), `warnings` and the requested states that add no requirement to this document.
requirements := {"errors": errors} if count(errors) > 0

else := {
	"type": input.type,
	"states": _requested_states,
	"categories": _requested_categories,
	"purpose": input.purpose,
	"recipient_type": input.recipient_type,
	"requirements": [_with_text(item) |
		some item in _applicable
	],
	"warnings": warnings(_requested_categories, input.type),
	"states_without_form_requirements": [s |
		some s in _requested_states
		count(items.state_items(s, _parent_categories, input.purpose, input.recipient_type, input.type)) == 0
	],
}

_requested_states := sort({s | some s in input.states})

_requested_categories := sort({c | some c in input.categories})

_parent_categories := items.with_parents(_requested_categories)

_applicable := items.applicable(_requested_states, _requested_categories, input.purpose, _recipient_type, input.type)

_recipient_type := input.recipient_type

# --- errors (naming the field and the value) ----------------------------------------------------

# METADATA
# title: errors
# description: Every malformed or unknown value of the request, ordered by JSON pointer.
errors := [_error(pair[0], pair[1]) | some pair in sort([[e.path, e.message] | some e in _errors])]

_errors contains _error("/states", "a list of state codes is required") if not is_array(input.states)

_errors contains _error(sprintf("/states/%d", [i]), sprintf("unknown state: %v", [s])) if {
	some i, s in input.states
	not s in _states
}

_errors contains _error("/categories", "a non-empty list of categories is required") if not _non_empty(input.categories)

_errors contains _error(sprintf("/categories/%d", [i]), sprintf("unknown category: %v", [c])) if {
	some i, c in input.categories
	not c in validation.categories
}

_errors contains _error("/purpose", sprintf("unknown purpose: %v", [_given("purpose")])) if {
	not _given("purpose") in validation.purposes
}

_errors contains _error("/recipient_type", sprintf("unknown recipient type: %v", [_given("recipient_type")])) if {
	not _given("recipient_type") in validation.recipient_types
}

_errors contains _error("/type", sprintf("unknown document type: %v", [_given("type")])) if {
	not _given("type") in validation.authorization_types
}

_error(path, message) := {"path": path, "message": message}

_given(name) := object.get(input, name, null)

_non_empty(list) if {
	is_array(list)
	count(list) > 0
}

# --- the items ----------------------------------------------------------------------------------

# --- warnings -----------------------------------------------------------------------------------

_part2_types := {"part2_consent", "part2_tpo_consent", "sud_counseling_notes_consent", "part2_proceedings_consent"}

# METADATA
# title: warnings
# description: Document types that cannot serve the requested categories.
warnings(categories, type) := sort([w |
	some w in ((_sud_warning(categories, type) | _notes_warning(categories, type)) | _notes_only_warning(categories, type))
])

_sud_warning(categories, type) := {{
	"code": "HIPAA_AUTHORIZATION_IS_NOT_A_PART2_CONSENT",
	"citation": "42 CFR 2.31, 2.32",
	"message": concat(" ", [
		"Records of a 42 CFR Part 2 program need a Part 2 consent (type part2_consent or part2_tpo_consent);",
		"a HIPAA authorization is not one.",
	]),
}} if {
	"substance_use_disorder" in categories
	not type in _part2_types
} else := set()

_notes_warning(categories, type) := {{
	"code": "PSYCHOTHERAPY_NOTES_NEED_THEIR_OWN_AUTHORIZATION",
	"citation": "45 CFR 164.508(a)(2), (b)(3)(ii)",
	"message": concat(" ", [
		"Psychotherapy notes need a psychotherapy_notes_authorization,",
		"not combined with an authorization for other information.",
	]),
}} if {
	"psychotherapy_notes" in categories
	type != "psychotherapy_notes_authorization"
} else := set()

_notes_only_warning(categories, type) := {{
	"code": "PSYCHOTHERAPY_NOTES_AUTHORIZATION_COVERS_ONLY_THEM",
	"citation": "45 CFR 164.508(b)(3)(ii)",
	"message": "A psychotherapy_notes_authorization may name only psychotherapy notes.",
}} if {
	type == "psychotherapy_notes_authorization"
	some category in categories
	category != "psychotherapy_notes"
} else := set()
