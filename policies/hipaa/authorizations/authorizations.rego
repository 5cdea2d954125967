# METADATA
# title: Authorizations and consents
# description: |
#   The one place that decides whether a signed patient permission on file is valid
#   and what it covers: HIPAA authorizations (45 CFR 164.508), psychotherapy-notes
#   authorizations (164.508(a)(2)) and 42 CFR Part 2 consents (2.31, 2.33, 2.64).
#   Other packages (and the state-law overlay) ask `valid(auth)`, `covers(auth, category)`
#   and the typed helpers below; none of them reads an authorization's fields itself.
# related_resources:
#   - description: 45 CFR 164.508 (uses and disclosures for which an authorization is required)
#     ref: https://www.ecfr.gov/current/title-45/section-164.508
#   - description: 42 CFR 2.31 (consent requirements)
#     ref: https://www.ecfr.gov/current/title-42/section-2.31
package hipaa.authorizations

import data.hipaa.lib
import data.hipaa.request

# Treatment, payment and health care operations: what a part2_tpo_consent covers by its type
# (42 CFR 2.33(b) as amended 2024).
tpo_purposes := {"treatment", "payment", "health_care_operations"}

_ns_per_day := ((24 * 60) * 60) * 1000000000

# The decision time; undefined (so nothing is valid) when the shim did not supply it.
_now_ns := time.parse_rfc3339_ns(input.now)

# METADATA
# title: valid
# description: |
#   Signed (164.508(c)(1)(vi): signature and date), not revoked (164.508(b)(5)),
#   signed on or before `input.now`, and not expired at `input.now` (164.508(b)(2)(i)):
#   `expires_on` is the last day on which it is in force (UTC); null means an expiration
#   event rather than a date. Malformed fields make it invalid, and so does a document that
#   combines one that must stand alone with another (164.508(b)(2)(iii), (b)(3)(ii);
#   42 CFR 2.31(b), (d)): it is defective and covers nothing. So is one whose `elements_present`
#   lacks a required element (164.508(b)(2)(ii); elements.rego).
valid(auth) if {
	auth.signed == true
	object.get(auth, "revoked", false) == false
	time.parse_ns("2006-01-02", auth.signed_on) <= _now_ns
	_unexpired(auth)
	not _combined(auth)
	not incomplete(auth)
}

# Categories whose permission must stand alone: an authorization for psychotherapy notes may be
# combined only with another one for psychotherapy notes (164.508(b)(3)(ii)), a consent for SUD
# counseling notes only with another one for counseling notes (42 CFR 2.31(b)).
_sole_categories := {"psychotherapy_notes", "sud_counseling_notes"}

# The categories and purposes a stand-alone document type may name (a proceedings consent cannot
# be combined with a consent for any other purpose, 42 CFR 2.31(d)).
_type_categories := {
	"psychotherapy_notes_authorization": {"psychotherapy_notes"},
	"sud_counseling_notes_consent": {"sud_counseling_notes"},
}

_type_purposes := {"part2_proceedings_consent": {"judicial_proceeding", "law_enforcement"}}

# A document of any type naming a stand-alone category together with another category.
_combined(auth) if {
	some category in auth.categories
	category in _sole_categories
	some other in auth.categories
	other != category
}

_combined(auth) if {
	allowed := _type_categories[auth.type]
	some category in auth.categories
	not category in allowed
}

_combined(auth) if {
	allowed := _type_purposes[auth.type]
	some purpose in auth.purposes
	not purpose in allowed
}

_unexpired(auth) if object.get(auth, "expires_on", null) == null

_unexpired(auth) if _now_ns < time.parse_ns("2006-01-02", auth.expires_on) + _ns_per_day

# METADATA
# title: covers
# description: |
#   `auth` is valid and its scope covers this disclosure: the recipient (by id, "*" or
#   recipient type), the purpose (a part2_tpo_consent covers TPO by its type) and `category`.
covers(auth, category) if {
	valid(auth)
	_covers_recipient(auth)
	_covers_purpose(auth)
	category in auth.categories
}

_covers_recipient(auth) if {
	some id in auth.recipients
	is_string(id)
	lib.id_key(id) == request.recipient_id
}

_covers_recipient(auth) if "*" in auth.recipients

_covers_recipient(auth) if input.recipient.type in auth.recipient_types

_covers_purpose(auth) if input.purpose in auth.purposes

_covers_purpose(auth) if {
	auth.type == "part2_tpo_consent"
	input.purpose in tpo_purposes
}

# The authorizations on file, when the input has a list of them.
_on_file := input.authorizations if is_array(input.authorizations)

# METADATA
# title: covered
# description: |
#   Some authorization on file whose type is in `types` covers `category`. This is how
#   type rules are applied: a HIPAA authorization is not a Part 2 consent, a general
#   authorization does not cover psychotherapy notes for C1, and so on.
covered(types, category) if {
	some auth in _on_file
	auth.type in types
	covers(auth, category)
}

# Authorization types that stand for a 164.508 authorization for a category (rule P17).
# A psychotherapy-notes authorization covers psychotherapy notes; Part 2 consents cover SUD
# records (42 CFR 2.31 as amended in 2024 has the 164.508(c) core elements; a TPO consent only
# serves TPO, which P1-P3 already permit); every other
# category needs a HIPAA authorization. The category gates (C1-C3) add their own type rules.
_authorization_types := {
	"psychotherapy_notes": {"hipaa_authorization", "psychotherapy_notes_authorization"},
	"substance_use_disorder": {"hipaa_authorization", "part2_consent"},
	"sud_counseling_notes": {"hipaa_authorization", "sud_counseling_notes_consent"},
}

_default_types := {"hipaa_authorization"}

# METADATA
# title: authorized
# description: |
#   Every requested category is covered by a valid authorization of a type that stands for a
#   164.508 authorization for it (rule P17): recipient, purpose and every category.
authorized if {
	count(_on_file) > 0
	count(_categories) > 0
	every category in _categories {
		covered(object.get(_authorization_types, category, _default_types), category)
	}
}

_categories := input.data.categories if is_array(input.data.categories)

# METADATA
# title: on file
# description: |
#   Some authorization of a type that could support P17 for a requested category is on file
#   (whether or not it is valid or in scope).
on_file if {
	some auth in _on_file
	some category in _categories
	auth.type in object.get(_authorization_types, category, _default_types)
}
