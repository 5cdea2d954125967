# METADATA
# title: Input validation
# description: |
#   Missing or malformed input never allows (rules.md, first paragraph): any problem found here
#   makes the decision a deny with INVALID_INPUT and nothing else. The shim's JSON Schema
#   normally rejects such a request first; this keeps the policy safe on `{}` or wrong types.
#   Enumerations are those of decision-api.md §3.
package hipaa.validation

import data.hipaa.lib

purposes := {
	"treatment", "payment", "health_care_operations", "individual_access", "family_involvement",
	"disaster_relief", "serious_threat", "medical_emergency", "required_by_law", "public_health",
	"health_oversight", "judicial_proceeding", "law_enforcement", "coroner_medical_examiner",
	"hhs_compliance", "research", "training", "legal_defense", "marketing", "sale_of_phi",
}

recipient_types := {
	"provider", "health_plan", "business_associate", "community_organization", "hie", "family",
	"friend", "caregiver", "patient", "personal_representative", "first_responder",
	"law_enforcement", "at_risk_person", "disaster_relief_organization", "public_health_authority",
	"health_oversight_agency", "court", "coroner_medical_examiner", "hhs", "researcher",
	"workforce", "other",
}

categories := {
	"general", "mental_health", "psychotherapy_notes", "substance_use_disorder",
	"sud_counseling_notes", "hiv", "std", "genetic", "reproductive_health",
}

forms := {"identified", "limited_data_set", "deidentified"}

# METADATA
# title: Invalid input
# description: The input is missing a required field, has a wrong type or an unknown value.
# custom:
#   rule: INPUT
#   code: INVALID_INPUT
#   citation: hipaa-gate decision API §3 (request); rules.md (malformed input never allows)
#   message: The request is incomplete or malformed; it is denied.
reasons contains lib.result(rego.metadata.chain(), {"details": _details}) if invalid

# The problems ordered by path.
_details := [{"path": pair[0], "message": pair[1]} | some pair in sort([[p.path, p.message] | some p in problems])]

# The fast path: the shim sends every field with its default filled in, and such a request passes
# these checks in one body. Anything else (a missing optional field included) is judged by
# `problems`, which applies the contract's defaults. The fast path is never laxer than `problems`.
invalid if {
	not _well_formed
	count(problems) > 0
}

_well_formed if {
	is_object(input)
	is_number(time.parse_rfc3339_ns(input.now))
	is_string(input.requester.user_id)
	input.requester.user_id != ""
	is_array(input.requester.roles)
	count(input.requester.roles) > 0
	count([r | some r in input.requester.roles; not is_string(r)]) == 0
	not "" in input.requester.roles
	is_boolean(input.requester.mfa)
	is_string(input.patient.id)
	input.patient.id != ""
	is_string(input.patient.state)
	input.patient.state != ""
	is_array(input.patient.restrictions)
	count([r | some r in input.patient.restrictions; not is_object(r)]) == 0
	input.recipient.type in recipient_types
	input.purpose in purposes
	is_array(input.data.categories)
	count(input.data.categories) > 0
	count([c | some c in input.data.categories; not c in categories]) == 0
	is_array(input.data.elements)
	count([e | some e in input.data.elements; not data.config.elements[e]]) == 0
	input.data.form in forms
	is_number(input.data.record_count)
	input.data.record_count >= 0
	is_array(input.authorizations)
	count([a | some a in input.authorizations; not is_object(a)]) == 0
	is_object(input.context)
}

# Each check is a positive helper rule negated here: `not f(input.x)` would be undefined (not
# true) when input.x is missing, so a missing field must reach `not` through a rule.
problems contains _problem("", "the input is not an object") if not _is_object_input

problems contains _problem("/now", "now is not an RFC 3339 time") if not _valid_now

problems contains _problem("/requester/user_id", "a non-empty string is required") if not _valid_user_id

problems contains _problem("/requester/roles", "a non-empty list of role names is required") if not _valid_roles

problems contains _problem("/requester/mfa", "a boolean is required") if not _valid_mfa

problems contains _problem("/patient/id", "a non-empty string is required") if not _valid_patient_id

problems contains _problem("/patient/state", "a non-empty string is required") if not _valid_patient_state

problems contains _problem("/patient/restrictions", "a list of restriction objects is required") if {
	not _valid_restrictions
}

problems contains _problem("/recipient/type", "one of the recipient types is required") if not _valid_recipient_type

problems contains _problem("/purpose", "one of the purposes is required") if not _valid_purpose

problems contains _problem("/data/categories", "a non-empty list of known categories is required") if {
	not _valid_categories
}

problems contains _problem("/data/elements", "a list of element ids from the element catalog is required") if {
	not _valid_elements
}

problems contains _problem("/data/form", "one of identified, limited_data_set, deidentified is required") if {
	not _valid_form
}

problems contains _problem("/data/record_count", "a non-negative number is required") if not _valid_record_count

problems contains _problem("/authorizations", "a list of authorization objects is required") if {
	not _valid_authorizations
}

problems contains _problem("/context", "an object is required") if not _valid_context

_is_object_input if is_object(input)

_valid_now if is_number(time.parse_rfc3339_ns(input.now))

_valid_user_id if _non_empty_string(input.requester.user_id)

_valid_roles if _non_empty_strings(input.requester.roles)

_valid_mfa if is_boolean(input.requester.mfa)

_valid_patient_id if _non_empty_string(input.patient.id)

_valid_patient_state if _non_empty_string(input.patient.state)

_valid_restrictions if _objects(object.get(input, ["patient", "restrictions"], []))

_valid_recipient_type if input.recipient.type in recipient_types

_valid_purpose if input.purpose in purposes

_valid_categories if _known_categories(input.data.categories)

_valid_elements if _known_elements(object.get(input, ["data", "elements"], []))

_valid_form if object.get(input, ["data", "form"], "identified") in forms

_valid_record_count if _non_negative(object.get(input, ["data", "record_count"], 1))

_valid_authorizations if _objects(object.get(input, "authorizations", []))

_valid_context if is_object(object.get(input, "context", {}))

_problem(path, message) := {"path": path, "message": message}

_non_empty_string(value) if {
	is_string(value)
	value != ""
}

_non_empty_strings(values) if {
	is_array(values)
	count(values) > 0
	every value in values {
		_non_empty_string(value)
	}
}

_known_categories(values) if {
	is_array(values)
	count(values) > 0
	every value in values {
		value in categories
	}
}

_known_elements(values) if {
	is_array(values)
	every value in values {
		is_string(value)
		data.config.elements[value]
	}
}

_objects(values) if {
	is_array(values)
	every value in values {
		is_object(value)
	}
}

_non_negative(value) if {
	is_number(value)
	value >= 0
}
