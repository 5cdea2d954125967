package hipaa.part2_test

import data.hipaa.fixtures_test as fx
import data.hipaa.part2

_sud(patch) := fx.request(object.union(
	{"data": {"categories": ["substance_use_disorder"], "elements": ["diagnoses"], "part2_program": true}},
	patch,
))

_tpo_consent := fx.authorization("part2_tpo_consent", {
	"id": "consent-tpo-1",
	"purposes": [],
	"categories": ["substance_use_disorder"],
})

_po := {"roles": ["privacy_officer"]}

test_allow_c2_tpo_consent_with_notice if {
	d := data.hipaa.decision with input as _sud({"authorizations": [_tpo_consent]})
	d.allow == true
	d.accountable == false
	some o in d.obligations
	o.code == "PART2_REDISCLOSURE_NOTICE"
	o.rule == "C2"
	o.text == part2.notice_text
	startswith(o.text, "This record which has been disclosed to you is protected by Federal confidentiality rules")
	contains(o.text, "A general authorization for the release of medical or other information is NOT sufficient")
	contains(o.enclosure, "a clear explanation of the scope of the consent")
	o.consent_ids == ["consent-tpo-1"]
}

test_deny_c2_without_consent if {
	d := data.hipaa.decision with input as _sud({})
	d.allow == false
	{
		"PART2_CONSENT_REQUIRED",
		"OBTAIN_PART2_CONSENT",
	} & fx.codes(d) == {"PART2_CONSENT_REQUIRED", "OBTAIN_PART2_CONSENT"}
}

test_deny_c2_hipaa_authorization_is_not_consent if {
	d := data.hipaa.decision with input as _sud({
		"authorizations": [fx.authorization("hipaa_authorization", {"categories": ["substance_use_disorder"]})],
	})
	"PART2_CONSENT_REQUIRED" in fx.codes(d)
}

test_allow_c2_not_a_part2_program if {
	d := data.hipaa.decision with input as _sud({"data": {"part2_program": false}})
	d.allow == true
	not "PART2_REDISCLOSURE_NOTICE" in fx.codes(d)
}

test_allow_c2_medical_emergency if {
	d := data.hipaa.decision with input as _sud({
		"purpose": "medical_emergency",
		"recipient": {"type": "first_responder"},
	})
	d.allow == true
	{"MEDICAL_EMERGENCY", "DOCUMENT_RATIONALE", "NOTIFY_PRIVACY_OFFICER"} & fx.codes(d) == {
		"MEDICAL_EMERGENCY", "DOCUMENT_RATIONALE", "NOTIFY_PRIVACY_OFFICER",
	}
	not "PART2_REDISCLOSURE_NOTICE" in fx.codes(d)
}

# 42 CFR 2.51(c): the record names the recipient and their facility affiliation, the individual
# making the disclosure, the date and time and the nature of the emergency.
test_allow_c2_medical_emergency_record if {
	d := data.hipaa.decision with input as _sud({
		"purpose": "medical_emergency",
		"recipient": {"type": "first_responder"},
	})
	d.allow == true
	some o in d.obligations
	o.rule == "C2"
	o.code == "DOCUMENT_RATIONALE"
	o == {
		"citation": "42 CFR 2.51",
		"code": "DOCUMENT_RATIONALE",
		"message": concat(" ", [
			"Immediately record in the patient's records the name of the medical personnel who received",
			"the disclosure and their affiliation with any health care facility, the name of the",
			"individual making the disclosure, the date and time of the disclosure, the nature of the",
			"emergency and the information disclosed (42 CFR 2.51(c)).",
		]),
		"rationale": null,
		"rule": "C2",
	}
}

