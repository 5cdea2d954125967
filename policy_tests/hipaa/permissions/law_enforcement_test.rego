# P13, P14 (v1.2: which legal process suffices), P10 to a court, and P26.
package hipaa.permissions_test

import data.hipaa.fixtures_test as fx

_police(context) := fx.request({
	"requester": {"roles": ["privacy_officer"]},
	"purpose": "law_enforcement",
	"recipient": {"type": "law_enforcement", "name": "Example Police"},
	"context": context,
})

_insufficient := {
	"code": "NO_PERMISSION", "rule": "P14", "citation": "45 CFR 164.512(f)(1)(ii)",
	"message": concat("", [
		"A disclosure to law enforcement under legal process needs a court order, court-ordered ",
		"warrant, judicial or grand jury subpoena, or an administrative request meeting the three ",
		"conditions of 164.512(f)(1)(ii)(C) (context.administrative_request_conditions_met).",
	]),
}

test_allow_p14_orders_limit_to_scope_without_minimum_necessary if {
	every process in ["court_order", "court_ordered_warrant", "judicial_subpoena"] {
		d := data.hipaa.decision with input as _police({"legal_process": process})
		d.allow == true
		d.basis == [{
			"code": "LAW_ENFORCEMENT", "rule": "P14", "citation": "45 CFR 164.512(f)(1)(ii)(A)",
			"summary": "Disclosure to law enforcement as required by a court order, warrant or judicial subpoena.",
		}]
		"LIMIT_TO_ORDER_SCOPE" in fx.codes(d)
		d.minimum_necessary.applies == false
	}
}

test_allow_p14_v1_court_order_flag if {
	d := data.hipaa.decision with input as _police({"court_order": true})
	d.allow == true
	[b.citation | some b in d.basis] == ["45 CFR 164.512(f)(1)(ii)(A)"]
	"LIMIT_TO_ORDER_SCOPE" in fx.codes(d)
}

test_allow_p14_grand_jury_subpoena if {
	d := data.hipaa.decision with input as _police({"legal_process": "grand_jury_subpoena"})
	d.allow == true
	not "LIMIT_TO_ORDER_SCOPE" in fx.codes(d)
	d.minimum_necessary.applies == false
}

test_allow_p14_administrative_request_with_conditions if {
	d := data.hipaa.decision with input as _police({
		"legal_process": "administrative_request",
		"administrative_request_conditions_met": true,
	})
	d.allow == true
	d.minimum_necessary.applies == true
}

test_deny_p14_insufficient_process if {
	every context in [
		{"legal_process": "administrative_request"},
		{"legal_process": "attorney_subpoena"},
		{"legal_process": "discovery_request"},
		{"subpoena": true},
		{"law_enforcement_reason": "legal_process"},
	] {
		d := data.hipaa.decision with input as _police(context)
		d.allow == false
		d.reasons == [_insufficient]
		[r.code | some r in d.requirements] == ["OBTAIN_COURT_ORDER"]
	}
}

_court(context) := fx.request({
	"requester": {"roles": ["privacy_officer"]},
	"purpose": "judicial_proceeding",
	"recipient": {"type": "court", "name": "Example Court"},
	"context": context,
})

test_allow_p13_order_limits_to_scope if {
	d := data.hipaa.decision with input as _court({"legal_process": "judicial_subpoena"})
	d.allow == true
	d.basis == [{
		"code": "JUDICIAL_PROCEEDING", "rule": "P13", "citation": "45 CFR 164.512(e)(1)(i)",
		"summary": "Disclosure in a judicial or administrative proceeding under an order of the court.",
	}]
	"LIMIT_TO_ORDER_SCOPE" in fx.codes(d)
	d.minimum_necessary.applies == false
}

test_allow_p13_other_process_with_assurances if {
	every process in ["grand_jury_subpoena", "attorney_subpoena", "discovery_request", "administrative_request"] {
		d := data.hipaa.decision with input as _court({"legal_process": process, "satisfactory_assurances": true})
		d.allow == true
		[b.citation | some b in d.basis] == ["45 CFR 164.512(e)(1)(ii)"]
		d.minimum_necessary.applies == true
	}
}

test_deny_p13_other_process_without_assurances if {
	d := data.hipaa.decision with input as _court({"legal_process": "attorney_subpoena"})
	d.allow == false
	fx.codes(d) == {"NO_PERMISSION", "OBTAIN_COURT_ORDER"}
}

_law(patch) := fx.request(object.union(
	{
		"requester": {"roles": ["privacy_officer"]},
		"purpose": "required_by_law",
		"recipient": {"name": "Example Agency"},
	},
	patch,
))

test_deny_p10_to_court_without_process if {
	d := data.hipaa.decision with input as _law({"recipient": {"type": "court"}})
	d.allow == false
	d.reasons == [{
		"code": "NO_PERMISSION", "rule": "P10", "citation": "45 CFR 164.512(a)(2), 164.512(e)(1)",
		"message": concat("", [
			"A disclosure required by law to a court needs the process of a judicial proceeding: a court ",
			"order, or other lawful process with satisfactory assurances.",
		]),
	}]
}

test_allow_p10_to_court_with_order if {
	d := data.hipaa.decision with input as _law({
		"recipient": {"type": "court"},
		"context": {"legal_process": "court_order"},
	})
	d.allow == true
	[b.code | some b in d.basis] == ["REQUIRED_BY_LAW"]
}

