package hipaa.authorization_forms_test

import data.hipaa.authorization_forms
import data.hipaa.fixtures_test as fx
import data.hipaa.part2

_ask(patch) := object.union(
	{
		"states": ["CA"], "categories": ["hiv"], "purpose": "marketing", "recipient_type": "other",
		"type": "hipaa_authorization",
	},
	patch,
)

_pairs(answer) := [[i.id, i.citation] | some i in answer.requirements]

# The federal items of every HIPAA authorization, in form order (45 CFR 164.508(c)(1)-(4)).
_hipaa_core := [
	["HIPAA_INFORMATION", "45 CFR 164.508(c)(1)(i)"],
	["HIPAA_DISCLOSER", "45 CFR 164.508(c)(1)(ii)"],
	["HIPAA_RECIPIENT", "45 CFR 164.508(c)(1)(iii)"],
	["HIPAA_PURPOSE", "45 CFR 164.508(c)(1)(iv)"],
	["HIPAA_EXPIRATION", "45 CFR 164.508(c)(1)(v)"],
	["HIPAA_SIGNATURE_DATE", "45 CFR 164.508(c)(1)(vi)"],
	["HIPAA_REPRESENTATIVE_AUTHORITY", "45 CFR 164.508(c)(1)(vi)"],
	["HIPAA_RIGHT_TO_REVOKE", "45 CFR 164.508(c)(2)(i)"],
	["HIPAA_CONDITIONING", "45 CFR 164.508(c)(2)(ii), 164.508(b)(4)"],
	["HIPAA_REDISCLOSURE", "45 CFR 164.508(c)(2)(iii)"],
	["HIPAA_PLAIN_LANGUAGE", "45 CFR 164.508(c)(3)"],
	["HIPAA_COPY_TO_INDIVIDUAL", "45 CFR 164.508(c)(4)"],
]

_ca_cmia := [
	["CA_CMIA_TYPE", "Cal. Civ. Code 56.11(b)(1)"],
	["CA_CMIA_SEPARATE", "Cal. Civ. Code 56.11(b)(2)"],
	["CA_CMIA_SIGNED", "Cal. Civ. Code 56.11(b)(3)"],
	["CA_CMIA_INFORMATION_LIMITS", "Cal. Civ. Code 56.11"],
	["CA_CMIA_DISCLOSER", "Cal. Civ. Code 56.11"],
	["CA_CMIA_RECIPIENTS", "Cal. Civ. Code 56.11"],
	["CA_CMIA_RECIPIENT_USE", "Cal. Civ. Code 56.11"],
	["CA_CMIA_EXPIRATION_DATE", "Cal. Civ. Code 56.11"],
	["CA_CMIA_COPY", "Cal. Civ. Code 56.11"],
]

test_allow_ca_hiv_marketing_element_by_element if {
	answer := authorization_forms.requirements with input as _ask({})
	federal := array.concat(_hipaa_core, [["HIPAA_MARKETING_REMUNERATION", "45 CFR 164.508(a)(3)(ii)"]])
	california := array.concat(_ca_cmia, [
		["CA_HIV_TEST_RESULTS", "Cal. Health & Safety Code 120980(a)-(c), (g)"],
		["CA_HIV_NO_FURTHER_DISCLOSURE", "Cal. Health & Safety Code 120985(b)"],
	])
	_pairs(answer) == array.concat(federal, california)
	answer.warnings == []
	answer.states_without_form_requirements == []
	every item in answer.requirements {
		item.confidence in {"high", "medium", "low"}
		item.kind in {"element", "statement", "format", "notice"}
		item.source in {"federal", "CA"}
	}
}

test_allow_marketing_remuneration_statement_is_conditional if {
	answer := authorization_forms.requirements with input as _ask({})
	some item in answer.requirements
	item.id == "HIPAA_MARKETING_REMUNERATION"
	item == {
		"id": "HIPAA_MARKETING_REMUNERATION", "kind": "statement", "source": "federal",
		"label": concat("", [
			"Marketing that involves financial remuneration to the covered entity from a third party: ",
			"the authorization states that such remuneration is involved",
		]),
		"text": "This marketing involves direct or indirect financial remuneration to the covered entity from a third party.",
		"citation": "45 CFR 164.508(a)(3)(ii)", "confidence": "high",
		"condition": concat(" ", [
			"when the marketing involves financial remuneration (45 CFR 164.501)",
			"to the covered entity from a third party",
		]),
	}
}

test_allow_sale_of_phi_has_the_remuneration_statement_treatment_none if {
	sale := authorization_forms.requirements with input as _ask({"purpose": "sale_of_phi", "states": []})
	_pairs(sale) == array.concat(_hipaa_core, [["HIPAA_SALE_REMUNERATION", "45 CFR 164.508(a)(4)(ii)"]])
	research := authorization_forms.requirements with input as _ask({"purpose": "research", "states": []})
	_pairs(research) == _hipaa_core
}

