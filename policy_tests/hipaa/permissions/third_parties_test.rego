# P25, P27-P31 (v1.2), P5 patient-directed copies and 164.502(g)(5), P20 outside counsel.
package hipaa.permissions_test

import data.hipaa.fixtures_test as fx

_report(context) := fx.request({
	"requester": {"roles": ["physician"]},
	"purpose": "abuse_report",
	"recipient": {"type": "government_agency", "name": "Example Agency"},
	"context": context,
})

test_allow_p25_child if {
	every recipient in ["government_agency", "public_health_authority", "law_enforcement"] {
		d := data.hipaa.decision with input as object.union(
			_report({"abuse_victim": "child"}),
			{"recipient": {"type": recipient}},
		)
		d.allow == true
		d.basis == [{
			"code": "ABUSE_NEGLECT_REPORT", "rule": "P25", "citation": "45 CFR 164.512(b)(1)(ii)",
			"summary": "Report of child abuse or neglect to an authority authorized by law to receive it.",
			"abuse_victim": "child",
		}]
		d.accountable == true
		not "INFORM_VICTIM" in fx.codes(d)
	}
}

test_allow_p25_adult_conditions if {
	every patch in [
		{"context": {"report_required_by_law": true}},
		{"context": {"victim_agrees": true}},
		{"context": {"authorized_by_law": true, "professional_judgment": true}},
		{
			"context": {"authorized_by_law": true, "law_enforcement_representations": true},
			"patient": {"incapacitated": true},
		},
	] {
		d := data.hipaa.decision with input as object.union(_report({"abuse_victim": "adult"}), patch)
		d.allow == true
		[b.citation | some b in d.basis] == ["45 CFR 164.512(c)(1)"]
		"INFORM_VICTIM" in fx.codes(d)
	}
}

test_deny_p25_adult_conditions_unmet if {
	every patch in [
		{},
		{"context": {"authorized_by_law": true}},
		{"context": {"authorized_by_law": true, "law_enforcement_representations": true}},
		{"context": {"professional_judgment": true}},
	] {
		d := data.hipaa.decision with input as object.union(_report({"abuse_victim": "adult"}), patch)
		d.allow == false
		d.requirements == [{
			"code": "OBTAIN_VICTIM_AGREEMENT", "rule": "P25",
			"message": "Obtain the victim's agreement to the report (45 CFR 164.512(c)(1)(ii)).",
		}]
	}
}

test_deny_p25_to_other_recipient if {
	d := data.hipaa.decision with input as object.union(
		_report({"abuse_victim": "child"}),
		{"recipient": {"type": "family"}},
	)
	d.allow == false
	fx.rules(d) == {"P0"}
}

_comp(patch) := fx.request(object.union(
	{
		"requester": {"roles": ["case_manager"]},
		"purpose": "workers_compensation",
		"recipient": {"type": "employer", "name": "Example Employer"},
	},
	patch,
))

test_allow_p27_authorized_by_law if {
	every recipient in ["employer", "workers_compensation_insurer"] {
		d := data.hipaa.decision with input as _comp({
			"recipient": {"type": recipient},
			"context": {"authorized_by_law": true},
		})
		d.allow == true
		d.basis == [{
			"code": "WORKERS_COMPENSATION", "rule": "P27", "citation": "45 CFR 164.512(l)",
			"summary": "Disclosure as authorized by and to comply with a workers' compensation law.",
		}]
		d.accountable == true
	}
}

test_deny_p27_without_law if {
	d := data.hipaa.decision with input as _comp({})
	d.allow == false
	fx.codes(d) == {"NO_PERMISSION", "OBTAIN_PATIENT_AUTHORIZATION"}
	fx.rules(d) == {"P27"}
}

_po_req(purpose, recipient, patch) := fx.request(object.union(
	{
		"requester": {"roles": ["privacy_officer"]}, "purpose": purpose,
		"recipient": {"type": recipient, "name": "Example Recipient"},
	},
	patch,
))

test_allow_p28_organ_donation if {
	d := data.hipaa.decision with input as _po_req("organ_donation", "organ_procurement_organization", {})
	d.allow == true
	[b.code | some b in d.basis] == ["ORGAN_DONATION"]
	d.accountable == true
}

test_deny_p28_other_recipient if {
	d := data.hipaa.decision with input as _po_req("organ_donation", "other", {})
	d.allow == false
}

test_allow_p29_funeral_director if {
	every patch in [{"patient": {"deceased": true}}, {"context": {"professional_judgment": true}}] {
		d := data.hipaa.decision with input as _po_req("funeral_arrangements", "funeral_director", patch)
		d.allow == true
		[b.code | some b in d.basis] == ["FUNERAL_DIRECTOR"]
	}
}

test_deny_p29_before_death if {
	d := data.hipaa.decision with input as _po_req("funeral_arrangements", "funeral_director", {})
	d.allow == false
	[r.code | some r in d.requirements] == ["EXERCISE_PROFESSIONAL_JUDGMENT"]
}

_gov(function, recipient, patch) := _po_req(
	"specialized_government_function", recipient,
	object.union({"context": {"government_function": function}}, patch),
)