test_allow_p10_to_law_enforcement_alone if {
	d := data.hipaa.decision with input as _law({"recipient": {"type": "law_enforcement"}})
	d.allow == true
	not "INFORM_VICTIM" in fx.codes(d)
}

test_allow_p10_adult_victim_informed if {
	d := data.hipaa.decision with input as _law({
		"recipient": {"type": "government_agency"},
		"context": {"abuse_victim": "adult"},
	})
	d.allow == true
	[b.citation | some b in d.basis] == ["45 CFR 164.512(a), (c)(2)"]
	"INFORM_VICTIM" in fx.codes(d)
}

test_allow_p26_identification_view if {
	d := data.hipaa.decision with input as object.union(
		_police({"law_enforcement_reason": "identification_location"}),
		{"data": {"elements": ["name", "place_of_birth", "lab_results", "clinical_notes"]}},
	)
	d.allow == true
	d.basis == [{
		"code": "LAW_ENFORCEMENT", "rule": "P26", "citation": "45 CFR 164.512(f)(2)",
		"summary": concat(" ", [
			"Disclosure to law enforcement to identify or locate a suspect, fugitive,",
			"material witness or missing person.",
		]),
		"law_enforcement_reason": "identification_location",
	}]
	d.minimum_necessary == {
		"applies": true, "permitted_elements": ["name", "place_of_birth"],
		"withheld_elements": ["clinical_notes", "lab_results"],
	}
}

test_allow_p26_identification_whole_view if {
	d := data.hipaa.decision with input as object.union(
		_police({"law_enforcement_reason": "identification_location"}),
		{"data": {"elements": []}},
	)
	d.allow == true
	d.minimum_necessary.permitted_elements == sort(data.config.roles.views.identification)
}

test_deny_p26_identification_excluded_only if {
	every patch in [{"elements": ["lab_results"]}, {"categories": ["genetic"]}] {
		d := data.hipaa.decision with input as object.union(
			_police({"law_enforcement_reason": "identification_location"}),
			{"data": patch},
		)
		d.allow == false
		[r.citation | some r in d.reasons] == ["45 CFR 164.512(f)(2)(ii)"]
	}
}

test_allow_p26_crime_victim if {
	every patch in [
		{"context": {"victim_agrees": true}},
		{
			"patient": {"incapacitated": true},
			"context": {"law_enforcement_representations": true, "professional_judgment": true},
		},
	] {
		d := data.hipaa.decision with input as object.union(_police({"law_enforcement_reason": "crime_victim"}), patch)
		d.allow == true
		[b.citation | some b in d.basis] == ["45 CFR 164.512(f)(3)"]
	}
}

test_deny_p26_crime_victim if {
	every patch in [
		{},
		{"patient": {"incapacitated": true}, "context": {"law_enforcement_representations": true}},
		{"patient": {"incapacitated": true}, "context": {"professional_judgment": true}},
		{"context": {"law_enforcement_representations": true, "professional_judgment": true}},
	] {
		d := data.hipaa.decision with input as object.union(_police({"law_enforcement_reason": "crime_victim"}), patch)
		d.allow == false
		[r.code | some r in d.requirements] == ["OBTAIN_VICTIM_AGREEMENT"]
	}
}

test_allow_p26_decedent_crime if {
	d := data.hipaa.decision with input as object.union(
		_police({"law_enforcement_reason": "decedent_crime", "suspected_criminal_conduct": true}),
		{"patient": {"deceased": true}},
	)
	d.allow == true
	[b.citation | some b in d.basis] == ["45 CFR 164.512(f)(4)"]
}

test_deny_p26_decedent_crime if {
	every patch in [
		{"context": {"suspected_criminal_conduct": true}},
		{"patient": {"deceased": true}},
	] {
		d := data.hipaa.decision with input as object.union(
			_police({"law_enforcement_reason": "decedent_crime"}),
			patch,
		)
		d.allow == false
		[r.citation | some r in d.reasons] == ["45 CFR 164.512(f)(4)"]
	}
}

test_allow_p26_crime_on_premises if {
	d := data.hipaa.decision with input as _police({
		"law_enforcement_reason": "crime_on_premises",
		"suspected_criminal_conduct": true,
	})
	d.allow == true
	[b.citation | some b in d.basis] == ["45 CFR 164.512(f)(5)"]
}

test_deny_p26_crime_on_premises_without_suspicion if {
	d := data.hipaa.decision with input as _police({"law_enforcement_reason": "crime_on_premises"})
	d.allow == false
	[r.citation | some r in d.reasons] == ["45 CFR 164.512(f)(5)"]
}

test_allow_p26_emergency_crime_report if {
	d := data.hipaa.decision with input as _police({"law_enforcement_reason": "emergency_crime_report"})
	d.allow == true
	[b.citation | some b in d.basis] == ["45 CFR 164.512(f)(6)"]
	d.accountable == true
}

test_deny_p26_emergency_report_about_abuse_victim if {
	every victim in ["child", "adult"] {
		d := data.hipaa.decision with input as _police({
			"law_enforcement_reason": "emergency_crime_report",
			"abuse_victim": victim,
		})
		d.allow == false
		[r.citation | some r in d.reasons] == ["45 CFR 164.512(f)(6)(ii)"]
	}
}
