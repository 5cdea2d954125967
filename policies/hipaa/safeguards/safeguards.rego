# METADATA
# title: S — safeguards checked on every request
# description: |
#   Security Rule access controls (45 CFR 164.308, 164.312), role-based access for minimum
#   necessary (164.514(d)(2)) and verification of the recipient (164.514(h)). Each rule denies;
#   none gives a basis.
package hipaa.safeguards

import data.hipaa.lib

# METADATA
# title: S1 Multi-factor authentication
# description: The requester did not authenticate with MFA (requester.mfa is not true).
# custom:
#   rule: S1
#   code: MFA_REQUIRED
#   citation: 45 CFR 164.312(d), 164.308(a)(5)(ii)(D)
#   message: The requester must authenticate with multi-factor authentication.
#   requirement:
#     code: COMPLETE_MFA
#     message: Sign in again with multi-factor authentication.
deny contains lib.deny(rego.metadata.chain(), {}) if not input.requester.mfa == true

# METADATA
# title: S2 Role may act for the purpose
# description: None of the requester's roles may act for this purpose per the role catalog.
# custom:
#   rule: S2
#   code: ROLE_NOT_PERMITTED
#   citation: 45 CFR 164.308(a)(4), 164.514(d)(2)
#   message: None of the requester's roles may disclose for this purpose.
deny contains lib.deny(rego.metadata.chain(), _role_fields) if not role_permitted

# METADATA
# title: S3 Revoked access
# description: The requester's user id is on the revoked-access list (policy data).
# custom:
#   rule: S3
#   code: ACCESS_REVOKED
#   citation: 45 CFR 164.308(a)(3)(ii)(C), 164.308(a)(4)(ii)(C)
#   message: >-
#     The requester's access has been revoked; only its restoration (removal from the revoked-access list) changes this.
deny contains lib.deny(rego.metadata.chain(), {}) if lib.id_key(input.requester.user_id) in revoked_users

# METADATA
# title: S4 Recipient identity verified
# description: A recipient outside the workforce whose identity and authority were not verified.
# custom:
#   rule: S4
#   code: RECIPIENT_NOT_VERIFIED
#   citation: 45 CFR 164.514(h)
#   message: The recipient's identity and authority have not been verified.
#   requirement:
#     code: VERIFY_RECIPIENT_IDENTITY
#     message: Verify the recipient's identity and authority before disclosing (45 CFR 164.514(h)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.recipient.type != "workforce"
	not input.recipient.identity_verified == true
}

# S2 names the roles that may act (v1.2: every deny says what would change it).
_role_fields := {
	"message": sprintf("None of the requester's roles may disclose for this purpose; roles that may: %s.", [_roles_text]),
	"permitted_roles": permitted_roles,
}

# The roles of the role catalog that may act for the purpose (named by ROLE_NOT_PERMITTED).
permitted_roles := sort([role |
	some role, entry in data.config.roles.roles
	entry.purposes[input.purpose]
])

default _roles_text := "none in the role catalog"

_roles_text := concat(", ", permitted_roles) if count(permitted_roles) > 0

# Some role of the requester may act for the purpose (an object lookup per role).
role_permitted if {
	some role in input.requester.roles
	data.config.roles.roles[role].purposes[input.purpose]
}

# The revoked-access list (policy data) by normalized user id: a user id in another case is the
# same user (identifiers are case-insensitive; hipaa.lib.id_key).
revoked_users contains lib.id_key(id) if some id, _ in data.config.revoked_access.users
