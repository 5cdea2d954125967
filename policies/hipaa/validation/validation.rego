# METADATA
# title: Input validation
# description: |
#   Missing or malformed input never allows (docs/rules.md): any problem found here makes the
#   decision a deny with INVALID_INPUT alone. The shim's JSON Schema normally rejects such a request
#   first; this keeps the policy safe on `{}` or wrong types. Every optional field the policy reads
#   is checked when present, by the type, enumeration or pattern of docs/api.md and its schema.
package hipaa.validation

import data.hipaa.lib

# The request vocabularies are the bundle's (policies/config/vocabulary/data.json), never copied
# here. The fast path looks values up in it by key (no set built per evaluation); these sets
# serve `problems` and the packages that list or check the same values.
purposes := object.keys(data.config.vocabulary.purposes)

recipient_types := object.keys(data.config.vocabulary.recipient_types)

categories := object.keys(data.config.vocabulary.categories)

authorization_types := object.keys(data.config.vocabulary.authorization_types)

# USPS codes (50 states, DC, the territories); null: an optional state not given.
states_or_null := object.keys(data.config.vocabulary.states) | {null}

forms := object.keys(data.config.vocabulary.forms)

restriction_reasons := {"paid_in_full", "agreed", null}

# Optional input fields the policy reads, by JSON pointer, with the path to read them by. When
# present each must have its type (request.schema.json); absent, the contract's default applies.
optional_booleans := {
	"/patient/present": ["patient", "present"],
	"/patient/incapacitated": ["patient", "incapacitated"],
	"/patient/deceased": ["patient", "deceased"],
	"/patient/minor_consented_care": ["patient", "minor_consented_care"],
	"/recipient/identity_verified": ["recipient", "identity_verified"],
	"/recipient/involved_in_care": ["recipient", "involved_in_care"],
	"/data/part2_program": ["data", "part2_program"],
	"/context/professional_judgment": ["context", "professional_judgment"],
	"/context/serious_imminent_threat": ["context", "serious_imminent_threat"],
	"/context/originator": ["context", "originator"],
	"/context/oversight_of_originator": ["context", "oversight_of_originator"],
	"/context/supervised_training": ["context", "supervised_training"],
	"/context/legal_action_by_patient": ["context", "legal_action_by_patient"],
	"/context/against_patient": ["context", "against_patient"],
	"/context/court_order": ["context", "court_order"],
	"/context/subpoena": ["context", "subpoena"],
	"/context/satisfactory_assurances": ["context", "satisfactory_assurances"],
	"/context/underwriting": ["context", "underwriting"],
}

# true, false or null ("not asked").
optional_nullable_booleans := {
	"/patient/agrees": ["patient", "agrees"],
	"/patient/objects": ["patient", "objects"],
}

# A string or null. An empty identifier is read as none (request.context_id), so it may pass here.
optional_strings := {
	"/recipient/id": ["recipient", "id"],
	"/context/approval_id": ["context", "approval_id"],
	"/context/data_use_agreement_id": ["context", "data_use_agreement_id"],
	"/context/irb_waiver_id": ["context", "irb_waiver_id"],
	"/context/rationale": ["context", "rationale"],
}

# Optional identifiers: null, "" (read as none) or an identifier (hipaa.lib.identifier_pattern).
optional_identifiers := {
	"/request_id": ["request_id"],
	"/requester/organization_id": ["requester", "organization_id"],
	"/recipient/id": ["recipient", "id"],
	"/context/approval_id": ["context", "approval_id"],
	"/context/data_use_agreement_id": ["context", "data_use_agreement_id"],
	"/context/irb_waiver_id": ["context", "irb_waiver_id"],
}

# The problem message of an identifier that does not have the identifier syntax.
_identifier_message := "an identifier (1 to 128 ASCII letters, digits and . _ : @ / -) is required"

# A state code or null.
optional_states := {
	"/requester/state": ["requester", "state"],
	"/recipient/state": ["recipient", "state"],
}

