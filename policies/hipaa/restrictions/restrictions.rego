# METADATA
# title: C5 — restrictions the patient requested
# description: |
#   A restriction matches when its recipient types, purposes and categories include the
#   disclosure's ("*" matches any category). A restriction for services paid in full out of pocket
#   binds for disclosures to a health plan except where required by law (164.522(a)(1)(vi)), and
#   so does a restriction whose reason is null or missing (docs/rules.md C5: the reason only adds
#   exceptions). An agreed restriction yields to emergency treatment (164.522(a)(1)(iii)). No
#   restriction binds access by the individual, disclosures to the Secretary or under 164.512
#   (164.522(a)(1)(v)): only the purposes of `bindable_purposes` are restricted.
package hipaa.restrictions

import data.hipaa.lib
import data.hipaa.request

# The purposes a restriction can bind: treatment, payment and operations (with the operations
# purposes legal_defense and training, and emergency treatment) and the disclosures of 164.510(b)
# (164.522(a)(1)(i)). Never individual access, HHS compliance or 164.512 purposes (164.522(a)(1)(v)).
bindable_purposes := {
	"treatment", "payment", "health_care_operations", "legal_defense", "training", "medical_emergency",
	"family_involvement", "family_notification", "disaster_relief",
}

# Purposes an agreed restriction does not reach beyond those: emergency treatment (164.522(a)(1)(iii)).
agreed_exempt_purposes := {"medical_emergency"}

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

# docs/rules.md C5: the reason only adds exceptions. A paid_in_full restriction, and one whose
# reason is null or missing, binds for every bindable purpose (164.522(a)(1)(vi)); an agreed one
# yields as above.
_binds(restriction) if not _agreed(restriction)

_binds(restriction) if {
	_agreed(restriction)
	not input.purpose in agreed_exempt_purposes
}

_agreed(restriction) if restriction.reason == "agreed"

# METADATA
# title: C5 Patient restriction
# description: A restriction the patient requested (and the entity must or did agree to) matches the disclosure.
# custom:
#   rule: C5
#   code: PATIENT_RESTRICTION
#   citation: 45 CFR 164.522(a)(1)(iii), (a)(1)(v), (a)(1)(vi)
#   message: A restriction the patient requested applies to this recipient, purpose and information.
deny contains lib.deny(rego.metadata.chain(), {"restriction_reasons": sort(_reasons)}) if {
	input.patient.restrictions != [] # the common case (none on file) reads no rule below
	count(matching) > 0
	input.purpose in bindable_purposes
}

# The reasons of the matching restrictions; null for a restriction without one.
_reasons contains object.get(r, "reason", null) if some r in matching
