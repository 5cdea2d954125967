# v1.2 of P6-P8 and the new P24: a refusal is an objection, an earlier agreement counts, a
# capable patient's objection to disaster relief is honoured, and family notification.
package hipaa.permissions_test

import data.hipaa.fixtures_test as fx

_relative(patch) := fx.request(object.union(
	{
		"purpose": "family_involvement",
		"recipient": {"type": "family", "involved_in_care": true},
		"data": {"elements": ["general_condition", "location"]},
	},
	patch,
))

_objected_reason := {
	"code": "PATIENT_OBJECTED", "rule": "P6", "citation": "45 CFR 164.510(b)(2)-(3), (b)(5)",
	"message": concat("", [
		"The patient objected to or refused this disclosure (patient.objects true or patient.agrees ",
		"false); only the patient's agreement can change it.",
	]),
}

test_deny_p6_refusal_overrides_professional_judgment if {
	d := data.hipaa.decision with input as _relative({
		"patient": {"agrees": false},
		"context": {"professional_judgment": true},
	})
	d.allow == false
	d.reasons == [_objected_reason]
	d.basis == []
}

test_allow_p6_agreement_with_judgment_and_no_refusal if {
	d := data.hipaa.decision with input as _relative({"context": {"professional_judgment": true}})
	d.allow == true
	[b.code | some b in d.basis] == ["FAMILY_INVOLVEMENT"]
}

test_allow_p6_earlier_agreement_patient_absent if {
	d := data.hipaa.decision with input as _relative({"patient": {"present": false, "agrees": true}})
	d.allow == true
	[b.rule | some b in d.basis] == ["P6"]
}

test_deny_p7_earlier_refusal_patient_absent if {
	d := data.hipaa.decision with input as _relative({
		"patient": {"present": false, "agrees": false},
		"context": {"professional_judgment": true},
	})
	d.allow == false
	d.reasons == [_objected_reason]
}

test_deny_p7_absent_without_judgment_names_requirement if {
	d := data.hipaa.decision with input as _relative({"patient": {"present": false}})
	d.allow == false
	d.requirements == [{
		"code": "EXERCISE_PROFESSIONAL_JUDGMENT", "rule": "P7",
		"message": concat("", [
			"Have a licensed professional judge whether the disclosure is in the patient's best interest ",
			"(context.professional_judgment), or obtain the patient's agreement (45 CFR 164.510(b)(3)).",
		]),
	}]
}

test_allow_p7_absent_with_judgment if {
	d := data.hipaa.decision with input as _relative({
		"patient": {"present": false},
		"context": {"professional_judgment": true},
	})
	d.allow == true
	[b.code | some b in d.basis] == ["PROFESSIONAL_JUDGMENT"]
}

_disaster(patch) := fx.request(object.union(
	{
		"requester": {"roles": ["nurse"]},
		"purpose": "disaster_relief",
		"recipient": {"type": "disaster_relief_organization"},
		"data": {"elements": ["name", "location"]},
	},
	patch,
))

test_deny_p8_capable_patient_objects if {
	d := data.hipaa.decision with input as _disaster({"patient": {"objects": true}})
	d.allow == false
	d.reasons == [{
		"code": "PATIENT_OBJECTED", "rule": "P8", "citation": "45 CFR 164.510(b)(2), (b)(4)",
		"message": concat("", [
			"The patient, present and able to decide, objected to disclosure for disaster relief; only a ",
			"finding that honouring the objection would interfere with the emergency response ",
			"(context.emergency_response_interference) permits it.",
		]),
	}]
}

test_deny_p8_capable_patient_refuses if {
	d := data.hipaa.decision with input as _disaster({"patient": {"agrees": false}})
	d.allow == false
	[r.code | some r in d.reasons] == ["PATIENT_OBJECTED"]
}

test_allow_p8_objection_would_interfere if {
	d := data.hipaa.decision with input as _disaster({
		"patient": {"objects": true},
		"context": {"emergency_response_interference": true},
	})
	d.allow == true
	[b.code | some b in d.basis] == ["DISASTER_RELIEF"]
}

test_allow_p8_incapacitated_patient_objection_not_capable if {
	d := data.hipaa.decision with input as _disaster({"patient": {"objects": true, "incapacitated": true}})
	d.allow == true
}

test_allow_p8_no_objection if {
	d := data.hipaa.decision with input as _disaster({})
	d.allow == true
}

_notify(patch) := fx.request(object.union(
	{
		"requester": {"roles": ["nurse"]},
		"purpose": "family_notification",
		"recipient": {"type": "friend"},
		"data": {"elements": ["name", "general_condition", "lab_results"]},
	},
	patch,
))

test_allow_p24_no_objection_notification_view if {
	d := data.hipaa.decision with input as _notify({"patient": {"objects": false}})
	d.allow == true
	d.basis == [{
		"code": "FAMILY_NOTIFICATION", "rule": "P24", "citation": "45 CFR 164.510(b)(1)(ii)",
		"summary": "Notifying a family member or other person responsible for the patient of location, condition or death.",
	}]
	d.minimum_necessary == {
		"applies": true,
		"permitted_elements": ["general_condition", "name"],
		"withheld_elements": ["lab_results"],
	}
	d.accountable == false
}

test_deny_p24_present_patient_not_asked if {
	d := data.hipaa.decision with input as _notify({})
	d.allow == false
	[[r.rule, r.code] | some r in d.reasons] == [["P24", "NO_PERMISSION"]]
}

test_deny_p24_objection if {
	d := data.hipaa.decision with input as _notify({"patient": {"objects": true}})
	d.allow == false
	d.reasons == [{
		"code": "PATIENT_OBJECTED", "rule": "P24", "citation": "45 CFR 164.510(b)(1)(ii), (b)(2)-(3), (b)(5)",
		"message": concat("", [
			"The patient objected to or refused this notification (patient.objects true or ",
			"patient.agrees false); only the patient's agreement can change it.",
		]),
	}]
}

test_allow_p24_incapacitated_with_judgment if {
	d := data.hipaa.decision with input as _notify({
		"patient": {"incapacitated": true},
		"context": {"professional_judgment": true},
	})
	d.allow == true
	{b.code | some b in d.basis} == {"FAMILY_NOTIFICATION", "PROFESSIONAL_JUDGMENT"}
	"DOCUMENT_RATIONALE" in fx.codes(d)
}

test_deny_p24_incapacitated_without_judgment if {
	d := data.hipaa.decision with input as _notify({"patient": {"incapacitated": true}})
	d.allow == false
	[[r.rule, r.code] | some r in d.requirements] == [["P24", "EXERCISE_PROFESSIONAL_JUDGMENT"]]
}

test_allow_p24_deceased_patient if {
	d := data.hipaa.decision with input as _notify({"patient": {"deceased": true, "present": false}})
	d.allow == true
}

test_deny_p24_deceased_patient_known_objection if {
	d := data.hipaa.decision with input as _notify({"patient": {"deceased": true, "objects": true}})
	d.allow == false
}

test_deny_p24_other_recipient_type if {
	d := data.hipaa.decision with input as _notify({"recipient": {"type": "other"}, "patient": {"objects": false}})
	d.allow == false
	fx.codes(d) == {"NO_PERMISSION", "OBTAIN_PATIENT_AUTHORIZATION"}
}
