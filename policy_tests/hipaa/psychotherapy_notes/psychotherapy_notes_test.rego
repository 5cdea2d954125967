package hipaa.psychotherapy_notes_test

import data.hipaa.fixtures_test as fx

_notes(patch) := fx.request(object.union(
	{
		"requester": {"roles": ["therapist"]},
		"data": {"categories": ["psychotherapy_notes"], "elements": ["clinical_notes"]},
	},
	patch,
))

_po := {"roles": ["privacy_officer"]}

test_deny_c1_treatment_to_another_provider if {
	d := data.hipaa.decision with input as _notes({})
	d.allow == false
	{"PSYCHOTHERAPY_NOTES_AUTHORIZATION_REQUIRED", "OBTAIN_PSYCHOTHERAPY_NOTES_AUTHORIZATION"} & fx.codes(d) == {
		"PSYCHOTHERAPY_NOTES_AUTHORIZATION_REQUIRED", "OBTAIN_PSYCHOTHERAPY_NOTES_AUTHORIZATION",
	}
}

test_deny_c1_general_authorization_does_not_cover if {
	d := data.hipaa.decision with input as _notes({
		"authorizations": [fx.authorization("hipaa_authorization", {"categories": ["psychotherapy_notes"]})],
	})
	d.allow == false
	"PSYCHOTHERAPY_NOTES_AUTHORIZATION_REQUIRED" in fx.codes(d)
}

test_allow_c1_psychotherapy_notes_authorization if {
	d := data.hipaa.decision with input as _notes({
		"authorizations": [
			fx.authorization("psychotherapy_notes_authorization", {"categories": ["psychotherapy_notes"]}),
		],
	})
	d.allow == true
}

test_allow_c1_originator_treatment if {
	d := data.hipaa.decision with input as _notes({"recipient": {"type": "workforce"}, "context": {"originator": true}})
	d.allow == true
	"PSYCHOTHERAPY_NOTES_EXCEPTION" in fx.codes(d)
}

test_allow_c1_supervised_training if {
	d := data.hipaa.decision with input as _notes({
		"purpose": "training",
		"recipient": {"type": "workforce"},
		"context": {"supervised_training": true},
	})
	d.allow == true
}

test_deny_c1_training_unsupervised if {
	d := data.hipaa.decision with input as _notes({"purpose": "training", "recipient": {"type": "workforce"}})
	d.allow == false
}

test_allow_c1_legal_defense_against_patient_suit if {
	d := data.hipaa.decision with input as _notes({
		"purpose": "legal_defense",
		"recipient": {"type": "court"},
		"context": {"legal_action_by_patient": true},
	})
	d.allow == true
}

test_allow_c1_listed_purposes if {
	every case in [
		{"purpose": "hhs_compliance", "recipient": {"type": "hhs"}},
		{"purpose": "required_by_law", "recipient": {"type": "other"}},
		{
			"purpose": "health_oversight", "recipient": {"type": "health_oversight_agency"},
			"context": {"oversight_of_originator": true},
		},
		{"purpose": "coroner_medical_examiner", "recipient": {"type": "coroner_medical_examiner"}},
		{"purpose": "serious_threat", "recipient": {"type": "provider"}, "context": {"serious_imminent_threat": true}},
	] {
		d := data.hipaa.decision with input as _notes(object.union(case, {"requester": _po}))
		d.allow == true
		"PSYCHOTHERAPY_NOTES_EXCEPTION" in fx.codes(d)
	}
}

test_deny_c1_serious_threat_without_flag if {
	d := data.hipaa.decision with input as _notes({"purpose": "serious_threat", "recipient": {"type": "provider"}})
	"PSYCHOTHERAPY_NOTES_AUTHORIZATION_REQUIRED" in fx.codes(d)
}

test_deny_c1_health_oversight_not_of_originator if {
	d := data.hipaa.decision with input as _notes({
		"requester": _po,
		"purpose": "health_oversight",
		"recipient": {"type": "health_oversight_agency"},
	})
	d.allow == false
	d.reasons == [{
		"citation": "45 CFR 164.508(a)(2)",
		"code": "PSYCHOTHERAPY_NOTES_AUTHORIZATION_REQUIRED",
		"message": "Psychotherapy notes need an authorization specific to them.",
		"rule": "C1",
	}]
	d.requirements == [{
		"code": "OBTAIN_PSYCHOTHERAPY_NOTES_AUTHORIZATION",
		"message": "Obtain the patient's authorization for psychotherapy notes (45 CFR 164.508(a)(2)).",
		"rule": "C1",
	}]
	not "PSYCHOTHERAPY_NOTES_EXCEPTION" in fx.codes(d)
}

# 164.508(b)(3)(ii): a psychotherapy-notes authorization combined with one for other records is
# defective (164.508(b)(2)(iii)) and covers nothing.
test_deny_c1_combined_psychotherapy_notes_authorization if {
	d := data.hipaa.decision with input as _notes({
		"authorizations": [
			fx.authorization("psychotherapy_notes_authorization", {"categories": ["psychotherapy_notes", "general"]}),
		],
	})
	d.allow == false
	d.reasons == [{
		"citation": "45 CFR 164.508(a)(2)",
		"code": "PSYCHOTHERAPY_NOTES_AUTHORIZATION_REQUIRED",
		"message": "Psychotherapy notes need an authorization specific to them.",
		"rule": "C1",
	}]
	d.requirements == [{
		"code": "OBTAIN_PSYCHOTHERAPY_NOTES_AUTHORIZATION",
		"message": "Obtain the patient's authorization for psychotherapy notes (45 CFR 164.508(a)(2)).",
		"rule": "C1",
	}]
}

# v1.2: compulsory legal process is "required by law" (164.103); other process is not.
test_allow_c1_compulsory_process if {
	every case in [
		["judicial_proceeding", "court", "court_order"],
		["judicial_proceeding", "court", "judicial_subpoena"],
		["law_enforcement", "law_enforcement", "court_ordered_warrant"],
		["law_enforcement", "law_enforcement", "grand_jury_subpoena"],
	] {
		d := data.hipaa.decision with input as _notes({
			"requester": _po, "purpose": case[0], "recipient": {"type": case[1]},
			"context": {"legal_process": case[2], "satisfactory_assurances": true},
		})
		d.allow == true
		"PSYCHOTHERAPY_NOTES_EXCEPTION" in fx.codes(d)
	}
}

test_deny_c1_process_that_does_not_compel if {
	every process in ["attorney_subpoena", "discovery_request", "administrative_request"] {
		d := data.hipaa.decision with input as _notes({
			"requester": _po, "purpose": "judicial_proceeding", "recipient": {"type": "court"},
			"context": {"legal_process": process, "satisfactory_assurances": true},
		})
		d.allow == false
		"PSYCHOTHERAPY_NOTES_AUTHORIZATION_REQUIRED" in fx.codes(d)
	}
}