test_allow_c2_general_consent_outside_tpo_is_accountable if {
	d := data.hipaa.decision with input as _sud({
		"requester": _po, "purpose": "research", "recipient": {"type": "researcher", "id": "univ-0001"},
		"authorizations": [
			fx.authorization("part2_consent", {"purposes": ["research"], "categories": ["substance_use_disorder"]}),
		],
	})
	d.allow == true
	{"PART2_CONSENT", "PATIENT_AUTHORIZATION", "PART2_REDISCLOSURE_NOTICE", "ACCOUNT_FOR_DISCLOSURE"} & fx.codes(d) == {
		"PART2_CONSENT", "PATIENT_AUTHORIZATION", "PART2_REDISCLOSURE_NOTICE", "ACCOUNT_FOR_DISCLOSURE",
	}
	d.accountable == true
}

test_deny_c2_tpo_consent_outside_tpo if {
	d := data.hipaa.decision with input as _sud({
		"requester": _po,
		"purpose": "research",
		"recipient": {"type": "researcher"},
		"authorizations": [_tpo_consent],
	})
	"PART2_CONSENT_REQUIRED" in fx.codes(d)
}

_proceeding(context) := {
	"requester": _po, "purpose": "judicial_proceeding", "recipient": {"type": "court"},
	"context": object.union({"against_patient": true}, context),
}

test_deny_c2_proceedings_subpoena_only if {
	d := data.hipaa.decision with input as _sud(_proceeding({"subpoena": true, "satisfactory_assurances": true}))
	d.allow == false
	fx.codes(d) == {"PART2_PROCEEDINGS_RESTRICTED", "OBTAIN_COURT_ORDER", "JUDICIAL_PROCEEDING"}
}

# An ordinary court order with a subpoena is not an order authorizing the disclosure (2.61, 2.64).
test_deny_c2_proceedings_ordinary_order_and_subpoena if {
	d := data.hipaa.decision with input as _sud(_proceeding({"subpoena": true, "court_order": true}))
	d.allow == false
	"PART2_PROCEEDINGS_RESTRICTED" in fx.codes(d)
}

test_allow_c2_proceedings_authorizing_order if {
	d := data.hipaa.decision with input as _sud(_proceeding({"court_order": true, "part2_court_order": true}))
	d.allow == true
	not "PART2_CONSENT" in fx.codes(d)
	not "PART2_PROCEEDINGS_RESTRICTED" in fx.codes(d)
}

test_allow_c2_proceedings_consent if {
	d := data.hipaa.decision with input as _sud(object.union(
		_proceeding({
			"court_order": true,
		}),
		{"authorizations": [fx.authorization("part2_proceedings_consent", {
			"purposes": ["judicial_proceeding"],
			"categories": ["substance_use_disorder"],
		})]},
	))
	d.allow == true
	{"PART2_CONSENT", "PART2_REDISCLOSURE_NOTICE"} & fx.codes(d) == {"PART2_CONSENT", "PART2_REDISCLOSURE_NOTICE"}
}

test_deny_c2_law_enforcement_against_patient if {
	d := data.hipaa.decision with input as _sud({
		"requester": _po,
		"purpose": "law_enforcement",
		"recipient": {"type": "law_enforcement"},
		"context": {"against_patient": true, "court_order": true},
	})
	"PART2_PROCEEDINGS_RESTRICTED" in fx.codes(d)
}

_counseling(patch) := fx.request(object.union(
	{
		"requester": {"roles": ["therapist"]},
		"data": {"categories": ["sud_counseling_notes"], "elements": ["clinical_notes"]},
	},
	patch,
))

test_deny_c3_tpo_consent_not_enough if {
	d := data.hipaa.decision with input as _counseling({
		"authorizations": [fx.authorization("part2_tpo_consent", {"categories": ["sud_counseling_notes"]})],
	})
	d.allow == false
	"SUD_COUNSELING_NOTES_CONSENT_REQUIRED" in fx.codes(d)
	some r in d.requirements
	r == {
		"code": "OBTAIN_PART2_CONSENT",
		"message": "Obtain the patient's consent for SUD counseling notes alone (42 CFR 2.31(b)).",
		"rule": "C3",
	}
}

