# P0 and the invalid-authorization variant of P17: these need every permission at once, so they
# live with the decision. They fire only when no P rule gives a basis. (final_denies also holds
# rule A's RECIPIENT_NAME_REQUIRED, outcome.rego.)
package hipaa.outcome

import data.hipaa.authorizations
import data.hipaa.lib

# METADATA
# title: P17 Authorization invalid
# description: |
#   An authorization is on file but is unsigned, revoked, expired, not yet signed at `now` or out
#   of scope, and no other permission applies.
# custom:
#   rule: P17
#   code: AUTHORIZATION_INVALID
#   citation: 45 CFR 164.508(b)(2)
#   message: The authorization on file is not valid for this disclosure (unsigned, revoked, expired or out of scope).
#   requirement:
#     code: OBTAIN_PATIENT_AUTHORIZATION
#     message: Obtain a valid authorization that names this recipient, purpose and information (45 CFR 164.508).
final_denies contains lib.deny(rego.metadata.chain(), {}) if {
	count(permission_permits) == 0
	authorizations.on_file
}

# METADATA
# title: P0 No permission
# description: No permission applies, and no permission rule already explains why.
# custom:
#   rule: P0
#   code: NO_PERMISSION
#   citation: 45 CFR 164.502(a), 164.508(a)(1)
#   message: No permission of the Privacy Rule applies to this disclosure.
#   requirement:
#     code: OBTAIN_PATIENT_AUTHORIZATION
#     message: Obtain the patient's written authorization for this disclosure (45 CFR 164.508).
final_denies contains lib.deny(rego.metadata.chain(), {}) if {
	count(permission_permits) == 0
	count(permission_denies) == 0
	not authorizations.on_file
}
