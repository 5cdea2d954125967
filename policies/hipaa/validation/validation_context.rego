# Input validation of the v1.2 context facts: the enumerations v1.2 added to the request's
# context, and the facts a purpose needs (docs/api.md, request). Part of hipaa.validation, kept
# apart so that each file stays short.
package hipaa.validation

# v1.2 enumerations of the context (null: not given).
legal_processes := {
	"court_order", "court_ordered_warrant", "judicial_subpoena", "grand_jury_subpoena",
	"administrative_request", "attorney_subpoena", "discovery_request",
}

law_enforcement_reasons := {
	"legal_process", "identification_location", "crime_victim", "decedent_crime", "crime_on_premises",
	"emergency_crime_report",
}

abuse_victims := {"child", "adult"}

government_functions := {"correctional_institution", "national_security", "protective_services", "military"}

# The v1.2 optional booleans, checked like `optional_booleans` (validation.rego).
_v12_optional_booleans := {
	"/patient/inmate": ["patient", "inmate"],
	"/data/part2_received_under_tpo_consent": ["data", "part2_received_under_tpo_consent"],
	"/context/administrative_request_conditions_met": ["context", "administrative_request_conditions_met"],
	"/context/victim_agrees": ["context", "victim_agrees"],
	"/context/law_enforcement_representations": ["context", "law_enforcement_representations"],
	"/context/suspected_criminal_conduct": ["context", "suspected_criminal_conduct"],
	"/context/emergency_response_interference": ["context", "emergency_response_interference"],
	"/context/patient_directed": ["context", "patient_directed"],
	"/context/representative_abuse_suspected": ["context", "representative_abuse_suspected"],
	"/context/authorized_by_law": ["context", "authorized_by_law"],
	"/context/report_required_by_law": ["context", "report_required_by_law"],
	"/context/part2_court_order": ["context", "part2_court_order"],
}

# Optional enumerated fields: path, reference, allowed values (null means not given).
optional_enums := {
	"/context/legal_process": [["context", "legal_process"], legal_processes],
	"/context/law_enforcement_reason": [["context", "law_enforcement_reason"], law_enforcement_reasons],
	"/context/abuse_victim": [["context", "abuse_victim"], abuse_victims],
	"/context/government_function": [["context", "government_function"], government_functions],
}

# The fast path's second body (validation.rego) for a request that gives a v1.2 enumeration.
_v12_context_well_formed if _v12_context_given

# A request that gives one of the v1.2 enumerations (the fast path of validation.rego handles
# the common case, none given, by four comparisons): each value is in its enumeration, and the
# facts do not contradict each other.
_v12_context_given if {
	input.context.legal_process in _legal_processes_or_null
	input.context.law_enforcement_reason in _law_enforcement_reasons_or_null
	input.context.abuse_victim in _abuse_victims_or_null
	input.context.government_function in _government_functions_or_null
	not _inconsistent_context
}

_legal_processes_or_null := legal_processes | {null}

_law_enforcement_reasons_or_null := law_enforcement_reasons | {null}

_abuse_victims_or_null := abuse_victims | {null}

_government_functions_or_null := government_functions | {null}

# Facts that contradict each other or a purpose that lacks the fact it needs.
_inconsistent_context if _missing_abuse_victim

_inconsistent_context if _missing_government_function

_inconsistent_context if _legal_process_twice

_missing_abuse_victim if {
	input.purpose == "abuse_report"
	not object.get(input, ["context", "abuse_victim"], null) in abuse_victims
}

_missing_government_function if {
	input.purpose == "specialized_government_function"
	not object.get(input, ["context", "government_function"], null) in government_functions
}

# One way to say it: `legal_process` with a v1 boolean set to true beside it.
_legal_process_twice if {
	is_string(input.context.legal_process)
	some flag in ["court_order", "subpoena"]
	input.context[flag] == true
}

problems contains _problem(path, "one of the listed values, or null, is required") if {
	some path, spec in optional_enums
	value := object.get(input, spec[0], null)
	value != null
	not value in spec[1]
}

problems contains _problem("/context/abuse_victim", "child or adult is required for purpose abuse_report") if {
	_missing_abuse_victim
}

problems contains _problem(
	"/context/government_function",
	"one of the government functions is required for purpose specialized_government_function",
) if {
	_missing_government_function
}

problems contains _problem(
	"/context/legal_process",
	"give legal_process or the v1 court_order/subpoena flag, not both",
) if {
	_legal_process_twice
}

problems contains _problem(path, "a boolean is required") if {
	some path, ref in _v12_optional_booleans
	not is_boolean(object.get(input, ref, false))
}
