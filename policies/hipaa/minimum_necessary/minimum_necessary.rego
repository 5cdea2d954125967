# METADATA
# title: M — minimum necessary
# description: |
#   45 CFR 164.502(b), 164.514(d). Where the standard applies, what may be shared is what the
#   requester's roles may see for the purpose (the union of their views in the role catalog);
#   requested elements outside that view are withheld. It does not apply to treatment by a
#   provider (164.502(b)(2)(i)), to the individual (ii), under an authorization alone (iii), to
#   the Secretary (iv), where required by law (v), nor to de-identified data (not PHI, 164.502(d)(2)).
#   A limited data set never includes direct identifiers, de-identified data no Safe Harbor identifier.
package hipaa.minimum_necessary

import data.hipaa.lib
import data.hipaa.part2
import data.hipaa.request

# Treatment (or an emergency) by a health care provider: the recipient types of P1 that are providers.
_provider_treatment if {
	input.purpose in {"treatment", "medical_emergency"}
	input.recipient.type in {"provider", "first_responder"}
}

_provider_treatment if {
	input.purpose == "treatment"
	input.recipient.type == "hie"
}

# METADATA
# title: Minimum necessary applies
# description: The standard applies unless the disclosure falls under an exception of 164.502(b)(2).
applies(basis_codes) := false if _exempt(basis_codes)

else := true

_exempt(_) if _provider_treatment

_exempt(_) if input.purpose in {"individual_access", "required_by_law", "hhs_compliance"}

# The form as given (request.form defaults a missing one to identified): OPA indexes it.
_exempt(_) if input.data.form == "deidentified"

_exempt(basis_codes) if basis_codes == {"PATIENT_AUTHORIZATION"}

# An order of the court in a proceeding, and compulsory process for law enforcement, are
# "required by law" (164.103, 164.502(b)(2)(v)); other process and P26 are not.
_exempt(_) if {
	input.purpose == "judicial_proceeding"
	request.court_ordered
}

_exempt(_) if {
	input.purpose == "law_enforcement"
	request.law_enforcement_reason in {null, "legal_process"}
	request.compulsory_process
}

# The element view of the requester's roles for the purpose (role catalog; family and
# disaster-relief purposes map to their own narrow views). Built only when nothing was named:
# requested elements are checked one by one (`in_view`).
view contains element if {
	some view_name in _view_names
	some element in data.config.roles.views[view_name]
	not _excluded_by_form(element)
}

# The views of the requester's roles for the purpose (one object lookup per role), unless the
# disclosure has a fixed view of its own.
_view_names contains view_name if {
	input.purpose != "law_enforcement"
	some role in input.requester.roles
	view_name := data.config.roles.roles[role].purposes[input.purpose]
}

_view_names contains view_name if {
	input.purpose == "law_enforcement"
	not _fixed_view
	some role in input.requester.roles
	view_name := data.config.roles.roles[role].purposes[input.purpose]
}

_view_names contains _fixed_view

# P26: identification and location of a person takes the identification view only
# (164.512(f)(2)(i)); Part 2 records reported as a crime on program premises take the
# premises view (42 CFR 2.12(c)(5)).
_fixed_view := "identification" if {
	input.purpose == "law_enforcement" # indexed: OPA skips both definitions for other purposes
	request.law_enforcement_reason == "identification_location"
}

_fixed_view := "part2_premises" if {
	input.purpose == "law_enforcement"
	request.law_enforcement_reason == "crime_on_premises"
	part2.applies
}

# METADATA
# title: in_view
# description: A requested element is in the view of some role of the requester and the form allows it.
in_view(element) if {
	not _excluded_by_form(element)
	some view_name in _view_names
	element in data.config.roles.views[view_name]
}

# Every catalog element the form allows (used where the standard does not apply and nothing was named).
catalog contains element if {
	some element, _ in data.config.elements
	not _excluded_by_form(element)
}

# input.data.form is request.form for these two forms (only identified is a default); OPA
# indexes it, so for an identified request neither body is evaluated.
_excluded_by_form(element) if {
	input.data.form == "limited_data_set"
	data.config.elements[element].lds_direct_identifier == true
}

_excluded_by_form(element) if {
	input.data.form == "deidentified"
	data.config.elements[element].safe_harbor_identifier == true
}

# METADATA
# title: evaluate
# description: The minimum_necessary object of the decision for an allowed disclosure with these basis codes.
evaluate(basis_codes) := _applying if applies(basis_codes)

else := _not_applying

_applying := {
	"applies": true,
	"permitted_elements": sort(_permitted),
	"withheld_elements": sort(_withheld),
}

_not_applying := {
	"applies": false,
	"permitted_elements": _unrestricted,
	"withheld_elements": [],
}

# Requested elements the view allows, or the whole view when nothing was requested.
_permitted := {e | some e in request.elements; in_view(e)} if count(request.elements) > 0

else := view

# Requested elements outside the view (none when nothing was requested: the view is then permitted).
_withheld := request.elements - _permitted

# Where the standard does not apply: what was requested, or the whole catalog (read only then).
_unrestricted := sort(request.elements) if count(request.elements) > 0

else := sort(catalog)

# METADATA
# title: M Minimum necessary
# description: Where the standard applies, only the permitted elements may be shared.
# custom:
#   rule: M
#   code: MINIMUM_NECESSARY
#   citation: 45 CFR 164.502(b), 164.514(d)
#   message: Share only the permitted elements, the minimum necessary for the purpose.
obligation(basis_codes) := lib.result(rego.metadata.chain(), {"elements": evaluate(basis_codes).permitted_elements})