test_allow_part2_consent_element_by_element if {
	answer := authorization_forms.requirements with input as _ask({
		"states": ["WY"], "categories": ["substance_use_disorder"], "purpose": "treatment",
		"recipient_type": "provider", "type": "part2_consent",
	})
	_pairs(answer) == [
		["PART2_PATIENT_NAME", "42 CFR 2.31(a)(1)"],
		["PART2_DISCLOSER", "42 CFR 2.31(a)(2)"],
		["PART2_INFORMATION", "42 CFR 2.31(a)(3)"],
		["PART2_RECIPIENT", "42 CFR 2.31(a)(4)(i)"],
		["PART2_HIPAA_REDISCLOSURE", "42 CFR 2.31(a)(4)(iii)"],
		["PART2_PURPOSE", "42 CFR 2.31(a)(5)"],
		["PART2_RIGHT_TO_REVOKE", "42 CFR 2.31(a)(6)"],
		["PART2_EXPIRATION", "42 CFR 2.31(a)(7)"],
		["PART2_SIGNATURE", "42 CFR 2.31(a)(8)"],
		["PART2_DATE", "42 CFR 2.31(a)(9)"],
		["PART2_NOTICE", "42 CFR 2.32(a)(1)"],
		["PART2_CONSENT_COPY", "42 CFR 2.32(b)"],
	]
	answer.states_without_form_requirements == ["WY"]
	some notice in answer.requirements
	notice.id == "PART2_NOTICE"
	notice.text == part2.notice_text
	some copy in answer.requirements
	copy.id == "PART2_CONSENT_COPY"
	copy.text == part2.enclosure
	some statement in answer.requirements
	statement.id == "PART2_HIPAA_REDISCLOSURE"
	statement.text == concat(" ", [
		"The record may be redisclosed in accordance with the permissions contained in the HIPAA regulations,",
		"except for uses and disclosures for civil, criminal, administrative, and legislative proceedings",
		"against the patient.",
	])
}

test_allow_part2_tpo_consent_through_an_intermediary if {
	answer := authorization_forms.requirements with input as _ask({
		"states": [], "categories": ["substance_use_disorder"], "purpose": "payment",
		"recipient_type": "hie", "type": "part2_tpo_consent",
	})
	ids := {i.id | some i in answer.requirements}
	expected := {
		"PART2_INTERMEDIARY", "PART2_HIPAA_REDISCLOSURE",
		"PART2_TPO_REDISCLOSURE_POTENTIAL", "PART2_TPO_REFUSAL_CONSEQUENCES",
	}
	count(expected - ids) == 0
	not "HIPAA_INFORMATION" in ids
}

test_allow_part2_consent_to_other_recipient_has_no_hipaa_redisclosure_statement if {
	answer := authorization_forms.requirements with input as _ask({
		"states": [], "categories": ["substance_use_disorder"], "purpose": "research",
		"recipient_type": "researcher", "type": "part2_consent",
	})
	ids := {i.id | some i in answer.requirements}
	not "PART2_HIPAA_REDISCLOSURE" in ids
	not "PART2_INTERMEDIARY" in ids
	not "PART2_TPO_REDISCLOSURE_POTENTIAL" in ids
}

test_allow_state_redisclosure_statement_from_the_matrix if {
	wa_std := _ask({"states": ["WA"], "categories": ["std"], "purpose": "payment"})
	answer := authorization_forms.requirements with input as wa_std
	some notice in answer.requirements
	notice.id == "WA_STD_REDISCLOSURE_NOTICE"
	notice.kind == "notice"
	notice.text == data.config.state_laws.WA.categories.std.redisclosure_notice
	notice.citation == "RCW 70.02.220, 70.02.300"
}

test_allow_psychotherapy_notes_take_the_state_mental_health_rules if {
	answer := authorization_forms.requirements with input as _ask({
		"states": ["IL"], "categories": ["psychotherapy_notes"], "purpose": "payment",
		"type": "psychotherapy_notes_authorization",
	})
	ids := {i.id | some i in answer.requirements}
	count({"PSYCHOTHERAPY_NOTES_STAND_ALONE", "IL_MH_WITNESS", "IL_MH_EXPIRATION_DATE", "IL_MH_NOT_BLANKET"} - ids) == 0
	answer.warnings == []
}

test_deny_warnings_for_the_wrong_document_type if {
	sud := authorization_forms.requirements with input as _ask({"categories": ["substance_use_disorder"]})
	[w.code | some w in sud.warnings] == ["HIPAA_AUTHORIZATION_IS_NOT_A_PART2_CONSENT"]
	notes := authorization_forms.requirements with input as _ask({"categories": ["psychotherapy_notes"]})
	[w.code | some w in notes.warnings] == ["PSYCHOTHERAPY_NOTES_NEED_THEIR_OWN_AUTHORIZATION"]
	mixed := authorization_forms.requirements with input as _ask({
		"categories": ["psychotherapy_notes", "general"], "type": "psychotherapy_notes_authorization",
	})
	[w.code | some w in mixed.warnings] == ["PSYCHOTHERAPY_NOTES_AUTHORIZATION_COVERS_ONLY_THEM"]
}

