# METADATA
# title: Consent findings
# description: |
#   Checks each patient consent that a FHIR / CDS Hooks call brought (docs/interop.md §5)
#   against the law, with citations: a 42 CFR Part 2 consent missing a 2.31(a) element, a HIPAA
#   authorization missing a 164.508(c)(1) core element or the (c)(2) statements, a
#   psychotherapy-notes authorization combined with another (164.508(b)(3)(ii)), and an opt-out
#   that HIPAA does not make binding unless the entity agreed (164.522(a)(1)(ii)).
#   Input: {"consents": [{ref, kind, elements: {<element>: bool}, categories, opt_out_honored}]},
#   the facts the shim's FHIR translation reads off each Consent (format conversion only).
#   `findings` is an array of {consent, code, citation, message, rule, ...} sorted by consent,
#   code and element; `defective` is the set of consent refs the law would not honour (a finding
#   whose METADATA says `defective: true`), whose authorizations the consult does not rely on.
package hipaa.consents

import data.hipaa.lib

# The 42 CFR 2.31(a) elements the consent facts carry, each with its paragraph and wording.
part2_elements := {
	"patient": {"citation": "42 CFR 2.31(a)(1)", "wording": "the name of the patient"},
	"information": {
		"citation": "42 CFR 2.31(a)(3)",
		"wording": "how much and what kind of information is to be disclosed",
	},
	"recipient": {
		"citation": "42 CFR 2.31(a)(4)",
		"wording": "the name or general designation of the recipient(s)",
	},
	"purpose": {"citation": "42 CFR 2.31(a)(5)", "wording": "the purpose of the disclosure"},
	"statements": {
		"citation": "42 CFR 2.31(a)(6)",
		"wording": "the statement of the right to revoke (no signed form is attached to verify it)",
	},
	"expiration": {"citation": "42 CFR 2.31(a)(7)", "wording": "an expiration date or event"},
	"signature": {"citation": "42 CFR 2.31(a)(8)", "wording": "the signature of the patient"},
	"date": {"citation": "42 CFR 2.31(a)(9)", "wording": "the date the consent was signed"},
}

# The 45 CFR 164.508(c) core elements and statements of a HIPAA authorization.
authorization_elements := {
	"information": {
		"citation": "45 CFR 164.508(c)(1)(i)",
		"wording": "a specific and meaningful description of the information",
	},
	"discloser": {
		"citation": "45 CFR 164.508(c)(1)(ii)",
		"wording": "the name of the person(s) authorized to make the disclosure",
	},
	"recipient": {
		"citation": "45 CFR 164.508(c)(1)(iii)",
		"wording": "the name of the person(s) to whom the disclosure may be made",
	},
	"purpose": {"citation": "45 CFR 164.508(c)(1)(iv)", "wording": "a description of each purpose"},
	"expiration": {"citation": "45 CFR 164.508(c)(1)(v)", "wording": "an expiration date or event"},
	"signature": {"citation": "45 CFR 164.508(c)(1)(vi)", "wording": "the signature of the individual"},
	"date": {"citation": "45 CFR 164.508(c)(1)(vi)", "wording": "the date of the signature"},
	"statements": {
		"citation": "45 CFR 164.508(c)(2)",
		"wording": "the required statements (no signed form is attached to verify them)",
	},
}

# Which element table applies to a consent kind.
_element_tables := {
	"part2": part2_elements,
	"hipaa_authorization": authorization_elements,
	"psychotherapy_notes_authorization": authorization_elements,
}

# The consent facts; anything but a list of objects is no consent.
default _consents := []

_consents := [c | some c in input.consents; is_object(c)] if is_array(input.consents)

# METADATA
# title: Findings
# description: Every finding, sorted by consent, code and element (the document the API serves).
# entrypoint: true
findings := [_keyed[key] | some key in sort(object.keys(_keyed))]

_keyed[[f.consent, f.code, object.get(f, "element", "")]] := f if some f in _all

# METADATA
# title: Defective consents
# description: Refs of the consents with a finding that makes them invalid under the law.
defective contains f.consent if {
	some f in _all
	f.defective
}

