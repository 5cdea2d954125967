package hipaa.permissions_test

import data.hipaa.fixtures_test as fx

_req(patch) := fx.request(patch)

_po := {"roles": ["privacy_officer"]}

# --- P1 treatment

test_allow_p1_treatment_to_provider if {
	d := data.hipaa.decision with input as _req({})
	d.allow == true
	[b.code | some b in d.basis] == ["TREATMENT"]
}

test_allow_p1_medical_emergency_to_first_responder if {
	d := data.hipaa.decision with input as _req({
		"purpose": "medical_emergency",
		"recipient": {"type": "first_responder"},
	})
	d.allow == true
	"TREATMENT" in fx.codes(d)
}

test_allow_p1_treatment_through_hie_with_agreement if {
	d := data.hipaa.decision with input as _req({"recipient": {"type": "hie", "id": "hie-statewide"}})
	d.allow == true
	{"TREATMENT", "BUSINESS_ASSOCIATE"} == {b.code | some b in d.basis}
}

test_allow_p1_workforce_treatment_use if {
	d := data.hipaa.decision with input as _req({"recipient": {"type": "workforce", "id": "u-205"}})
	d.allow == true
	d.minimum_necessary.applies == true
}

test_deny_p1_treatment_to_other_recipient if {
	d := data.hipaa.decision with input as _req({"recipient": {"type": "other"}})
	d.allow == false
	fx.codes(d) == {"NO_PERMISSION", "OBTAIN_PATIENT_AUTHORIZATION"}
}

test_deny_p1_hie_agreement_expired if {
	d := data.hipaa.decision with input as _req({
		"recipient": {"type": "hie", "id": "hie-statewide"},
	})
		with data.config.hie_agreements as {"hie-statewide": {
			"status": "active", "effective_on": "2020-01-01", "expires_on": "2025-12-31",
			"purposes": ["treatment"],
		}}
		with data.config.business_associates as {}
	d.allow == false
	"BAA_REQUIRED" in fx.codes(d)
}

# --- P2 payment

test_allow_p2_payment_to_health_plan if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["billing_specialist"]},
		"purpose": "payment",
		"recipient": {"type": "health_plan"},
	})
	d.allow == true
	{
		"PAYMENT",
		"DOCUMENT_RATIONALE",
		"MINIMUM_NECESSARY",
	} & fx.codes(d) == {"PAYMENT", "DOCUMENT_RATIONALE", "MINIMUM_NECESSARY"}
}

test_allow_p2_payment_to_person_responsible_for_bill if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["billing_specialist"]},
		"purpose": "payment",
		"recipient": {"type": "caregiver"},
	})
	d.allow == true
}

test_allow_p2_payment_to_ba_with_baa if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["billing_specialist"]}, "purpose": "payment",
		"recipient": {"type": "business_associate", "id": "ba-care-analytics"},
	})
	{"PAYMENT", "BUSINESS_ASSOCIATE"} == {b.code | some b in d.basis}
}

test_deny_p2_payment_to_researcher if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["billing_specialist"]},
		"purpose": "payment",
		"recipient": {"type": "researcher"},
	})
	d.allow == false
	"NO_PERMISSION" in fx.codes(d)
}

# --- P3 operations

test_allow_p3_operations_to_health_plan if {
	d := data.hipaa.decision with input as _req({
		"purpose": "health_care_operations",
		"recipient": {"type": "health_plan"},
	})
	d.allow == true
	"HEALTH_CARE_OPERATIONS" in fx.codes(d)
}

test_allow_p3_operations_through_hie_baa if {
	d := data.hipaa.decision with input as _req({
		"purpose": "health_care_operations",
		"recipient": {"type": "hie", "id": "hie-statewide"},
	})
	{"HEALTH_CARE_OPERATIONS", "BUSINESS_ASSOCIATE"} == {b.code | some b in d.basis}
}

test_deny_p3_operations_to_family if {
	d := data.hipaa.decision with input as _req({
		"purpose": "health_care_operations",
		"recipient": {"type": "family", "involved_in_care": true},
	})
	d.allow == false
	"NO_PERMISSION" in fx.codes(d)
}

# --- P5 individual access

test_allow_p5_patient if {
	d := data.hipaa.decision with input as _req({"purpose": "individual_access", "recipient": {"type": "patient"}})
	d.allow == true
	"INDIVIDUAL_ACCESS" in fx.codes(d)
}

test_allow_p5_parent_of_minor_with_professional_judgment if {
	d := data.hipaa.decision with input as _req({
		"purpose": "individual_access", "recipient": {"type": "personal_representative"},
		"patient": {"age": 15, "minor_consented_care": true}, "context": {"professional_judgment": true},
	})
	d.allow == true
}

test_deny_p5_parent_of_minor_for_minor_consented_care if {
	d := data.hipaa.decision with input as _req({
		"purpose": "individual_access", "recipient": {"type": "personal_representative"},
		"patient": {"age": 15, "minor_consented_care": true},
	})
	d.allow == false
	d.reasons[0].rule == "P5"
	fx.codes(d) == {"NO_PERMISSION"}
}

# P5 minors (docs/rules.md P5): a parent's access to minor-consented care is allowed when state data
# permits it (some jurisdiction says so and none limits it) or, where state law is silent, on a
# professional's judgment; otherwise NO_PERMISSION. An unknown age counts as a minor's.
_minor_parent(patch) := _req(object.union(
	{
		"purpose": "individual_access", "recipient": {"type": "personal_representative"},
		"patient": {"age": 15, "minor_consented_care": true},
	},
	patch,
))

