# METADATA
# title: C5 — restrictions the patient requested
# description: |
#   A restriction matches when its recipient types, purposes and categories include the
#   disclosure's ("*" matches any category). A restriction for services paid in full out of pocket
#   binds for disclosures to a health plan except where required by law (164.522(a)(1)(vi)); an
#   agreed restriction yields to emergency treatment (164.522(a)(1)(iii)) and does not prevent
#   disclosures to the Secretary or under 164.512 (164.522(a)(1)(v)).
package hipaa.restrictions

import data.hipaa.lib
import data.hipaa.request

# Purposes an agreed restriction does not reach: emergency treatment, HHS, and 164.512 purposes.
agreed_exempt_purposes := {
	"medical_emergency", "hhs_compliance", "required_by_law", "public_health", "health_oversight",
	"judicial_proceeding", "law_enforcement", "coroner_medical_examiner", "research", "serious_threat",
}

# Restrictions that match this disclosure.
matching contains restriction if {
	some restriction in object.get(input, ["patient", "restrictions"], [])
	input.recipient.type in restriction.recipient_types
	input.purpose in restriction.purposes
	_category_matches(restriction)
	_binds(restriction)
}

_category_matches(restriction) if "*" in restriction.categories

_category_matches(restriction) if {
	some category in request.categories
	category in restriction.categories
}

_binds(restriction) if {
	restriction.reason == "paid_in_full"
	input.purpose != "required_by_law"
}

_binds(restriction) if {
	restriction.reason == "agreed"
	not input.purpose in agreed_exempt_purposes
}

# METADATA
# title: C5 Patient restriction
# description: A restriction the patient requested (and the entity must or did agree to) matches the disclosure.
# custom:
#   rule: C5
#   code: PATIENT_RESTRICTION
#   citation: 45 CFR 164.522(a)(1)(iii), (a)(1)(v), (a)(1)(vi)
#   message: A restriction the patient requested applies to this recipient, purpose and information.
deny contains lib.deny(rego.metadata.chain(), {"restriction_reasons": sort({r.reason | some r in matching})}) if {
	count(matching) > 0
}