# METADATA
# title: Part 2 consent element missing
# description: A Part 2 consent lacks a 2.31(a) element (one finding each); it is not a valid consent (2.31(c)).
# custom:
#   rule: CF1
#   code: PART2_CONSENT_ELEMENT_MISSING
#   citation: 42 CFR 2.31(a)
#   message: The Part 2 consent lacks an element 42 CFR 2.31(a) requires; it is not relied on.
#   defective: true
_all contains _finding(rego.metadata.chain(), consent, _missing_extra(spec, element)) if {
	some consent in _consents
	consent.kind == "part2"
	some element, spec in part2_elements
	not _present(consent, element)
}

# METADATA
# title: HIPAA authorization element missing
# description: |
#   A HIPAA (or psychotherapy-notes) authorization lacks a 164.508(c)(1) core element or the
#   (c)(2) statements; it is defective (164.508(b)(2)(ii)) and not relied on.
# custom:
#   rule: CF2
#   code: AUTHORIZATION_ELEMENT_MISSING
#   citation: 45 CFR 164.508(b)(2)(ii), (c)
#   message: The authorization lacks an element 45 CFR 164.508(c) requires; it is not relied on.
#   defective: true
_all contains _finding(rego.metadata.chain(), consent, _missing_extra(spec, element)) if {
	some consent in _consents
	consent.kind in {"hipaa_authorization", "psychotherapy_notes_authorization"}
	some element, spec in authorization_elements
	not _present(consent, element)
}

# METADATA
# title: Psychotherapy-notes authorization combined
# description: |
#   One consent permits psychotherapy notes together with other information; such an
#   authorization may be combined only with another one for psychotherapy notes.
# custom:
#   rule: CF3
#   code: PSYCHOTHERAPY_NOTES_AUTHORIZATION_COMBINED
#   citation: 45 CFR 164.508(b)(3)(ii)
#   message: A psychotherapy-notes authorization is combined with one for other information; it is not relied on.
#   defective: true
_all contains _finding(rego.metadata.chain(), consent, {"categories": sort(_categories(consent))}) if {
	some consent in _consents
	"psychotherapy_notes" in _categories(consent)
	count(_categories(consent) - {"psychotherapy_notes"}) > 0
}

# METADATA
# title: Opt-out not binding
# description: |
#   A bare opt-out (a consent whose root decision is deny, with no permit) does not override the
#   permissions for treatment, payment and operations: the entity need not agree to a requested
#   restriction, and only an agreed one binds. Reported, not applied, unless the deployer set
#   honor_consent_opt_out (then the shim passes it as an agreed restriction).
# custom:
#   rule: CF4
#   code: CONSENT_OPT_OUT_NOT_BINDING
#   citation: 45 CFR 164.522(a)(1)(ii)
#   message: The opt-out is a requested restriction the entity has not agreed to; HIPAA's permissions still apply.
#   defective: false
_all contains _finding(rego.metadata.chain(), consent, {}) if {
	some consent in _consents
	consent.kind == "opt_out"
	not consent.opt_out_honored == true
}

# METADATA
# title: Opt-out honoured
# description: The deployer honours opt-outs (option honor_consent_opt_out), applied as an agreed restriction.
# custom:
#   rule: CF5
#   code: CONSENT_OPT_OUT_HONORED
#   citation: 45 CFR 164.522(a)(1)(ii)-(iii)
#   message: The opt-out is applied as a restriction the entity agreed to (it yields to emergency treatment).
#   defective: false
_all contains _finding(rego.metadata.chain(), consent, {}) if {
	some consent in _consents
	consent.kind == "opt_out"
	consent.opt_out_honored == true
}

# An element is present only when the facts say true: absent or malformed facts count as missing.
_present(consent, element) if consent.elements[element] == true

_categories(consent) := {c | some c in consent.categories} if is_array(consent.categories)

_categories(consent) := set() if not is_array(consent.categories)

_missing_extra(spec, element) := {
	"element": element,
	"citation": spec.citation,
	"message": sprintf("The consent lacks %s.", [spec.wording]),
}

_finding(chain, consent, extra) := lib.result(chain, object.union(
	{"consent": _ref(consent), "defective": chain[0].annotations.custom.defective},
	extra,
))

_ref(consent) := object.get(consent, "ref", "Consent/unknown")