_in_state(code) := {"patient": {"state": code}, "requester": {"state": code}}

_p5_reason := {
	"code": "NO_PERMISSION", "rule": "P5", "citation": "45 CFR 164.502(g)(3)",
	"message": concat("", [
		"A parent is not the personal representative for care the minor consented to; access needs ",
		"state law permitting it or, where state law is silent, a licensed professional's judgment ",
		"(context.professional_judgment).",
	]),
}

test_allow_p5_parent_of_minor_state_permits_tx if {
	d := data.hipaa.decision with input as _minor_parent(_in_state("TX"))
	d.allow == true
	[b.code | some b in d.basis] == ["INDIVIDUAL_ACCESS"]
}

test_allow_p5_parent_of_minor_state_permits_fl if {
	d := data.hipaa.decision with input as _minor_parent(_in_state("FL"))
	d.allow == true
	[b.code | some b in d.basis] == ["INDIVIDUAL_ACCESS"]
}

test_deny_p5_parent_of_minor_state_limits_despite_judgment if {
	d := data.hipaa.decision with input as _minor_parent(object.union(
		_in_state("CA"),
		{"context": {"professional_judgment": true}},
	))
	d.allow == false
	_p5_reason in d.reasons
	not "INDIVIDUAL_ACCESS" in fx.codes(d)
}

test_deny_p5_parent_of_minor_one_state_permits_another_limits if {
	d := data.hipaa.decision with input as _minor_parent({
		"patient": {"state": "TX"}, "requester": {"state": "CA"},
		"context": {"professional_judgment": true},
	})
	d.allow == false
	_p5_reason in d.reasons
}

test_allow_p5_parent_of_minor_state_permits_other_silent if {
	d := data.hipaa.decision with input as _minor_parent({"patient": {"state": "TX"}, "requester": {"state": "WY"}})
	d.allow == true
}

test_deny_p5_parent_of_minor_silent_state_without_judgment if {
	d := data.hipaa.decision with input as _minor_parent({})
	d.allow == false
	d.reasons == [_p5_reason]
}

test_deny_p5_unknown_age_counts_as_minor if {
	every patient in [object.remove(fx.base.patient, ["age"]), object.union(fx.base.patient, {"age": null})] {
		d := data.hipaa.decision with input as object.union(
			_minor_parent({}),
			{"patient": object.union(patient, {"minor_consented_care": true})},
		)
		d.allow == false
		d.reasons == [_p5_reason]
	}
}

test_allow_p5_adult_with_minor_consented_care_flag if {
	d := data.hipaa.decision with input as _minor_parent({"patient": {"age": 19}})
	d.allow == true
}

# --- P6, P7 family and friends

_family(patch) := object.union(
	{"purpose": "family_involvement", "recipient": {"type": "family", "involved_in_care": true}},
	patch,
)

test_allow_p6_patient_agrees if {
	d := data.hipaa.decision with input as _req(_family({"patient": {"agrees": true}}))
	d.allow == true
	{
		"FAMILY_INVOLVEMENT",
		"LIMIT_TO_RELEVANT_INFORMATION",
	} & fx.codes(d) == {"FAMILY_INVOLVEMENT", "LIMIT_TO_RELEVANT_INFORMATION"}
}

test_allow_p6_reasonable_inference if {
	d := data.hipaa.decision with input as _req(_family({"context": {"professional_judgment": true}}))
	d.allow == true
}

test_allow_p6_deceased_patient if {
	d := data.hipaa.decision with input as _req(_family({"patient": {"deceased": true, "present": false}}))
	d.allow == true
	"FAMILY_INVOLVEMENT" in fx.codes(d)
}

test_deny_p6_deceased_patient_known_objection if {
	d := data.hipaa.decision with input as _req(_family({"patient": {"deceased": true, "objects": true}}))
	fx.codes(d) == {"PATIENT_OBJECTED"}
}

test_deny_p6_not_asked if {
	d := data.hipaa.decision with input as _req(_family({}))
	d.allow == false
	fx.rules(d) == {"P6"}
}

test_deny_p6_not_involved if {
	d := data.hipaa.decision with input as _req(_family({
		"recipient": {"type": "friend", "involved_in_care": false},
		"patient": {"agrees": true},
	}))
	fx.codes(d) == {"NOT_DIRECTLY_RELEVANT"}
}

test_allow_p7_incapacitated_with_judgment if {
	d := data.hipaa.decision with input as _req(_family({
		"patient": {"incapacitated": true},
		"context": {"professional_judgment": true},
	}))
	d.allow == true
	{"PROFESSIONAL_JUDGMENT", "DOCUMENT_RATIONALE"} & fx.codes(d) == {"PROFESSIONAL_JUDGMENT", "DOCUMENT_RATIONALE"}
}

test_deny_p7_absent_without_judgment if {
	d := data.hipaa.decision with input as _req(_family({"patient": {"present": false}}))
	d.allow == false
	fx.rules(d) == {"P7"}
}

# --- P8 disaster relief

test_allow_p8_disaster_relief if {
	d := data.hipaa.decision with input as _req({
		"purpose": "disaster_relief", "recipient": {"type": "disaster_relief_organization"},
		"data": {"elements": ["name", "location", "lab_results"]},
	})
	d.allow == true
	d.minimum_necessary.permitted_elements == ["location", "name"]
	d.minimum_necessary.withheld_elements == ["lab_results"]
}

test_deny_p8_disaster_relief_to_other if {
	d := data.hipaa.decision with input as _req({"purpose": "disaster_relief", "recipient": {"type": "other"}})
	d.allow == false
}
