package hipaa.accounting_test

import data.hipaa.fixtures_test as fx

_req(patch) := fx.request(patch)

test_allow_a_public_health_is_accountable if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["nurse"]},
		"purpose": "public_health",
		"recipient": {"type": "public_health_authority"},
	})
	d.allow == true
	d.accountable == true
	{
		"code": "ACCOUNT_FOR_DISCLOSURE", "rule": "A", "citation": "45 CFR 164.528; 42 CFR 2.25",
		"message": "Record this disclosure for the patient's accounting of disclosures.",
	} in d.obligations
}

test_allow_a_tpo_is_not_accountable if {
	d := data.hipaa.decision with input as _req({})
	d.allow == true
	d.accountable == false
	not "ACCOUNT_FOR_DISCLOSURE" in fx.codes(d)
}

test_allow_a_limited_data_set_is_not_accountable if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["nurse"]}, "purpose": "public_health", "recipient": {"type": "public_health_authority"},
		"data": {"form": "limited_data_set", "elements": ["zip_code"]}, "context": {"data_use_agreement_id": "dua-1"},
	})
	d.allow == true
	d.accountable == false
}

# 164.528(a)(1)(viii) excludes a limited data set disclosed under 164.514(e) (research, public
# health, operations with a DUA), not any disclosure of data in that form.
test_allow_limited_data_set_form_outside_164_514e_is_accountable if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["care_coordinator"]}, "purpose": "serious_threat",
		"recipient": {"type": "law_enforcement", "id": "pd-0001"},
		"data": {"form": "limited_data_set", "elements": ["zip_code"]},
		"context": {"serious_imminent_threat": true},
	})
	d.allow == true
	[b.code | some b in d.basis] == ["SERIOUS_THREAT"]
	d.accountable == true
	"ACCOUNT_FOR_DISCLOSURE" in fx.codes(d)
}

test_deny_a_denied_disclosure_is_not_accountable if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["nurse"], "mfa": false},
		"purpose": "public_health",
		"recipient": {"type": "public_health_authority"},
	})
	d.allow == false
	d.accountable == false
	d.obligations == []
}

# v1.2 rule A: the new 164.512 pathways are accountable (P30 national security and correctional
# institutions are not, 164.528(a)(1)(vi)-(vii)), and an accounting entry names the recipient.
test_allow_a_new_pathways_are_accountable if {
	every patch in [
		{"purpose": "workers_compensation", "recipient": {"type": "employer"}, "context": {"authorized_by_law": true}},
		{"purpose": "organ_donation", "recipient": {"type": "organ_procurement_organization"}},
		{"purpose": "funeral_arrangements", "recipient": {"type": "funeral_director"}, "patient": {"deceased": true}},
		{"purpose": "abuse_report", "recipient": {"type": "government_agency"}, "context": {"abuse_victim": "child"}},
		{
			"purpose": "specialized_government_function", "recipient": {"type": "government_agency"},
			"context": {"government_function": "military", "authorized_by_law": true},
		},
	] {
		d := data.hipaa.decision with input as _req(object.union({"requester": {"roles": ["privacy_officer"]}}, patch))
		d.allow == true
		d.accountable == true
		"ACCOUNT_FOR_DISCLOSURE" in fx.codes(d)
	}
}

test_allow_a_national_security_is_not_accountable if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["privacy_officer"]}, "purpose": "specialized_government_function",
		"recipient": {"type": "government_agency"}, "context": {"government_function": "national_security"},
	})
	d.allow == true
	d.accountable == false
}

test_deny_a_accountable_without_recipient_name if {
	every name in [null, "", "   ", "\t\n"] {
		d := data.hipaa.decision with input as _req({
			"requester": {"roles": ["nurse"]}, "purpose": "public_health",
			"recipient": {"type": "public_health_authority", "name": name},
		})
		d.allow == false
		d.reasons == [{
			"code": "RECIPIENT_NAME_REQUIRED", "rule": "A", "citation": "45 CFR 164.528(b)(2)(ii)",
			"message": "This disclosure must be accounted for, and the accounting must name the recipient (recipient.name).",
		}]
		d.requirements == [{
			"code": "PROVIDE_RECIPIENT_NAME", "rule": "A",
			"message": "Give the recipient's name (recipient.name) so that the accounting of disclosures can name it.",
		}]
	}
}

test_allow_a_not_accountable_needs_no_recipient_name if {
	d := data.hipaa.decision with input as _req({"recipient": {"name": null}})
	d.allow == true
}