test_allow_c3_counseling_notes_consent if {
	d := data.hipaa.decision with input as _counseling({
		"authorizations": [
			fx.authorization("sud_counseling_notes_consent", {
				"id": "consent-notes-1",
				"categories": ["sud_counseling_notes"],
			}),
		],
	})
	d.allow == true
	some o in d.obligations
	o.code == "PART2_REDISCLOSURE_NOTICE"
	o.consent_ids == ["consent-notes-1"]
}

test_allow_c3_exceptions if {
	every case in [
		{"recipient": {"type": "workforce"}, "context": {"originator": true}},
		{"purpose": "training", "recipient": {"type": "workforce"}, "context": {"supervised_training": true}},
		{"purpose": "legal_defense", "recipient": {"type": "court"}, "context": {"legal_action_by_patient": true}},
		{"requester": _po, "purpose": "required_by_law", "recipient": {"type": "other"}},
		{
			"requester": _po, "purpose": "health_oversight", "recipient": {"type": "health_oversight_agency"},
			"context": {"oversight_of_originator": true},
		},
	] {
		d := data.hipaa.decision with input as _counseling(case)
		d.allow == true
	}
}

test_deny_c3_health_oversight_not_of_originator if {
	d := data.hipaa.decision with input as _counseling({
		"requester": _po,
		"purpose": "health_oversight",
		"recipient": {"type": "health_oversight_agency"},
	})
	d.allow == false
	d.reasons == [{
		"citation": "42 CFR 2.31(b)",
		"code": "SUD_COUNSELING_NOTES_CONSENT_REQUIRED",
		"message": "SUD counseling notes need a consent specific to them; a TPO or general consent does not cover them.",
		"rule": "C3",
	}]
	d.requirements == [{
		"code": "OBTAIN_PART2_CONSENT",
		"message": "Obtain the patient's consent for SUD counseling notes alone (42 CFR 2.31(b)).",
		"rule": "C3",
	}]
}

# 42 CFR 2.31(b): a counseling-notes consent may be combined only with another one for counseling
# notes; combined, it is defective and covers nothing.
_counseling_and_records(notes_categories) := _counseling({
	"data": {"categories": ["substance_use_disorder", "sud_counseling_notes"], "part2_program": true},
	"authorizations": [
		_tpo_consent,
		fx.authorization("sud_counseling_notes_consent", {"id": "consent-notes-1", "categories": notes_categories}),
	],
})

test_allow_c3_separate_counseling_notes_consent if {
	d := data.hipaa.decision with input as _counseling_and_records(["sud_counseling_notes"])
	d.allow == true
	some o in d.obligations
	o.code == "PART2_REDISCLOSURE_NOTICE"
	o.consent_ids == ["consent-notes-1", "consent-tpo-1"]
}

test_deny_c3_combined_counseling_notes_consent if {
	d := data.hipaa.decision with input as _counseling_and_records(["sud_counseling_notes", "substance_use_disorder"])
	d.allow == false
	d.reasons == [{
		"citation": "42 CFR 2.31(b)",
		"code": "SUD_COUNSELING_NOTES_CONSENT_REQUIRED",
		"message": "SUD counseling notes need a consent specific to them; a TPO or general consent does not cover them.",
		"rule": "C3",
	}]
	d.requirements == [{
		"code": "OBTAIN_PART2_CONSENT",
		"message": "Obtain the patient's consent for SUD counseling notes alone (42 CFR 2.31(b)).",
		"rule": "C3",
	}]
}