_nullable_booleans := {true, false, null}

_nullable_string_types := {"string", "null"}

# Restriction and authorization categories: a category or "*".
_scope_categories := object.union(data.config.vocabulary.categories, {"*": {}})

# METADATA
# title: Invalid input
# description: The input is missing a required field, has a wrong type or an unknown value.
# custom:
#   rule: INPUT
#   code: INVALID_INPUT
#   citation: docs/api.md (request); docs/rules.md (malformed input never allows)
#   message: The request is incomplete or malformed; it is denied.
reasons contains lib.result(rego.metadata.chain(), {"details": _details}) if invalid

# The problems ordered by path.
_details := [{"path": pair[0], "message": pair[1]} | some pair in sort([[p.path, p.message] | some p in problems])]

# The fast path: the shim sends every field with its default filled in, and such a request passes
# `_well_formed`. Anything else (a missing optional field or a null age included) is judged by
# `problems`, which applies the contract's defaults. The fast path is never laxer than `problems`.
invalid if {
	not _well_formed
	count(problems) > 0
}

# One body for the whole fast path, written once: a helper rule costs every decision a rule read.
# regal ignore:rule-length
_well_formed if {
	is_object(input)
	is_number(time.parse_rfc3339_ns(input.now))

	regex.match(`^\[\[(?:"[A-Za-z0-9._:@/-]{1,128}"(?:,"[A-Za-z0-9._:@/-]{1,128}")*)?\],\[(?:(?:null|"[A-Za-z0-9._:@/-]{0,128}")(?:,(?:null|"[A-Za-z0-9._:@/-]{0,128}"))*)?\]\]$`, json.marshal([
		[input.requester.user_id, input.patient.id], # every id field in one check (hipaa.lib.identifier)
		[
			input.recipient.id, input.context.approval_id, input.context.data_use_agreement_id,
			input.context.irb_waiver_id, object.get(input, "request_id", null), input.requester.organization_id,
		],
	]))
	is_array(input.requester.roles)
	count(input.requester.roles) > 0
	count([r | some r in input.requester.roles; not is_string(r)]) == 0
	not "" in input.requester.roles
	is_boolean(input.requester.mfa)
	is_array(input.patient.restrictions)
	count([r | some r in input.patient.restrictions; not _restriction(r)]) == 0

	# The vocabularies and the element catalog, read once: a lookup by key, no set built.
	config := data.config
	config.vocabulary.recipient_types[input.recipient.type]
	config.vocabulary.purposes[input.purpose]
	is_array(input.data.categories)
	count(input.data.categories) > 0
	count([c | some c in input.data.categories; not config.vocabulary.categories[c]]) == 0
	is_array(input.data.elements)
	count([e | some e in input.data.elements; not config.elements[e]]) == 0
	config.vocabulary.forms[input.data.form]
	config.vocabulary.states[input.patient.state]
	count([s | some s in [input.requester.state, input.recipient.state]; s != null; not config.vocabulary.states[s]]) == 0

	is_number(input.data.record_count)
	input.data.record_count >= 0
	is_array(input.authorizations)
	count([a | some a in input.authorizations; not _authorization(a)]) == 0
	_age_or_null(input.patient.age)
	{
		true, false, input.patient.present, input.patient.incapacitated, input.patient.deceased,
		input.patient.minor_consented_care, input.recipient.identity_verified, input.recipient.involved_in_care,
		input.data.part2_program, input.context.professional_judgment, input.context.serious_imminent_threat,
		input.context.originator, input.context.oversight_of_originator, input.context.supervised_training,
		input.context.legal_action_by_patient, input.context.against_patient, input.context.court_order,
		input.context.subpoena, input.context.satisfactory_assurances, input.context.underwriting,
		input.patient.inmate, input.data.part2_received_under_tpo_consent,
		input.context.administrative_request_conditions_met, input.context.victim_agrees,
		input.context.law_enforcement_representations, input.context.suspected_criminal_conduct,
		input.context.emergency_response_interference, input.context.patient_directed,
		input.context.representative_abuse_suspected, input.context.authorized_by_law,
		input.context.report_required_by_law, input.context.part2_court_order, input.context.break_glass,
	} == {true, false}
	{true, false, null, input.patient.agrees, input.patient.objects} == {true, false, null}
	type_name(input.context.rationale) in {"string", "null"}
	_v12_context_well_formed
}

