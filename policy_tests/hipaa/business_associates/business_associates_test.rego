package hipaa.business_associates_test

import data.hipaa.fixtures_test as fx

_req(patch) := fx.request(patch)

_ops(id) := {"purpose": "health_care_operations", "recipient": {"type": "business_associate", "id": id}}

test_allow_p4_executed_baa if {
	d := data.hipaa.decision with input as _req(_ops("ba-care-analytics"))
	d.allow == true
	some b in d.basis
	b == {
		"code": "BUSINESS_ASSOCIATE", "citation": "45 CFR 164.502(e), 164.504(e)", "rule": "P4",
		"summary": "Disclosure to a business associate under a BAA in force that covers this purpose.",
		"business_associate_id": "ba-care-analytics",
	}
}

test_deny_p4_expired_baa if {
	d := data.hipaa.decision with input as _req(_ops("ba-expired-vendor"))
	fx.codes(d) == {"BAA_REQUIRED", "EXECUTE_BAA"}
}

test_deny_p4_pending_baa_even_with_authorization if {
	d := data.hipaa.decision with input as _req(object.union(_ops("ba-pending-vendor"), {
		"authorizations": [fx.authorization("hipaa_authorization", {"purposes": ["health_care_operations"]})],
	}))
	d.allow == false
	"BAA_REQUIRED" in fx.codes(d)
}

test_deny_p4_baa_not_covering_purpose if {
	d := data.hipaa.decision with input as _req({
		"recipient": {"type": "business_associate", "id": "ba-care-analytics"},
	})
	"BAA_REQUIRED" in fx.codes(d)
}

test_deny_p4_baa_not_yet_effective if {
	baa := {
		"status": "executed", "effective_on": "2027-01-01", "expires_on": null,
		"purposes": ["health_care_operations"],
	}
	d := data.hipaa.decision with input as _req(_ops("ba-care-analytics"))
		with data.config.business_associates["ba-care-analytics"].baa as baa
	"BAA_REQUIRED" in fx.codes(d)
}

test_deny_p4_kind_must_match_recipient_type if {
	d := data.hipaa.decision with input as _req({
		"purpose": "treatment",
		"recipient": {"type": "business_associate", "id": "co-meals-on-wheels"},
	})
	"BAA_REQUIRED" in fx.codes(d)
}

test_allow_p4_community_organization_with_baa if {
	d := data.hipaa.decision with input as _req({
		"recipient": {"type": "community_organization", "id": "co-meals-on-wheels"},
	})
	d.allow == true
	d.minimum_necessary.applies == true
}

test_deny_p4_community_organization_without_baa if {
	d := data.hipaa.decision with input as _req({"recipient": {"type": "community_organization", "id": "co-food-bank"}})
	fx.codes(d) == {"NO_PERMISSION", "OBTAIN_PATIENT_AUTHORIZATION"}
	fx.rules(d) == {"P4"}
}

test_allow_p4_community_organization_with_authorization if {
	d := data.hipaa.decision with input as _req({
		"recipient": {"type": "community_organization", "id": "co-food-bank"},
		"authorizations": [fx.authorization("hipaa_authorization", {"recipients": ["co-food-bank"]})],
	})
	d.allow == true
}

test_allow_p4_hipaa_floor_option if {
	d := data.hipaa.decision with input as _req({
		"recipient": {"type": "community_organization", "id": "co-food-bank"},
	})
		with data.config.options as {"community_treatment_disclosures": "hipaa_floor"}
	d.allow == true
	[b.code | some b in d.basis] == ["TREATMENT"]
	d.minimum_necessary.applies == true
}

test_deny_p4_hipaa_floor_only_for_treatment if {
	d := data.hipaa.decision with input as _req({
		"purpose": "payment",
		"recipient": {"type": "community_organization", "id": "co-food-bank"},
	})
		with data.config.options as {"community_treatment_disclosures": "hipaa_floor"}
	d.allow == false
}

