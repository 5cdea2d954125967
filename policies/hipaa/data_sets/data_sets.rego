# METADATA
# title: P21, P22 — de-identified data and limited data sets
# description: |
#   De-identified data (Safe Harbor, 45 CFR 164.514(a)-(b)) is not PHI; a limited data set
#   (164.514(e)) may go out for research, public health or operations under a data use agreement.
#   Identifier flags come from the element catalog (data.config.elements).
package hipaa.data_sets

import data.hipaa.lib
import data.hipaa.request

lds_purposes := {"research", "public_health", "health_care_operations"}

# Requested elements that are Safe Harbor identifiers (164.514(b)(2)(i)).
safe_harbor_identifiers contains e if {
	some e in request.elements
	data.config.elements[e].safe_harbor_identifier == true
}

# Requested elements that are limited-data-set direct identifiers (164.514(e)(2)).
lds_direct_identifiers contains e if {
	some e in request.elements
	data.config.elements[e].lds_direct_identifier == true
}

# METADATA
# title: P21 De-identified
# description: The form is de-identified and no requested element is a Safe Harbor identifier.
# custom:
#   rule: P21
#   code: DEIDENTIFIED
#   citation: 45 CFR 164.514(a)-(b), 164.502(d)(2)
#   summary: De-identified information (Safe Harbor) is not protected health information.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.data.form == "deidentified"
	count(safe_harbor_identifiers) == 0
}

# METADATA
# title: P22 Limited data set
# description: |
#   A limited data set for research, public health or operations, under a data use agreement,
#   without direct identifiers.
# custom:
#   rule: P22
#   code: LIMITED_DATA_SET
#   citation: 45 CFR 164.514(e)
#   summary: A limited data set disclosed under a data use agreement.
#   obligations:
#     - code: DATA_USE_AGREEMENT_TERMS
#       message: The recipient must use and disclose the data only as the data use agreement permits.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.data.form == "limited_data_set"
	_lds_request
	request.context_id("data_use_agreement_id")
	count(lds_direct_identifiers) == 0
}

# METADATA
# title: P21 Identifiers in de-identified data
# description: A de-identified request names an element that is a Safe Harbor identifier.
# custom:
#   rule: P21
#   code: IDENTIFIERS_PRESENT
#   citation: 45 CFR 164.514(b)(2)
#   message: >-
#     De-identified data may not include Safe Harbor identifiers; request only non-identifying
#     elements, or the identified form under a permission.
deny contains lib.deny(rego.metadata.chain(), {"elements": sort(safe_harbor_identifiers)}) if {
	input.data.form == "deidentified"
	count(safe_harbor_identifiers) > 0
}

# METADATA
# title: P22 Data use agreement missing
# description: A limited data set without a data use agreement.
# custom:
#   rule: P22
#   code: DATA_USE_AGREEMENT_REQUIRED
#   citation: 45 CFR 164.514(e)(4)
#   message: A limited data set may be disclosed only under a data use agreement.
#   requirement:
#     code: EXECUTE_DATA_USE_AGREEMENT
#     message: Execute a data use agreement with the recipient (45 CFR 164.514(e)(4)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.data.form == "limited_data_set"
	_lds_request
	not request.context_id("data_use_agreement_id")
}

# METADATA
# title: P22 Direct identifiers in a limited data set
# description: A limited data set names an element that is a direct identifier.
# custom:
#   rule: P22
#   code: IDENTIFIERS_PRESENT
#   citation: 45 CFR 164.514(e)(2)
#   message: >-
#     A limited data set may not include direct identifiers; request only the elements a limited
#     data set may keep.
deny contains lib.deny(rego.metadata.chain(), {"elements": sort(lds_direct_identifiers)}) if {
	input.data.form == "limited_data_set"
	count(lds_direct_identifiers) > 0
}

_lds_request if {
	request.form == "limited_data_set"
	input.purpose in lds_purposes
}