# A proceedings consent cannot be combined with a consent for any other purpose (42 CFR 2.31(d)).
test_deny_c2_combined_proceedings_consent if {
	d := data.hipaa.decision with input as _sud(object.union(
		_proceeding({"court_order": true}),
		{"authorizations": [fx.authorization("part2_proceedings_consent", {
			"purposes": ["judicial_proceeding", "treatment", "payment"],
			"categories": ["substance_use_disorder"],
		})]},
	))
	d.allow == false
	d.reasons == [{
		"citation": "42 CFR 2.12(d), 2.31, 2.61-2.65",
		"code": "PART2_PROCEEDINGS_RESTRICTED",
		"message": concat(" ", [
			"Part 2 records may be used against the patient only with the patient's proceedings consent",
			"or a court order authorizing the disclosure with the findings of 42 CFR 2.64(d) or 2.65(d)",
			"(context.part2_court_order); an ordinary order or a subpoena is not enough.",
		]),
		"rule": "C2",
	}]
	d.requirements == [{
		"code": "OBTAIN_COURT_ORDER",
		"message": "Obtain a court order authorizing the disclosure under 42 CFR 2.64 or 2.65.",
		"rule": "C2",
	}]
}

# Internal communications (42 CFR 2.12(c)(3)): treatment by the entity's own workforce needs no
# Part 2 consent and carries no redisclosure notice; other internal purposes still need one.
_workforce := {"type": "workforce", "id": null}

test_allow_c2_internal_communication_for_treatment if {
	every patch in [
		{"requester": {"roles": ["physician"]}, "recipient": _workforce},
		{"requester": {"roles": ["physician"]}, "recipient": _workforce, "authorizations": [_tpo_consent]},
	] {
		d := data.hipaa.decision with input as _sud(patch)
		d.allow == true
		d.basis == [{
			"citation": "45 CFR 164.506(c)(1)",
			"code": "TREATMENT",
			"rule": "P1",
			"summary": "Use by the covered entity's workforce for its own treatment of the patient.",
		}]
		d.reasons == []
		[o.code | some o in d.obligations] == ["MINIMUM_NECESSARY"]
	}
}

test_deny_c2_internal_operations_needs_consent if {
	d := data.hipaa.decision with input as _sud({
		"requester": _po,
		"purpose": "health_care_operations",
		"recipient": _workforce,
	})
	d.allow == false
	d.reasons == [{
		"citation": "42 CFR 2.31, 2.33",
		"code": "PART2_CONSENT_REQUIRED",
		"message": "These SUD records need the patient's Part 2 consent; a HIPAA authorization is not enough.",
		"rule": "C2",
	}]
	d.requirements == [{
		"code": "OBTAIN_PART2_CONSENT",
		"message": concat(" ", [
			"Obtain the patient's written consent under 42 CFR 2.31 (a single TPO consent covers",
			"treatment, payment and operations).",
		]),
		"rule": "C2",
	}]
}

test_allow_c2_patient_access_needs_no_consent if {
	d := data.hipaa.decision with input as _sud({"purpose": "individual_access", "recipient": {"type": "patient"}})
	d.allow == true
	not "PART2_REDISCLOSURE_NOTICE" in fx.codes(d)
}

test_deny_c2_personal_representative_access_needs_consent if {
	d := data.hipaa.decision with input as _sud({
		"purpose": "individual_access",
		"recipient": {"type": "personal_representative"},
	})
	"PART2_CONSENT_REQUIRED" in fx.codes(d)
}