# The v1.2 context enumerations, in two bodies: none given (four comparisons, here) or some
# given (validation_context.rego, whose name sorts after this file's, so OPA tries this one first).
_v12_context_well_formed if {
	input.context.legal_process == null
	input.context.law_enforcement_reason == null
	input.context.abuse_victim == null
	input.context.government_function == null
	input.purpose != "abuse_report"
	input.purpose != "specialized_government_function"
}

problems contains _problem("", "the input is not an object") if not _is_object_input

problems contains _problem("/now", "now is not an RFC 3339 time") if not _valid_now

problems contains _problem("/requester/user_id", _identifier_message) if not _valid_user_id

problems contains _problem("/requester/roles", "a non-empty list of role names is required") if not _valid_roles

problems contains _problem("/requester/mfa", "a boolean is required") if not _valid_mfa

problems contains _problem("/patient/id", _identifier_message) if not _valid_patient_id

problems contains _problem("/patient/state", "a USPS state code (two upper-case letters) is required") if {
	not _valid_patient_state
}

problems contains _problem("/patient/age", "an integer from 0 to 150, or null, is required") if not _valid_age

problems contains _problem("/patient/restrictions", "a list of restriction objects is required") if {
	not _valid_restrictions
}

problems contains _problem(
	sprintf("/patient/restrictions/%d/%s", [i, field]),
	"a list of known values is required",
) if {
	some i, restriction in _restrictions
	is_object(restriction)
	some field, allowed in _scope_lists
	not _list_of(object.get(restriction, field, null), allowed)
}

problems contains _problem(
	sprintf("/patient/restrictions/%d/reason", [i]),
	"paid_in_full, agreed or null is required",
) if {
	some i, restriction in _restrictions
	is_object(restriction)
	not object.get(restriction, "reason", null) in restriction_reasons
}

problems contains _problem(path, "a boolean is required") if {
	some path, ref in optional_booleans
	not is_boolean(object.get(input, ref, false))
}

problems contains _problem(path, "true, false or null is required") if {
	some path, ref in optional_nullable_booleans
	not object.get(input, ref, null) in _nullable_booleans
}

problems contains _problem(path, "a string or null is required") if {
	some path, ref in optional_strings
	not type_name(object.get(input, ref, null)) in _nullable_string_types
}

problems contains _problem(path, _identifier_message) if {
	some path, ref in optional_identifiers
	not _optional_identifier(object.get(input, ref, null))
}

