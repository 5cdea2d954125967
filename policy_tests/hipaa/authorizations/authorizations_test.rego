package hipaa.authorizations_test

import data.hipaa.authorizations
import data.hipaa.fixtures_test as fx

_auth(patch) := fx.authorization("hipaa_authorization", patch)

test_allow_p17_valid_authorization if {
	authorizations.valid(_auth({})) with input as fx.base
	authorizations.valid(_auth({"expires_on": null})) with input as fx.base
	authorizations.valid(_auth({"expires_on": "2026-11-28"})) with input as fx.base
	authorizations.valid(object.remove(_auth({}), ["revoked", "expires_on"])) with input as fx.base
}

test_deny_p17_invalid_authorizations if {
	not authorizations.valid(_auth({"signed": false})) with input as fx.base
	not authorizations.valid(_auth({"revoked": true})) with input as fx.base
	not authorizations.valid(_auth({"expires_on": "2026-11-27"})) with input as fx.base
	not authorizations.valid(_auth({"signed_on": "2026-11-29"})) with input as fx.base
	not authorizations.valid(_auth({"signed_on": "11/01/2026"})) with input as fx.base
	not authorizations.valid(_auth({"signed_on": null})) with input as fx.base
	not authorizations.valid(_auth({"revoked": "no"})) with input as fx.base
	not authorizations.valid(_auth({})) with input as object.remove(fx.base, ["now"])
}

test_allow_p17_covers_by_id_wildcard_or_type if {
	authorizations.covers(_auth({"recipients": ["npi-0000000001"]}), "general") with input as fx.base
	authorizations.covers(_auth({"recipients": ["*"]}), "general") with input as fx.base
	authorizations.covers(_auth({"recipients": [], "recipient_types": ["provider"]}), "general") with input as fx.base
}

test_deny_p17_out_of_scope if {
	not authorizations.covers(_auth({"recipients": ["npi-9999999999"]}), "general") with input as fx.base
	not authorizations.covers(_auth({"purposes": ["payment"]}), "general") with input as fx.base
	not authorizations.covers(_auth({}), "hiv") with input as fx.base
	not authorizations.covers(_auth({"signed": false}), "general") with input as fx.base
}

test_allow_c2_tpo_consent_covers_tpo_by_type if {
	consent := fx.authorization("part2_tpo_consent", {"purposes": [], "categories": ["substance_use_disorder"]})
	authorizations.covers(consent, "substance_use_disorder") with input as fx.request({"purpose": "payment"})
}

test_deny_c2_tpo_consent_does_not_cover_research if {
	consent := fx.authorization("part2_tpo_consent", {"purposes": [], "categories": ["substance_use_disorder"]})
	not authorizations.covers(consent, "substance_use_disorder") with input as fx.request({"purpose": "research"})
}

test_allow_p17_authorized_every_category if {
	authorizations.authorized with input as fx.request({
		"data": {"categories": ["general", "hiv"]},
		"authorizations": [_auth({"categories": ["general", "hiv"]})],
	})
}

test_deny_p17_not_every_category if {
	not authorizations.authorized with input as fx.request({
		"data": {"categories": ["general", "hiv"]},
		"authorizations": [_auth({"categories": ["general"]})],
	})
}

test_deny_p17_hipaa_authorization_is_not_a_part2_consent if {
	not authorizations.covered({"part2_consent"}, "substance_use_disorder") with input as fx.request({
		"data": {"categories": ["substance_use_disorder"]},
		"authorizations": [_auth({"categories": ["substance_use_disorder"]})],
	})
}

# Documents that must stand alone are defective when combined (164.508(b)(2)(iii), (b)(3)(ii);
# 42 CFR 2.31(b), (d)).
_notes_auth(categories) := fx.authorization("psychotherapy_notes_authorization", {"categories": categories})

_counseling_consent(categories) := fx.authorization("sud_counseling_notes_consent", {"categories": categories})

_proceedings_consent(purposes) := fx.authorization("part2_proceedings_consent", {
	"purposes": purposes,
	"categories": ["substance_use_disorder"],
})

test_allow_stand_alone_documents_valid if {
	authorizations.valid(_notes_auth(["psychotherapy_notes"])) with input as fx.base
	authorizations.valid(_counseling_consent(["sud_counseling_notes"])) with input as fx.base
	authorizations.valid(_proceedings_consent(["judicial_proceeding", "law_enforcement"])) with input as fx.base
}

test_deny_combined_documents_invalid if {
	not authorizations.valid(_notes_auth(["psychotherapy_notes", "general"])) with input as fx.base
	not authorizations.valid(_notes_auth(["general"])) with input as fx.base
	not authorizations.valid(_counseling_consent(["sud_counseling_notes", "substance_use_disorder"])) with input as fx.base
	not authorizations.valid(_proceedings_consent(["judicial_proceeding", "treatment", "payment"])) with input as fx.base
	not authorizations.valid(_auth({"categories": ["psychotherapy_notes", "general"]})) with input as fx.base
	not authorizations.valid(fx.authorization("part2_tpo_consent", {
		"purposes": [],
		"categories": ["substance_use_disorder", "sud_counseling_notes"],
	})) with input as fx.base
}

test_allow_p17_recipient_id_compared_case_folded if {
	authorizations.covers(_auth({"recipients": ["NPI-0000000001"]}), "general") with input as fx.base
	authorizations.covers(_auth({"recipients": ["npi-0000000001"]}), "general")
		with input as object.union(fx.base, {"recipient": {"id": "NPI-0000000001"}})
}
