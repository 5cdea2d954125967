package hipaa.data_sets_test

import data.hipaa.fixtures_test as fx

_research(patch) := fx.request(object.union(
	{"requester": {"roles": ["researcher"]}, "purpose": "research", "recipient": {"type": "researcher"}},
	patch,
))

test_allow_p21_deidentified if {
	d := data.hipaa.decision with input as _research({
		"data": {"form": "deidentified", "elements": ["age", "zip3", "diagnoses"]},
	})
	d.allow == true
	fx.codes(d) == {"DEIDENTIFIED"}
	d.minimum_necessary.applies == false
	d.accountable == false
}

test_allow_p21_deidentified_catalog_excludes_identifiers if {
	d := data.hipaa.decision with input as _research({"data": {"form": "deidentified", "elements": []}})
	d.allow == true
	not "name" in d.minimum_necessary.permitted_elements
	"diagnoses" in d.minimum_necessary.permitted_elements
}

test_deny_p21_identifier_present if {
	d := data.hipaa.decision with input as _research({
		"data": {"form": "deidentified", "elements": ["age", "zip_code", "name"]},
	})
	d.allow == false
	some r in d.reasons
	r.code == "IDENTIFIERS_PRESENT"
	r.rule == "P21"
	r.elements == ["name", "zip_code"]
}

test_allow_p22_limited_data_set if {
	d := data.hipaa.decision with input as _research({
		"data": {"form": "limited_data_set", "elements": ["zip_code", "dob"]},
		"context": {"data_use_agreement_id": "dua-0001"},
	})
	d.allow == true
	d.accountable == false
	some o in d.obligations
	o.code == "DATA_USE_AGREEMENT_TERMS"
	o.data_use_agreement_id == "dua-0001"
}

test_allow_p22_view_without_direct_identifiers if {
	d := data.hipaa.decision with input as _research({
		"data": {"form": "limited_data_set", "elements": []},
		"context": {"data_use_agreement_id": "dua-0001"},
	})
	d.allow == true
	not "name" in d.minimum_necessary.permitted_elements
	"zip_code" in d.minimum_necessary.permitted_elements
}

test_deny_p22_without_dua if {
	d := data.hipaa.decision with input as _research({"data": {"form": "limited_data_set", "elements": ["zip_code"]}})
	fx.codes(d) == {"DATA_USE_AGREEMENT_REQUIRED", "EXECUTE_DATA_USE_AGREEMENT"}
}

test_deny_p22_direct_identifier if {
	d := data.hipaa.decision with input as _research({
		"data": {"form": "limited_data_set", "elements": ["mrn"]},
		"context": {"data_use_agreement_id": "dua-0001"},
	})
	some r in d.reasons
	r.code == "IDENTIFIERS_PRESENT"
	r.rule == "P22"
}
