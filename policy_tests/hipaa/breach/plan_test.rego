package hipaa.breach_test

import data.hipaa.breach

_in(discovered, affected) := {"discovered_on": discovered, "affected": affected}

_notice(p, st, recipient) := [n | some n in p.states[st].regulator_notices; n.recipient == recipient][0]

# ------------------------------------------------------------------ the example of the spec

test_allow_ca_tx_example if {
	p := breach.plan with input as _in("2026-11-02", {"CA": 1200, "TX": 40})
	p.total_affected == 1240
	p.federal.individuals.deadline == "2027-01-01"
	p.federal.individuals.citation == "45 CFR 164.404(b)"
	p.federal.hhs.timing == "with_individual_notice"
	p.federal.hhs.deadline == "2027-01-01"
	p.federal.hhs.citation == "45 CFR 164.408(b)"
	[m.state | some m in p.federal.media] == ["CA"]
	p.states.CA.individual_notice.deadline == "2026-12-02"
	p.states.CA.individual_notice.days == 30
	p.states.TX.individual_notice.deadline == "2027-01-01"
	_notice(p, "CA", "attorney_general").required == true
	_notice(p, "CA", "attorney_general").deadline == "2026-12-17"
	_notice(p, "TX", "attorney_general").required == false
	_notice(p, "TX", "attorney_general").deadline == null
	p.earliest_deadline.date == "2026-12-02"
	[[d.state, d.duty] | some d in p.earliest_deadline.duties] == [["CA", "individual_notice"]]
	not p.part2
	not p.errors
}

test_allow_deadlines_sorted_by_date if {
	p := breach.plan with input as _in("2026-11-02", {"CA": 1200, "TX": 40})
	dates := [d.date | some d in p.deadlines]
	dates == sort(dates)
	count(p.deadlines) == 6
}

test_allow_entity_specific_duty_listed_apart if {
	p := breach.plan with input as _in("2026-11-02", {"CA": 10})
	[[d.recipient, d.date] | some d in p.entity_specific_deadlines] == [["department_of_public_health", "2026-11-23"]]
	every d in p.deadlines {
		d.recipient != "department_of_public_health"
	}
}

# ------------------------------------------------------------------ calendar arithmetic

test_allow_month_boundary if {
	p := breach.plan with input as _in("2026-01-31", {"CA": 10})
	p.states.CA.individual_notice.deadline == "2026-03-02"
	p.federal.individuals.deadline == "2026-04-01"
}

test_allow_leap_year_february if {
	p := breach.plan with input as _in("2028-01-31", {"CA": 10})
	p.states.CA.individual_notice.deadline == "2028-03-01"
	p.federal.individuals.deadline == "2028-03-31"
}

test_allow_discovered_on_leap_day if {
	p := breach.plan with input as _in("2028-02-29", {"WA": 10})
	p.states.WA.individual_notice.deadline == "2028-03-30"
	p.federal.individuals.deadline == "2028-04-29"
}

test_allow_year_boundary if {
	p := breach.plan with input as _in("2026-12-15", {"CO": 600})
	p.states.CO.individual_notice.deadline == "2027-01-14"
	_notice(p, "CO", "attorney_general").deadline == "2027-01-14"
	p.federal.individuals.deadline == "2027-02-13"
}

test_allow_hhs_annual_into_leap_year if {
	p := breach.plan with input as _in("2027-05-10", {"TX": 40})
	p.federal.hhs.timing == "annual_log"
	p.federal.hhs.citation == "45 CFR 164.408(c)"
	p.federal.hhs.deadline == "2028-02-29"
}

test_allow_hhs_annual_common_year if {
	p := breach.plan with input as _in("2026-03-01", {"TX": 40})
	p.federal.hhs.deadline == "2027-03-01"
}