# v1.2: Part 2's own exceptions need no consent but still a HIPAA basis.
test_allow_c2_exceptions_without_consent if {
	every patch in [
		{
			"requester": {"roles": ["physician"]},
			"purpose": "abuse_report",
			"recipient": {"type": "government_agency"},
			"context": {"abuse_victim": "child"},
		},
		{"requester": _po, "purpose": "coroner_medical_examiner", "recipient": {"type": "coroner_medical_examiner"}},
		{
			"requester": _po,
			"purpose": "payment",
			"recipient": {"type": "business_associate", "id": "ba-care-analytics"},
		},
		{
			"requester": _po,
			"purpose": "law_enforcement",
			"recipient": {"type": "law_enforcement"},
			"context": {"law_enforcement_reason": "crime_on_premises", "suspected_criminal_conduct": true},
		},
		{
			"requester": _po,
			"purpose": "research",
			"recipient": {"type": "researcher"},
			"context": {"irb_waiver_id": "irb-1"},
		},
		{"requester": _po, "purpose": "health_oversight", "recipient": {"type": "health_oversight_agency"}},
		{
			"requester": _po,
			"purpose": "payment",
			"recipient": {"type": "health_plan"},
			"data": {"part2_received_under_tpo_consent": true},
		},
	] {
		d := data.hipaa.decision with input as _sud(patch)
		d.allow == true
		not "PART2_CONSENT_REQUIRED" in fx.codes(d)
		not "PART2_REDISCLOSURE_NOTICE" in fx.codes(d)
	}
}

test_deny_c2_exception_needs_its_conditions if {
	every patch in [
		{
			"requester": {"roles": ["physician"]},
			"purpose": "abuse_report",
			"recipient": {"type": "government_agency"},
			"context": {"abuse_victim": "adult", "report_required_by_law": true},
		},
		{
			"requester": _po,
			"purpose": "payment",
			"recipient": {"type": "business_associate", "id": "ba-pending-vendor"},
		},
		{
			"requester": _po,
			"purpose": "research",
			"recipient": {"type": "researcher"},
			"context": {"irb_waiver_id": ""},
		},
		{
			"requester": _po,
			"purpose": "law_enforcement",
			"recipient": {"type": "law_enforcement"},
			"context": {"law_enforcement_reason": "crime_victim", "victim_agrees": true},
		},
	] {
		d := data.hipaa.decision with input as _sud(patch)
		d.allow == false
		"PART2_CONSENT_REQUIRED" in fx.codes(d)
	}
}

test_allow_c2_crime_on_premises_premises_view if {
	d := data.hipaa.decision with input as _sud({
		"requester": _po, "purpose": "law_enforcement", "recipient": {"type": "law_enforcement"},
		"context": {"law_enforcement_reason": "crime_on_premises", "suspected_criminal_conduct": true},
		"data": {"elements": ["name", "location", "diagnoses"]},
	})
	d.minimum_necessary == {
		"applies": true,
		"permitted_elements": ["location", "name"],
		"withheld_elements": ["diagnoses"],
	}
}

test_deny_c2_received_under_tpo_consent_still_restricted_against_patient if {
	d := data.hipaa.decision with input as _sud(object.union(
		_proceeding({"court_order": true}),
		{"data": {"part2_received_under_tpo_consent": true}},
	))
	d.allow == false
	"PART2_PROCEEDINGS_RESTRICTED" in fx.codes(d)
}

test_allow_c2_authorizing_order_not_against_patient if {
	d := data.hipaa.decision with input as _sud(_proceeding({
		"against_patient": false, "court_order": true,
		"part2_court_order": true,
	}))
	d.allow == true
}

# A consent of the right type on file that does not cover the disclosure: the deny says why.
test_deny_c2_consent_on_file_without_categories if {
	d := data.hipaa.decision with input as _sud({"authorizations": [object.union(_tpo_consent, {"categories": []})]})
	d.allow == false
	d.reasons == [{
		"code": "PART2_CONSENT_REQUIRED", "rule": "C2", "citation": "42 CFR 2.31, 2.33",
		"message": concat("", [
			"The Part 2 consent on file does not cover this disclosure: it must be signed, unrevoked and ",
			"unexpired, name this recipient (or its type) and purpose, and list substance_use_disorder ",
			"among its categories.",
		]),
		"consent_ids": ["consent-tpo-1"],
	}]
}

test_deny_c2_no_consent_on_file if {
	d := data.hipaa.decision with input as _sud({})
	[r.message | some r in d.reasons] == [concat(" ", [
		"These SUD records need the patient's Part 2 consent;",
		"a HIPAA authorization is not enough.",
	])]
}
