# METADATA
# title: P4 — business associates, HIEs and community organizations
# description: |
#   A disclosure to a business associate needs a business associate agreement in force that
#   covers the purpose (45 CFR 164.502(e), 164.504(e)); an authorization does not replace it.
#   The registry is policy data (data.config.business_associates, keyed by recipient id).
#   A community organization without a BAA needs the patient's authorization for the care
#   coordination (TPO) disclosures it is asked to receive; the `community_treatment_disclosures`
#   option (`hipaa_floor`) lets a deployer treat treatment disclosures to it as treatment (P1).
package hipaa.business_associates

import data.hipaa.authorizations
import data.hipaa.lib
import data.hipaa.request

# The registry entry of the recipient, when its kind matches the recipient type.
entry := e if {
	e := lib.keyed_by_id(data.config.business_associates)[request.recipient_id]
	e.kind == input.recipient.type
}

# METADATA
# title: BAA in force covering the purpose
# description: |
#   The recipient's BAA is executed, in force at `now` (effective_on ≤ today ≤ expires_on)
#   and lists `purpose` among its purposes.
baa_covers(purpose) if {
	entry.baa.status == "executed"
	request.in_force(entry.baa)
	purpose in entry.baa.purposes
}

# METADATA
# title: BAA in force covering one of the purposes
# description: As baa_covers, for any purpose of `purposes`.
baa_covers_any(purposes) if {
	entry.baa.status == "executed"
	request.in_force(entry.baa)
	some purpose in entry.baa.purposes
	purpose in purposes
}

# METADATA
# title: P4 Business associate
# description: |
#   A business associate, HIE or community organization listed in the registry with an
#   executed, unexpired BAA whose purposes include the purpose of the disclosure.
# custom:
#   rule: P4
#   code: BUSINESS_ASSOCIATE
#   citation: 45 CFR 164.502(e), 164.504(e)
#   summary: Disclosure to a business associate under a BAA in force that covers this purpose.
permit contains lib.permit(rego.metadata.chain(), {"business_associate_id": request.recipient_id}) if {
	input.recipient.type in {"business_associate", "hie", "community_organization"}
	baa_covers(input.purpose)
}

# METADATA
# title: P4 BAA required
# description: |
#   A business associate or HIE without an executed BAA in force covering the purpose. An HIE
#   with a participation agreement receiving a treatment disclosure rests on P1 instead.
# custom:
#   rule: P4
#   code: BAA_REQUIRED
#   citation: 45 CFR 164.502(e)(1)-(2), 164.504(e)
#   message: No business associate agreement in force covers this recipient and purpose.
#   requirement:
#     code: EXECUTE_BAA
#     message: Execute (or renew) a business associate agreement covering this purpose.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.recipient.type in {"business_associate", "hie"}
	not baa_covers(input.purpose)
	not _hie_treatment
	not _outside_counsel
}

# METADATA
# title: P4 Community organization without a BAA
# description: |
#   A community organization with no BAA covering a treatment, payment or operations disclosure
#   needs the patient's authorization covering it (organizational policy, stricter than HIPAA;
#   see the `community_treatment_disclosures` option).
# custom:
#   rule: P4
#   code: NO_PERMISSION
#   citation: 45 CFR 164.506(c), 164.508(a)(1); organizational policy (docs/rules.md P4)
#   message: >-
#     A community organization without a business associate agreement may receive this only with
#     the patient's authorization.
#   requirement:
#     code: OBTAIN_PATIENT_AUTHORIZATION
#     message: Obtain the patient's written authorization for this disclosure (45 CFR 164.508).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.recipient.type == "community_organization"
	input.purpose in request.tpo
	not baa_covers(input.purpose)
	not authorizations.authorized
	not community_treatment_floor
}

# Outside counsel under a BAA covering operations: P20 decides legal_defense disclosures to it.
_outside_counsel if {
	input.purpose == "legal_defense"
	input.recipient.type == "business_associate"
	baa_covers("health_care_operations")
}

# The deployer chose the HIPAA floor for treatment disclosures to community organizations.
community_treatment_floor if {
	input.recipient.type == "community_organization"
	input.purpose == "treatment"
	data.config.options.community_treatment_disclosures == "hipaa_floor"
}

# A treatment disclosure to an HIE with a participation agreement on file (P1).
_hie_treatment if {
	input.recipient.type == "hie"
	input.purpose == "treatment"
	hie_agreement
}

# METADATA
# title: HIE participation agreement
# description: The recipient HIE has an active participation agreement in force covering the purpose.
hie_agreement if {
	agreement := lib.keyed_by_id(data.config.hie_agreements)[request.recipient_id]
	agreement.status == "active"
	request.in_force(agreement)
	input.purpose in agreement.purposes
}