test_allow_business_days_after_hhs_notice if {
	# HHS notice due Friday 2027-01-01; 5 business days later is Friday 2027-01-08.
	p := breach.plan with input as _in("2026-11-02", {"NY": 600})
	p.federal.hhs.deadline == "2027-01-01"
	_notice(p, "NY", "attorney_general_hipaa_copy").deadline == "2027-01-08"
	_notice(p, "NY", "attorney_general").deadline == "2026-12-02"
}

test_allow_hipaa_copy_after_the_annual_hhs_notice if {
	# Fewer than 500: HHS by Monday 2027-03-01; the NY AG copy 5 business days later.
	p := breach.plan with input as _in("2026-11-02", {"NY": 3})
	p.federal.hhs.deadline == "2027-03-01"
	_notice(p, "NY", "attorney_general_hipaa_copy").deadline == "2027-03-08"
}

test_allow_zero_business_days_is_the_anchor_date if {
	law := {"CA": {"name": "California", "breach_notice": {
		"individual_days": 30, "individual_text": "t", "citation": "c", "confidence": "high",
		"attorney_general": null,
		"other_notices": [{
			"recipient": "regulator", "name": "R", "threshold": null, "applies_to": null,
			"citation": "c", "confidence": "high",
			"deadline": {"days": 0, "business_days": true, "from": "discovery", "text": "t"},
		}],
	}}}
	p := breach.plan with input as _in("2026-11-07", {"CA": 1}) with data.config.state_laws as law
	_notice(p, "CA", "regulator").deadline == "2026-11-07"
}

test_allow_business_days_skip_weekends if {
	# 15 business days after Monday 2026-11-02 is Monday 2026-11-23.
	p := breach.plan with input as _in("2026-11-02", {"CA": 3})
	_notice(p, "CA", "department_of_public_health").deadline == "2026-11-23"
}

# ------------------------------------------------------------------ thresholds

test_allow_media_more_than_500_per_state if {
	p := breach.plan with input as _in("2026-11-02", {"FL": 501, "GA": 500})
	[[m.state, m.residents, m.deadline] | some m in p.federal.media] == [["FL", 501, "2027-01-01"]]
}

test_allow_hhs_500_in_total_is_immediate if {
	p := breach.plan with input as _in("2026-11-02", {"FL": 250, "GA": 250})
	p.federal.hhs.timing == "with_individual_notice"
	p2 := breach.plan with input as _in("2026-11-02", {"FL": 250, "GA": 249})
	p2.federal.hhs.timing == "annual_log"
}

test_allow_tx_attorney_general_at_250 if {
	p := breach.plan with input as _in("2026-11-02", {"TX": 250})
	_notice(p, "TX", "attorney_general").required == true
	_notice(p, "TX", "attorney_general").deadline == "2026-12-02"
	p2 := breach.plan with input as _in("2026-11-02", {"TX": 249})
	_notice(p2, "TX", "attorney_general").required == false
}

test_allow_fl_legal_affairs_at_500 if {
	p := breach.plan with input as _in("2026-11-02", {"FL": 500})
	_notice(p, "FL", "attorney_general").required == true
	_notice(p, "FL", "attorney_general").deadline == "2026-12-02"
}

test_allow_ca_attorney_general_needs_more_than_500 if {
	p := breach.plan with input as _in("2026-11-02", {"CA": 500})
	_notice(p, "CA", "attorney_general").required == false
}

test_allow_threshold_on_all_affected_persons if {
	# Minnesota's consumer-reporting-agency notice counts everyone notified at one time.
	p := breach.plan with input as _in("2026-11-02", {"MN": 300, "CA": 300})
	n := _notice(p, "MN", "consumer_reporting_agencies")
	n.required == true
	n.deadline == "2026-11-04"
	p2 := breach.plan with input as _in("2026-11-02", {"MN": 300})
	_notice(p2, "MN", "consumer_reporting_agencies").required == false
}

# ------------------------------------------------------------------ Minnesota (December 2026 audit)