test_deny_p4_hie_payment_without_baa if {
	d := data.hipaa.decision with input as _req({
		"purpose": "payment",
		"recipient": {"type": "hie", "id": "hie-statewide"},
	})
		with data.config.business_associates as {}
	"BAA_REQUIRED" in fx.codes(d)
}

test_allow_p1_hie_participation_agreement_without_baa if {
	d := data.hipaa.decision with input as _req({"recipient": {"type": "hie", "id": "hie-statewide"}})
		with data.config.business_associates as {}
		with data.config.hie_agreements as {"hie-statewide": {
			"status": "active", "effective_on": null, "expires_on": null,
			"purposes": ["treatment"],
		}}
	d.allow == true
	[b.code | some b in d.basis] == ["TREATMENT"]
}

# Registry dates that are not YYYY-MM-DD calendar dates never count as in force (fail closed).
_malformed_dates := [
	{"effective_on": "2025-01-01", "expires_on": "31-12-2028"},
	{"effective_on": "2025-01-01", "expires_on": "2028-13-01"},
	{"effective_on": "2025-01-01", "expires_on": "2028-1-1"},
	{"effective_on": "2025-01-01", "expires_on": "9999"},
	{"effective_on": "01/01/2025", "expires_on": "2028-12-31"},
	{"effective_on": "2025-02-30", "expires_on": null},
	{"effective_on": 20250101, "expires_on": null},
]

test_allow_p4_well_formed_dates_in_force if {
	data.hipaa.request.in_force({"effective_on": "2025-01-01", "expires_on": "2028-12-31"}) with input as fx.base
	data.hipaa.request.in_force({"effective_on": "2026-11-28", "expires_on": "2026-11-28"}) with input as fx.base
	data.hipaa.request.in_force({"effective_on": null, "expires_on": null}) with input as fx.base
}

test_deny_p4_malformed_baa_dates if {
	every dates in _malformed_dates {
		not data.hipaa.request.in_force(dates) with input as fx.base
		baa := object.union(
			{"status": "executed", "purposes": ["payment", "health_care_operations"]},
			dates,
		)
		d := data.hipaa.decision with input as _req(_ops("ba-care-analytics"))
			with data.config.business_associates["ba-care-analytics"].baa as baa
		d.allow == false
		fx.codes(d) == {"BAA_REQUIRED", "EXECUTE_BAA"}
	}
}

test_deny_p1_hie_malformed_agreement_dates if {
	every dates in _malformed_dates {
		agreement := object.union({"status": "active", "purposes": ["treatment"]}, dates)
		d := data.hipaa.decision with input as _req({"recipient": {"type": "hie", "id": "hie-statewide"}})
			with data.config.business_associates as {}
			with data.config.hie_agreements as {"hie-statewide": agreement}
		d.allow == false
		fx.codes(d) == {"BAA_REQUIRED", "EXECUTE_BAA"}
	}
}

# Registry ids compare case-folded, like every identifier (the syntax is case-insensitive).
test_allow_p4_registry_id_in_another_case if {
	d := data.hipaa.decision with input as _req(_ops("BA-Care-Analytics"))
	d.allow == true
	"BUSINESS_ASSOCIATE" in {b.code | some b in d.basis}
}

test_deny_p4_registry_entry_in_another_case_still_applies if {
	d := data.hipaa.decision with input as _req(_ops("ba-care-analytics"))
		with data.config.business_associates as {"BA-CARE-ANALYTICS": {
			"kind": "business_associate",
			"baa": {"status": "terminated"},
		}}
	d.allow == false
	"BAA_REQUIRED" in fx.codes(d)
}

test_allow_p1_hie_agreement_id_in_another_case if {
	d := data.hipaa.decision with input as _req({"recipient": {"type": "hie", "id": "HIE-Statewide"}})
		with data.config.business_associates as {}
	d.allow == true
}