test_deny_unknown_state_and_category_named if {
	unknown := _ask({"states": ["CA", "ZZ"], "categories": ["hiv", "dental"]})
	answer := authorization_forms.requirements with input as unknown
	answer == {"errors": [
		{"path": "/categories/1", "message": "unknown category: dental"},
		{"path": "/states/1", "message": "unknown state: ZZ"},
	]}
}

test_deny_every_field_checked if {
	answer := authorization_forms.requirements with input as {"states": "CA", "categories": []}
	answer == {"errors": [
		{"path": "/categories", "message": "a non-empty list of categories is required"},
		{"path": "/purpose", "message": "unknown purpose: null"},
		{"path": "/recipient_type", "message": "unknown recipient type: null"},
		{"path": "/states", "message": "a list of state codes is required"},
		{"path": "/type", "message": "unknown document type: null"},
	]}
}

# --- elements_present on a request's authorizations -------------------------------------------

_marketing_ids := {
	"HIPAA_INFORMATION", "HIPAA_DISCLOSER", "HIPAA_RECIPIENT", "HIPAA_PURPOSE", "HIPAA_EXPIRATION",
	"HIPAA_SIGNATURE_DATE", "HIPAA_RIGHT_TO_REVOKE", "HIPAA_CONDITIONING", "HIPAA_REDISCLOSURE",
	"HIPAA_PLAIN_LANGUAGE", "HIPAA_COPY_TO_INDIVIDUAL",
}

_marketing(elements) := fx.request({
	"requester": {"roles": ["privacy_officer"]},
	"purpose": "marketing",
	"recipient": {"type": "other", "id": "vendor-0001"},
	"authorizations": [fx.authorization("hipaa_authorization", object.union(
		{"purposes": ["marketing"]},
		elements,
	))],
})

test_allow_elements_present_absent_is_not_checked if {
	d := data.hipaa.decision with input as _marketing({})
	d.allow == true
}

test_allow_elements_present_complete if {
	d := data.hipaa.decision with input as _marketing({"elements_present": sort(_marketing_ids)})
	d.allow == true
	[b.code | some b in d.basis] == ["PATIENT_AUTHORIZATION"]
}

test_deny_elements_present_missing_one_reported if {
	present := _marketing_ids - {"HIPAA_REDISCLOSURE"}
	d := data.hipaa.decision with input as _marketing({"elements_present": sort(present)})
	d.allow == false
	some r in d.reasons
	r == {
		"code": "AUTHORIZATION_INCOMPLETE", "rule": "P17",
		"citation": "45 CFR 164.508(b)(2)(ii), 164.508(c); 42 CFR 2.31(a)",
		"message": "An authorization on file lacks required elements and is not valid; see `authorizations`.",
		"authorizations": [{"id": "auth-test-1", "type": "hipaa_authorization", "missing": ["HIPAA_REDISCLOSURE"]}],
	}
}

test_deny_elements_present_state_elements_required_in_ca if {
	d := data.hipaa.decision with input as object.union(
		_marketing({"elements_present": sort(_marketing_ids)}),
		{"patient": {"state": "CA"}},
	)
	d.allow == false
	some r in d.reasons
	r.code == "AUTHORIZATION_INCOMPLETE"
	r.authorizations[0].missing == [
		"CA_CMIA_COPY", "CA_CMIA_DISCLOSER", "CA_CMIA_EXPIRATION_DATE", "CA_CMIA_INFORMATION_LIMITS",
		"CA_CMIA_RECIPIENTS", "CA_CMIA_RECIPIENT_USE", "CA_CMIA_SEPARATE", "CA_CMIA_SIGNED", "CA_CMIA_TYPE",
	]
}

test_allow_elements_present_incomplete_not_needed_for_treatment if {
	# A treatment hand-off needs no authorization: an incomplete one on file changes nothing.
	d := data.hipaa.decision with input as fx.request({"authorizations": [fx.authorization(
		"hipaa_authorization",
		{"elements_present": []},
	)]})
	d.allow == true
}

test_deny_elements_present_not_a_list_is_invalid_input if {
	d := data.hipaa.decision with input as _marketing({"elements_present": "HIPAA_INFORMATION"})
	[r.code | some r in d.reasons] == ["INVALID_INPUT"]
	d.reasons[0].details == [{
		"path": "/authorizations/0/elements_present",
		"message": "a list of element ids is required",
	}]
}

test_deny_elements_present_wildcard_categories_are_the_requested_ones if {
	# An authorization naming "*" is checked for the requested categories (psychotherapy notes here).
	d := data.hipaa.decision with input as object.union(
		_marketing({"elements_present": sort(_marketing_ids), "categories": ["*"]}),
		{"data": {"categories": ["psychotherapy_notes"]}},
	)
	d.allow == false
	some r in d.reasons
	r.code == "AUTHORIZATION_INCOMPLETE"
	r.authorizations[0].missing == ["PSYCHOTHERAPY_NOTES_STAND_ALONE"]
}