# Minn. Stat. 325E.61 gives no attorney-general notice (the 48-hour AG deadline had no statutory
# basis): no AG duty at all, so no AG date can come before the individual notice.
test_allow_mn_no_attorney_general_notice if {
	p := breach.plan with input as _in("2026-11-02", {"MN": 600})
	[n.recipient | some n in p.states.MN.regulator_notices] == ["consumer_reporting_agencies"]
	every d in p.deadlines {
		d.recipient != "attorney_general"
	}
	p.states.MN.individual_notice.deadline == "2027-01-01"
	p.states.MN.individual_notice.falls_back_to_federal == true
}

# Subd. 2: credit bureaus within 48 hours when more than 500 persons are notified at one time; the
# start is ambiguous, counted from discovery (the stricter reading), not from the individual
# notice (which put it at discovery + 62 days, after the federal limit).
test_allow_mn_credit_bureaus_48_hours_from_discovery if {
	p := breach.plan with input as _in("2026-11-02", {"MN": 600})
	_notice(p, "MN", "consumer_reporting_agencies") == {
		"duty": "regulator_notice",
		"recipient": "consumer_reporting_agencies",
		"name": "Consumer reporting agencies",
		"required": true,
		"threshold": {"min_residents": 501, "counts": "all_affected", "text": "more than 500 persons notified at one time"},
		"days": 2,
		"business_days": false,
		"from": "discovery",
		"days_in_law": true,
		"deadline": "2026-11-04",
		"text": data.config.state_laws.MN.breach_notice.other_notices[0].deadline.text,
		"applies_to": null,
		"citation": "Minn. Stat. 325E.61 subd. 2",
		"confidence": "low",
	}
	[[d.date, d.recipient] | some d in p.earliest_deadline.duties] == [["2026-11-04", "consumer_reporting_agencies"]]
}

test_deny_mn_small_breach_has_no_state_regulator_deadline if {
	p := breach.plan with input as _in("2026-11-02", {"MN": 40})
	[d.recipient | some d in p.deadlines; d.state == "MN"] == ["individuals"]
	p.earliest_deadline.date == "2027-01-01"
}

# ------------------------------------------------------------------ no number of days in state law

test_allow_no_state_days_falls_back_to_federal if {
	p := breach.plan with input as _in("2026-11-02", {"IL": 900})
	p.states.IL.individual_notice.days == null
	p.states.IL.individual_notice.falls_back_to_federal == true
	p.states.IL.individual_notice.deadline == "2027-01-01"
	ag := _notice(p, "IL", "attorney_general")
	ag.deadline == "2027-01-01"
	ag.days_in_law == true
}

test_allow_ma_regulators_without_days if {
	p := breach.plan with input as _in("2026-11-02", {"MA": 1})
	ag := _notice(p, "MA", "attorney_general")
	ag.required == true
	ag.days_in_law == false
	ag.deadline == "2027-01-01"
	_notice(p, "MA", "consumer_affairs").required == true
}

test_allow_nj_state_police_before_individuals if {
	p := breach.plan with input as _in("2026-11-02", {"NJ": 5})
	_notice(p, "NJ", "state_police").deadline == p.states.NJ.individual_notice.deadline
}

test_allow_oh_45_days if {
	p := breach.plan with input as _in("2026-11-02", {"OH": 5})
	p.states.OH.individual_notice.deadline == "2026-12-17"
	p.states.OH.regulator_notices[0].required == false
}

test_allow_state_not_in_matrix if {
	p := breach.plan with input as _in("2026-11-02", {"OR": 7})
	p.states.OR.in_matrix == false
	p.states.OR.individual_notice.deadline == "2027-01-01"
	p.states.OR.regulator_notices == []
}

test_allow_zero_residents_no_duty if {
	p := breach.plan with input as _in("2026-11-02", {"PA": 0, "CA": 2})
	p.states.PA.individual_notice.required == false
	every d in p.deadlines {
		d.state != "PA"
	}
}

test_allow_nothing_affected if {
	p := breach.plan with input as _in("2026-11-02", {"PA": 0})
	p.deadlines == []
	p.earliest_deadline == null
	p.federal.hhs.required == false
}