problems contains _problem(path, "a USPS state code (two upper-case letters) or null is required") if {
	some path, ref in optional_states
	not object.get(input, ref, null) in states_or_null
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

problems contains _problem(sprintf("/authorizations/%d/type", [i]), "one of the authorization types is required") if {
	some i, auth in _authorizations
	is_object(auth)
	not object.get(auth, "type", null) in authorization_types
}

problems contains _problem(sprintf("/authorizations/%d/id", [i]), _identifier_message) if {
	some i, auth in _authorizations
	is_object(auth)
	not _optional_identifier(object.get(auth, "id", null))
}

problems contains _problem(sprintf("/authorizations/%d/%s", [i, field]), "a boolean is required") if {
	some i, auth in _authorizations
	is_object(auth)
	some field in ["signed", "revoked"]
	not is_boolean(object.get(auth, field, false))
}

problems contains _problem(sprintf("/authorizations/%d/%s", [i, field]), "a date (YYYY-MM-DD) or null is required") if {
	some i, auth in _authorizations
	is_object(auth)
	some field in ["signed_on", "expires_on"]
	not _nullable_date(object.get(auth, field, null))
}

problems contains _problem(
	sprintf("/authorizations/%d/recipients", [i]),
	"a list of identifiers or \"*\" is required",
) if {
	some i, auth in _authorizations
	is_object(auth)
	not _recipient_ids(object.get(auth, "recipients", []))
}

problems contains _problem(sprintf("/authorizations/%d/%s", [i, field]), "a list of known values is required") if {
	some i, auth in _authorizations
	is_object(auth)
	some field, allowed in _scope_lists
	not _list_of(object.get(auth, field, []), allowed)
}

problems contains _problem("/context", "an object is required") if not _valid_context

_is_object_input if is_object(input)

_valid_now if is_number(time.parse_rfc3339_ns(input.now))

_valid_user_id if lib.identifier(input.requester.user_id)

_valid_roles if _non_empty_strings(input.requester.roles)

_valid_mfa if is_boolean(input.requester.mfa)

_valid_patient_id if lib.identifier(input.patient.id)

_valid_patient_state if {
	is_string(input.patient.state)
	input.patient.state in states_or_null
}

_valid_age if _age_or_null(object.get(input, ["patient", "age"], null))

_age_or_null(null)

_age_or_null(age) if {
	is_number(age)
	age >= 0
	age <= 150
	floor(age) == age
}

_valid_restrictions if _objects(_restrictions)

_restrictions := object.get(input, ["patient", "restrictions"], [])

# The scope lists of restrictions and authorizations: vocabulary objects, keys the values allowed.
_scope_lists := {
	"recipient_types": data.config.vocabulary.recipient_types,
	"purposes": data.config.vocabulary.purposes,
	"categories": _scope_categories,
}

_restriction(value) if {
	is_object(value)
	every field, allowed in _scope_lists {
		_list_of(object.get(value, field, null), allowed)
	}
	object.get(value, "reason", null) in restriction_reasons
}

_authorization(value) if {
	is_object(value)
	value.type in authorization_types
	_optional_identifier(object.get(value, "id", null))
	is_boolean(object.get(value, "signed", false))
	is_boolean(object.get(value, "revoked", false))
	_nullable_date(object.get(value, "signed_on", null))
	_nullable_date(object.get(value, "expires_on", null))
	_recipient_ids(object.get(value, "recipients", []))
	not _bad_elements_present(value)
	every field, allowed in _scope_lists {
		_list_of(object.get(value, field, []), allowed)
	}
}

_authorizations := object.get(input, "authorizations", [])

_valid_recipient_type if input.recipient.type in recipient_types

_valid_purpose if input.purpose in purposes

_valid_categories if _known_categories(input.data.categories)

_valid_elements if _known_elements(object.get(input, ["data", "elements"], []))

_valid_form if object.get(input, ["data", "form"], "identified") in forms

_valid_record_count if _non_negative(object.get(input, ["data", "record_count"], 1))

_valid_authorizations if _objects(_authorizations)

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

# A list of keys of `allowed` (a vocabulary object).
_list_of(values, allowed) if {
	is_array(values)
	every value in values {
		allowed[value]
	}
}

_strings(values) if {
	is_array(values)
	every value in values {
		_non_empty_string(value)
	}
}

_optional_identifier(null)

_optional_identifier("")

_optional_identifier(value) if lib.identifier(value)

_recipient_ids(values) if {
	is_array(values)
	every value in values {
		_recipient_id(value)
	}
}

_recipient_id("*")

_recipient_id(value) if lib.identifier(value)

_nullable_date(null)

_nullable_date(value) if {
	is_string(value)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, value)
	is_number(time.parse_ns("2006-01-02", value))
}

_non_negative(value) if {
	is_number(value)
	value >= 0
}
