package hipaa.safeguards_test

import data.hipaa.fixtures_test as fx

test_allow_s1_mfa_true if {
	d := data.hipaa.decision with input as fx.base
	not "MFA_REQUIRED" in fx.codes(d)
}

test_deny_s1_mfa_false if {
	d := data.hipaa.decision with input as fx.request({"requester": {"mfa": false}})
	d.allow == false
	{
		"code": "MFA_REQUIRED", "citation": "45 CFR 164.312(d), 164.308(a)(5)(ii)(D)",
		"message": "The requester must authenticate with multi-factor authentication.", "rule": "S1",
	} in d.reasons
	{
		"code": "COMPLETE_MFA",
		"message": "Sign in again with multi-factor authentication.",
		"rule": "S1",
	} in d.requirements
}

test_allow_s2_any_role_may_act if {
	d := data.hipaa.decision with input as fx.request({"requester": {"roles": ["billing_specialist", "nurse"]}})
	d.allow == true
}

test_deny_s2_role_not_permitted if {
	d := data.hipaa.decision with input as fx.request({"requester": {"roles": ["billing_specialist"]}})
	d.allow == false
	"ROLE_NOT_PERMITTED" in fx.codes(d)
}

test_deny_s2_unknown_role if {
	d := data.hipaa.decision with input as fx.request({"requester": {"roles": ["janitor"]}})
	"ROLE_NOT_PERMITTED" in fx.codes(d)
}

test_allow_s3_user_not_revoked if {
	d := data.hipaa.decision with input as fx.base
	not "ACCESS_REVOKED" in fx.codes(d)
}

test_deny_s3_revoked_user if {
	d := data.hipaa.decision with input as fx.request({"requester": {"user_id": "u-revoked-1"}})
	d.allow == false
	"ACCESS_REVOKED" in fx.codes(d)
}

test_deny_s3_revoked_list_updated_without_redeploy if {
	d := data.hipaa.decision with input as fx.base with data.config.revoked_access as {"users": {"u-102": {}}}
	"ACCESS_REVOKED" in fx.codes(d)
}

test_allow_s4_workforce_needs_no_verification if {
	d := data.hipaa.decision with input as fx.request({
		"requester": {"roles": ["nurse"]},
		"recipient": {"type": "workforce", "id": "u-205", "identity_verified": false},
	})
	d.allow == true
}

test_deny_s4_recipient_not_verified if {
	d := data.hipaa.decision with input as fx.request({"recipient": {"identity_verified": false}})
	d.allow == false
	{
		"RECIPIENT_NOT_VERIFIED",
		"VERIFY_RECIPIENT_IDENTITY",
	} & fx.codes(d) == {"RECIPIENT_NOT_VERIFIED", "VERIFY_RECIPIENT_IDENTITY"}
}

# v1.2: the deny names the roles that may act for the purpose.
test_deny_s2_names_the_roles_that_may_act if {
	d := data.hipaa.decision with input as fx.request({
		"requester": {"roles": ["janitor"]},
		"purpose": "abuse_report",
		"context": {"abuse_victim": "child"},
		"recipient": {"type": "government_agency"},
	})
	d.reasons == [{
		"code": "ROLE_NOT_PERMITTED", "rule": "S2", "citation": "45 CFR 164.308(a)(4), 164.514(d)(2)",
		"message": concat("", [
			"None of the requester's roles may disclose for this purpose; roles that may: ",
			"care_coordinator, nurse, physician, privacy_officer, therapist.",
		]),
		"permitted_roles": ["care_coordinator", "nurse", "physician", "privacy_officer", "therapist"],
	}]
}

test_deny_s2_no_role_may_act if {
	d := data.hipaa.decision with input as fx.request({"requester": {"roles": ["janitor"]}})
		with data.config.roles.roles as {"physician": {"purposes": {"payment": "payment"}}}
	some r in d.reasons
	r.code == "ROLE_NOT_PERMITTED"
	r.permitted_roles == []
	endswith(r.message, "roles that may: none in the role catalog.")
}

test_deny_s3_revoked_user_in_another_case if {
	every user_id in ["U-REVOKED-1", "U-Revoked-1"] {
		d := data.hipaa.decision with input as fx.request({"requester": {"user_id": user_id}})
		"ACCESS_REVOKED" in fx.codes(d)
	}
}

test_deny_s3_revoked_list_entry_in_another_case if {
	d := data.hipaa.decision with input as fx.base with data.config.revoked_access as {"users": {"U-102": {}}}
	"ACCESS_REVOKED" in fx.codes(d)
}