test_allow_p30_functions if {
	every case in [
		[
			"correctional_institution",
			"correctional_institution",
			{"patient": {"inmate": true}, "context": {"law_enforcement_representations": true}},
			"45 CFR 164.512(k)(5)",
			false,
		],
		[
			"correctional_institution",
			"law_enforcement",
			{"patient": {"inmate": true}, "context": {"law_enforcement_representations": true}},
			"45 CFR 164.512(k)(5)",
			false,
		],
		["national_security", "government_agency", {}, "45 CFR 164.512(k)(2)", false],
		["protective_services", "government_agency", {}, "45 CFR 164.512(k)(3)", true],
		["military", "government_agency", {"context": {"authorized_by_law": true}}, "45 CFR 164.512(k)(1)", true],
	] {
		d := data.hipaa.decision with input as _gov(case[0], case[1], case[2])
		d.allow == true
		[b.citation | some b in d.basis] == [case[3]]
		d.accountable == case[4]
	}
}

test_deny_p30_conditions_unmet if {
	every case in [
		[
			"correctional_institution",
			"correctional_institution",
			{"context": {"law_enforcement_representations": true}},
		],
		["correctional_institution", "correctional_institution", {"patient": {"inmate": true}}],
		[
			"correctional_institution",
			"government_agency",
			{"patient": {"inmate": true}, "context": {"law_enforcement_representations": true}},
		],
		["national_security", "law_enforcement", {}],
		["protective_services", "other", {}],
		["military", "government_agency", {}],
	] {
		d := data.hipaa.decision with input as _gov(case[0], case[1], case[2])
		d.allow == false
		[[r.rule, r.government_function] | some r in d.reasons; r.rule == "P30"] == [["P30", case[0]]]
	}
}

test_allow_p31_public_health_beyond_the_authority if {
	every case in [
		["at_risk_person", {"context": {"authorized_by_law": true}}, "45 CFR 164.512(b)(1)(iv)"],
		["employer", {"context": {"authorized_by_law": true}}, "45 CFR 164.512(b)(1)(v)"],
		["fda_regulated_entity", {}, "45 CFR 164.512(b)(1)(iii)"],
	] {
		d := data.hipaa.decision with input as _po_req("public_health", case[0], case[1])
		d.allow == true
		[b.citation | some b in d.basis] == [case[2]]
	}
}

test_allow_p31_employer_notice_in_writing if {
	d := data.hipaa.decision with input as _po_req(
		"public_health",
		"employer",
		{"context": {"authorized_by_law": true}},
	)
	"NOTIFY_INDIVIDUAL_IN_WRITING" in fx.codes(d)
}

test_deny_p31_without_law if {
	every recipient in ["at_risk_person", "employer"] {
		d := data.hipaa.decision with input as _po_req("public_health", recipient, {})
		d.allow == false
		[r.citation | some r in d.reasons] == ["45 CFR 164.512(b)(1)(iv)-(v)"]
	}
}

test_allow_p5_patient_directed_copy if {
	d := data.hipaa.decision with input as _po_req(
		"individual_access",
		"provider",
		{"context": {"patient_directed": true}},
	)
	d.allow == true
	d.basis == [{
		"code": "INDIVIDUAL_ACCESS", "rule": "P5", "citation": "45 CFR 164.524(c)(3)(ii)",
		"summary": "An electronic copy sent to the third party the patient designated in a signed written request.",
		"patient_directed": true,
	}]
}

test_deny_p5_third_party_without_direction if {
	d := data.hipaa.decision with input as _po_req("individual_access", "provider", {})
	d.allow == false
}

test_deny_p5_representative_abuse_suspected if {
	d := data.hipaa.decision with input as _po_req("individual_access", "personal_representative", {"context": {
		"representative_abuse_suspected": true,
		"professional_judgment": true,
	}})
	d.allow == false
	[[r.code, r.citation] | some r in d.reasons] == [["REPRESENTATIVE_NOT_RECOGNIZED", "45 CFR 164.502(g)(5)"]]
	d.basis == []
}

test_allow_p5_representative_suspicion_without_judgment if {
	d := data.hipaa.decision with input as _po_req(
		"individual_access",
		"personal_representative",
		{"context": {"representative_abuse_suspected": true}},
	)
	d.allow == true
}

test_allow_p20_outside_counsel_with_baa if {
	d := data.hipaa.decision with input as _po_req(
		"legal_defense",
		"business_associate",
		{"recipient": {"id": "ba-outside-counsel"}},
	)
	d.allow == true
	{b.rule | some b in d.basis} == {"P4", "P20"}
}

test_allow_p20_outside_counsel_operations_baa if {
	d := data.hipaa.decision with input as _po_req(
		"legal_defense",
		"business_associate",
		{"recipient": {"id": "ba-care-analytics"}},
	)
	d.allow == true
	[b.rule | some b in d.basis] == ["P20"]
}

test_deny_p20_outside_counsel_without_baa if {
	every recipient in [{"type": "other"}, {"type": "business_associate", "id": "ba-pending-vendor"}] {
		d := data.hipaa.decision with input as _po_req("legal_defense", "other", {"recipient": recipient})
		d.allow == false
		{[r.code, r.rule] | some r in d.reasons; r.rule == "P20"} == {["BAA_REQUIRED", "P20"]}
		"EXECUTE_BAA" in fx.codes(d)
	}
}
