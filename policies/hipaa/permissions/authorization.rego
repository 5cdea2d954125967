# P17, P18 — the patient's authorization (45 CFR 164.508). Validity and scope are decided in
# hipaa.authorizations; an invalid authorization with no other basis is reported by the
# decision (hipaa.decision, rule P17), which sees every basis.
package hipaa.permissions

import data.hipaa.authorizations
import data.hipaa.lib
import data.hipaa.request

# METADATA
# title: P17 Patient authorization
# description: A valid authorization covers the recipient, the purpose and every requested category.
# custom:
#   rule: P17
#   code: PATIENT_AUTHORIZATION
#   citation: 45 CFR 164.508
#   summary: Disclosure under the patient's valid written authorization.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.authorizations != [] # the common case (none on file) reads no authorization rule
	authorizations.authorized
}

# METADATA
# title: P18 Marketing
# description: |
#   Marketing needs the patient's authorization, whatever other permission might apply
#   (de-identified data is not PHI and is not affected).
# custom:
#   rule: P18
#   code: NO_PERMISSION
#   citation: 45 CFR 164.508(a)(3)
#   message: Marketing and sale of protected health information need the patient's authorization.
#   requirement:
#     code: OBTAIN_PATIENT_AUTHORIZATION
#     message: Obtain the patient's written authorization for this marketing or sale (45 CFR 164.508(a)(3)-(4)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "marketing" # indexed: one body per purpose, so OPA skips it otherwise
	request.form != "deidentified"
	not authorizations.authorized
}

# METADATA
# title: P18 Sale of PHI
# description: |
#   A sale of PHI needs the patient's authorization, whatever other permission might apply
#   (de-identified data is not PHI and is not affected).
# custom:
#   rule: P18
#   code: NO_PERMISSION
#   citation: 45 CFR 164.508(a)(4)
#   message: Marketing and sale of protected health information need the patient's authorization.
#   requirement:
#     code: OBTAIN_PATIENT_AUTHORIZATION
#     message: Obtain the patient's written authorization for this marketing or sale (45 CFR 164.508(a)(3)-(4)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "sale_of_phi"
	request.form != "deidentified"
	not authorizations.authorized
}