test_allow_earliest_across_states if {
	p := breach.plan with input as _in("2026-11-02", {"TX": 300, "OH": 5, "MA": 2})
	p.earliest_deadline.date == "2026-12-02"
	[[d.state, d.recipient] | some d in p.earliest_deadline.duties] == [["TX", "attorney_general"]]
}

# ------------------------------------------------------------------ Part 2

test_allow_part2_note if {
	p := breach.plan with input as {"discovered_on": "2026-11-02", "affected": {"CA": 1}, "part2_records": true}
	p.part2.citation == "42 CFR 2.16"
	p2 := breach.plan with input as {"discovered_on": "2026-11-02", "affected": {"CA": 1}, "part2_records": false}
	not p2.part2
}

# ------------------------------------------------------------------ invalid input

test_deny_bad_date if {
	p := breach.plan with input as {"discovered_on": "2026-02-30", "affected": {"CA": 1}}
	p == {"errors": [{"path": "/discovered_on", "message": "must be a calendar date YYYY-MM-DD (years 1900-2999)"}]}
	breach.plan.errors[0].path == "/discovered_on" with input as {"discovered_on": "11/02/2026", "affected": {"CA": 1}}
	breach.plan.errors[0].path == "/discovered_on" with input as {"discovered_on": 20261102, "affected": {"CA": 1}}
}

test_deny_unknown_state_and_bad_counts if {
	inp2 := {"discovered_on": "2026-11-02", "affected": {"ZZ": 1, "CA": -1, "TX": 1.5, "NY": "3"}}
	p := breach.plan with input as inp2
	p == {"errors": [
		{"path": "/affected/CA", "message": "must be a non-negative integer"},
		{"path": "/affected/NY", "message": "must be a non-negative integer"},
		{"path": "/affected/TX", "message": "must be a non-negative integer"},
		{"path": "/affected/ZZ", "message": "unknown state code (use a USPS code such as CA)"},
	]}
}

test_deny_missing_fields if {
	breach.plan with input as {} == {"errors": [
		{"path": "/affected", "message": "is required"},
		{"path": "/discovered_on", "message": "is required"},
	]}
}

test_deny_not_an_object if {
	breach.plan with input as ["x"] == {"errors": [{"path": "", "message": "the body must be a JSON object"}]}
}

test_deny_affected_shape if {
	inp3 := {"discovered_on": "2026-11-02", "affected": [1]}
	errors := breach.plan.errors with input as inp3
	errors == [{"path": "/affected", "message": "must be an object mapping state codes to resident counts"}]
	inp4 := {"discovered_on": "2026-11-02", "affected": {}}
	breach.plan.errors == [{"path": "/affected", "message": "must name at least one state"}] with input as inp4
}

test_deny_part2_not_boolean_and_unknown_field if {
	inp5 := {"discovered_on": "2026-11-02", "affected": {"CA": 1}, "part2_records": "yes", "a/b~": 1}
	p := breach.plan with input as inp5
	p == {"errors": [
		{"path": "/a~1b~0", "message": "unknown field"},
		{"path": "/part2_records", "message": "must be a boolean"},
	]}
}

test_deny_covered_entity_not_boolean if {
	inp := {"discovered_on": "2026-11-02", "affected": {"NY": 1}, "covered_entity": "yes"}
	breach.plan with input as inp == {"errors": [{"path": "/covered_entity", "message": "must be a boolean"}]}
}

# ------------------------------------------------------------------ HIPAA deemed compliance (covered_entity)

_ce(discovered, affected) := {"discovered_on": discovered, "affected": affected, "covered_entity": true}

