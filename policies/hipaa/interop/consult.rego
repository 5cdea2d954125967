# METADATA
# title: CDS Hooks consult
# description: |
#   The document a CDS Hooks `patient-consent-consult` (docs/interop.md) asks for: the
#   consent findings of the consents in the call and the disclosure decision
#   (data.hipaa.decision) taken on the authorizations the law would honour, so a defective
#   consent is reported and never relied on. Input: a decide input (decision-api.md §3) plus
#   `consents` (the facts of hipaa.consents). `relied_on` is the authorization list the
#   decision saw; the shim logs the input with it, so a replay of data.hipaa.decision matches.
package hipaa.interop

import data.hipaa.consents

# METADATA
# title: Consult
# description: The object with decision, consent_findings and relied_on.
# entrypoint: true
consult := {
	"decision": decision,
	"consent_findings": consents.findings,
	"relied_on": relied_on,
}

# The authorizations on file that do not come from a defective consent.
relied_on := [auth |
	some auth in _authorizations
	not _from_defective(auth)
]

default _authorizations := []

_authorizations := input.authorizations if is_array(input.authorizations)

_from_defective(auth) if auth.id in consents.defective

# The decision evaluated on `relied_on` in place of the authorizations sent.
decision := d if {
	# regal ignore:with-outside-test-context
	d := data.hipaa.decision with input.authorizations as relied_on
}