# New York without covered_entity: the GBL 899-aa clock (30 days) is the earliest date.
test_allow_ny_without_covered_entity_keeps_the_state_clock if {
	p := breach.plan with input as _in("2026-11-02", {"NY": 600})
	p.states.NY.individual_notice.deadline == "2026-12-02"
	p.states.NY.individual_notice.required == true
	not p.states.NY.hipaa_deemed_compliance
	p.earliest_deadline.date == "2026-12-02"
	{[d.recipient, d.date] | some d in p.earliest_deadline.duties; d.state == "NY"} == {
		["individuals", "2026-12-02"],
		["attorney_general", "2026-12-02"],
	}

	# covered_entity false is the default: the same plan.
	p == breach.plan with input as object.union(_in("2026-11-02", {"NY": 600}), {"covered_entity": false})
}

# New York with covered_entity: 899-aa(2)(b)(ii) - the HIPAA notice meets the individual duty; the
# AG/DOS/State Police notice (due with the notice to individuals, now the HIPAA notice) and the AG
# copy of the HHS notice are still owed.
test_allow_ny_covered_entity_individual_notice_met_by_hipaa if {
	p := breach.plan with input as _ce("2026-11-02", {"NY": 600})
	dc := data.config.state_laws.NY.breach_notice.hipaa_deemed_compliance
	p.states.NY.individual_notice == {
		"duty": "individual_notice",
		"required": false,
		"met_by_hipaa_notice": true,
		"days": null,
		"deadline": null,
		"falls_back_to_federal": false,
		"citation": "N.Y. Gen. Bus. Law 899-aa(2)(b)(ii)",
		"text": dc.text,
	}
	p.states.NY.hipaa_deemed_compliance == dc
	_notice(p, "NY", "attorney_general").required == true
	_notice(p, "NY", "attorney_general").deadline == "2027-01-01"
	_notice(p, "NY", "attorney_general_hipaa_copy").deadline == "2027-01-08"
	[d.recipient | some d in p.deadlines; d.state == "NY"; d.date < "2027-01-01"] == []
	p.earliest_deadline.date == "2027-01-01"
}

# Washington: deemed compliant as to PHI; the AG notice is still owed on the HITECH timing.
test_allow_wa_covered_entity_attorney_general_on_hipaa_timing if {
	p := breach.plan with input as _ce("2026-11-02", {"WA": 600})
	p.states.WA.individual_notice.met_by_hipaa_notice == true
	n := _notice(p, "WA", "attorney_general")
	n.required == true
	n.hipaa_timing == true
	n.deadline == "2027-01-01"
	n.hipaa_deemed_compliance_citation == data.config.state_laws.WA.breach_notice.hipaa_deemed_compliance.citation
	p0 := breach.plan with input as _in("2026-11-02", {"WA": 600})
	_notice(p0, "WA", "attorney_general").deadline == "2026-12-02"
	p0.states.WA.individual_notice.deadline == "2026-12-02"
}

# Ohio and Michigan (reported HIPAA exemptions) and Georgia (statute binds information brokers and
# government data collectors only): every state duty is listed as met, none has a date.
test_allow_oh_mi_ga_covered_entity_duties_met if {
	p := breach.plan with input as _ce("2026-11-02", {"OH": 20000, "MI": 20000, "GA": 20000})
	every st in ["OH", "MI", "GA"] {
		p.states[st].individual_notice.met_by_hipaa_notice == true
		_notice(p, st, "consumer_reporting_agencies").met_by_hipaa_notice == true
		_notice(p, st, "consumer_reporting_agencies").deadline == null
	}
	[d.state | some d in p.deadlines; d.state != null] == ["GA", "MI", "OH"] # federal media notices only
	p0 := breach.plan with input as _in("2026-11-02", {"OH": 20000, "MI": 20000, "GA": 20000})
	p0.states.OH.individual_notice.deadline == "2026-12-17"
	_notice(p0, "GA", "consumer_reporting_agencies").required == true
}

# A state without deemed compliance keeps its clock for a covered entity.
test_allow_ca_covered_entity_unchanged if {
	p := breach.plan with input as _ce("2026-11-02", {"CA": 1200})
	p0 := breach.plan with input as _in("2026-11-02", {"CA": 1200})
	p.states == p0.states
	p.deadlines == p0.deadlines
}
