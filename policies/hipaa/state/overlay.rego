# METADATA
# title: State law overlay (C4)
# description: |
#   Rule C4 of docs/rules.md and docs/state-laws.md: HIPAA is a floor and a more stringent
#   state law still binds (45 CFR 160.203(b)). The rules are data
#   (`data.config.state_laws`, keyed by state and category); this module only applies them.
#   For every state in `jurisdictions` (patient state plus requester state) and every
#   requested category:
#   - consent: the entry's `consent_required_for` holds the purpose and the recipient type is
#     not in `exempt_recipient_types` -> an authorization on file (any type) must cover the
#     recipient, the purpose and the category, else STATE_LAW_CONSENT_REQUIRED with the
#     state and its citation, and the requirement OBTAIN_STATE_CONSENT;
#   - shield laws: `out_of_state_disclosure_restricted` and a recipient in another state, or whose
#     state is not given (fail closed), for a purpose in `out_of_state_restricted_purposes` -> the
#     same, unless an authorization covers it;
#   - minors (per category, v1.2): a disclosure of a minor's minor-consented care to a parent
#     (a `personal_representative`, or another type the entry's `parent_recipient_types` names)
#     of a category the state limits (`parental_access_limited` for every category, or
#     `parental_access_limited_for`) -> the same, unless an authorization covers the category;
#   - redisclosure: an entry with a `redisclosure_notice` adds the obligation
#     STATE_REDISCLOSURE_NOTICE with the statutory text (hipaa.decision keeps obligations only
#     for allowed disclosures), except on a disclosure to the patient (or the personal
#     representative of an incapacitated patient), N.Y. Pub. Health Law 2782(5)(a).
#   An entry with `applies_to_entity_types` binds only those disclosers (`requester.entity_types`);
#   a request that does not say what the discloser is keeps the entry (the stricter reading).
#   An entry's `general_release_suffices_for` lets an authorization covering general records
#   satisfy the consent rule for those recipient types (NY insurers, 10 NYCRR 63.6(a)(9)).
#   De-identified data is outside the overlay. Lookups are by state and category, never scans.
package hipaa.state

import data.hipaa.authorizations
import data.hipaa.lib

# The state law matrix (data.config.state_laws) is read by full references to the fields a
# rule needs, so that OPA never copies the whole document during an evaluation.
_cat(state, mcat) := data.config.state_laws[state].categories[mcat]

_name(state) := data.config.state_laws[state].name

# Requested categories -> the matrix entries that govern them. A state's `general` entry
# (its rule for all health records, e.g. Minn. Stat. 144.293) applies to every category;
# psychotherapy and SUD counseling notes are mental-health and SUD records.
_matrix_categories := {
	"general": ["general"],
	"mental_health": ["general", "mental_health"],
	"psychotherapy_notes": ["general", "mental_health"],
	"substance_use_disorder": ["general", "substance_use_disorder"],
	"sud_counseling_notes": ["general", "substance_use_disorder"],
	"hiv": ["general", "hiv"],
	"std": ["general", "std"],
	"genetic": ["general", "genetic"],
	"reproductive_health": ["general", "reproductive_health"],
}

# A requested category as the minors rule groups it (parental_access_limited_for).
_minor_category := {
	"general": "general",
	"mental_health": "mental_health",
	"psychotherapy_notes": "mental_health",
	"substance_use_disorder": "substance_use_disorder",
	"sud_counseling_notes": "substance_use_disorder",
	"hiv": "hiv",
	"std": "std",
	"genetic": "genetic",
	"reproductive_health": "reproductive_health",
}

# Purposes the minors rule leaves to federal law (emergencies, threats, legal mandates).
_minor_rule_exempt_purposes := {"medical_emergency", "serious_threat", "required_by_law"}

jurisdictions contains input.patient.state if is_string(input.patient.state)

jurisdictions contains input.requester.state if is_string(input.requester.state)

# The overlay does not add permissions (hipaa.outcome does not read this seam per decision).
bases := set()

_deidentified if input.data.form == "deidentified"

# Every (state, matrix category, requested category) in play: one object lookup each.
_in_play contains [state, mcat, cat] if {
	some state in jurisdictions
	data.config.state_laws[state] # a state without an entry reads no rule below
	not _deidentified
	some cat in input.data.categories
	some mcat in _matrix_categories[cat]
	data.config.state_laws[state].categories[mcat].citation
	_entry_applies(state, mcat)
}

# The discloser types a request may name (request.schema.json `requester.entity_types`).
entity_types := {"health_plan", "provider", "lps_facility", "omh_facility", "baker_act_facility", "part2_program"}

# What the discloser says it is (`requester.entity_types`); undefined when the request does not
# say (absent, null, not a list, or a list with a type this policy does not know), and then every
# entry applies (the stricter reading).
_entity_types := {t | some t in input.requester.entity_types} if {
	is_array(input.requester.entity_types)
	every t in input.requester.entity_types {
		t in entity_types
	}
}

# An entry binds this discloser: it names no discloser types, the discloser is unknown, or the
# discloser is one of the types it names.
_entry_applies(state, mcat) if not data.config.state_laws[state].categories[mcat].applies_to_entity_types

_entry_applies(_, _) if not _entity_types

_entry_applies(state, mcat) if {
	some t in data.config.state_laws[state].categories[mcat].applies_to_entity_types
	t in _entity_types
}

# The requested categories that some authorization on file (any type) covers for this
# recipient and purpose; computed once per decision.
_authorized contains cat if {
	some cat in input.data.categories
	some auth in input.authorizations
	authorizations.covers(auth, cat)
}

# The state rules this request trips: one item per state, matrix category and kind.
_unmet contains {"state": state, "category": mcat, "kind": "consent", "citation": _cat(state, mcat).citation} if {
	some [state, mcat, cat] in _in_play
	input.purpose in data.config.state_laws[state].categories[mcat].consent_required_for
	not input.recipient.type in data.config.state_laws[state].categories[mcat].exempt_recipient_types
	not _consented(state, mcat, cat)
}

_unmet contains {"state": state, "category": mcat, "kind": kind, "citation": _cat(state, mcat).citation} if {
	some [state, mcat, cat] in _in_play
	data.config.state_laws[state].categories[mcat].out_of_state_disclosure_restricted == true
	input.purpose in data.config.state_laws[state].categories[mcat].out_of_state_restricted_purposes
	kind := _elsewhere(state)
	not cat in _authorized
}

_unmet contains {"state": state, "category": "minors", "kind": "minor_parental_access", "citation": citation} if {
	input.patient.minor_consented_care == true # indexed: OPA skips this rule otherwise
	input.recipient.type in {"personal_representative", "family"} # who may count as a parent
	not _deidentified
	_minor_consented_care
	not input.purpose in _minor_rule_exempt_purposes
	some state in jurisdictions
	input.recipient.type in _parent_types(state)
	_entry_applies(state, "minors")
	citation := data.config.state_laws[state].categories.minors.citation
	some cat in input.data.categories
	_minor_limited(state, cat)
	not cat in _authorized
}

# The state's consent is on file: an authorization covering the category, or, for the recipient
# types whose entry says a general release suffices, one covering general records.
_consented(_, _, cat) if cat in _authorized

_consented(state, mcat, _) if {
	input.recipient.type in data.config.state_laws[state].categories[mcat].general_release_suffices_for
	_general_release
}

_general_release if {
	some auth in input.authorizations
	authorizations.covers(auth, "general")
}

# Who counts as a parent for a state's minors rule: a personal representative, and the other
# recipient types the entry names (e.g. family, where the statute bars sending a parent a bill).
default _parent_types(_) := {"personal_representative"}

_parent_types(state) := {t | some t in types} if {
	types := data.config.state_laws[state].categories.minors.parent_recipient_types
}

# The state keeps this category of a minor's self-consented care from parents: every category,
# or the ones its entry lists (Fla. Stat. 384.30(2): STD care; 397.501(7): SUD records).
_minor_limited(state, _) if data.config.state_laws[state].categories.minors.parental_access_limited == true

_minor_limited(state, cat) if {
	_minor_category[cat] in data.config.state_laws[state].categories.minors.parental_access_limited_for
}

# The recipient is, or may be, outside the state: a recipient whose state is not given (absent,
# null or no recipient at all) counts as possibly out of state (fail closed). object.get, because
# `not is_string(x)` is not true when x is undefined.
_elsewhere(state) := "out_of_state" if {
	is_string(input.recipient.state)
	input.recipient.state != state
}

_elsewhere(_) := "recipient_state_unknown" if not is_string(object.get(input, ["recipient", "state"], null))

# Care the minor consented to: flagged, and the patient is not known to be an adult.
_minor_consented_care if {
	input.patient.minor_consented_care == true
	not _adult
}

_adult if {
	is_number(input.patient.age)
	input.patient.age >= 18
}

_labels := {
	"general": "health",
	"mental_health": "mental health",
	"hiv": "HIV",
	"std": "sexually transmitted disease",
	"genetic": "genetic",
	"reproductive_health": "reproductive health",
	"substance_use_disorder": "substance use disorder",
	"minors": "minor-consented care",
}

_messages := {
	"consent": "%s law requires the patient's written authorization covering %s information for this disclosure.",
	"out_of_state": "%s law restricts disclosing %s information to a recipient in another state without authorization.",
	"recipient_state_unknown": concat(" ", [
		"%s law restricts disclosing %s information to a recipient in another state without authorization;",
		"the recipient's state is not given, so it may be another state.",
	]),
	"minor_parental_access": "%s law does not let a parent see records of %s without the minor's authorization.",
}

_message(u) := concat(" ", [sprintf(_messages[u.kind], [_name(u.state), _labels[u.category]]), _discloser_note(u)]) if {
	_unknown_discloser(u)
}

_message(u) := sprintf(_messages[u.kind], [_name(u.state), _labels[u.category]]) if not _unknown_discloser(u)

# The entry binds only some disclosers and the request does not say what the discloser is: the
# message names the types, so that `requester.entity_types` can settle it.
_unknown_discloser(u) if {
	u.kind != "minor_parental_access"
	not _entity_types
	_cat(u.state, u.category).applies_to_entity_types
}

_discloser_note(u) := sprintf(
	"This rule binds only these disclosers: %s; requester.entity_types does not say what the discloser is.",
	[concat(", ", _cat(u.state, u.category).applies_to_entity_types)],
)

# METADATA
# title: State law requires the patient's consent
# description: |
#   A state in the decision's jurisdictions has a rule in the state law matrix for a
#   requested category and this purpose (or a shield or minors rule), and no authorization
#   on file covers it. The citation is the state's, from the matrix.
# custom:
#   rule: C4
#   code: STATE_LAW_CONSENT_REQUIRED
#   citation: 45 CFR 160.203(b); state law per the state law matrix
#   message: State law requires the patient's authorization for this disclosure.
reasons contains lib.result(rego.metadata.chain(), {
	"state": u.state,
	"category": u.category,
	"citation": u.citation,
	"message": _message(u),
}) if {
	some u in _unmet
}

# METADATA
# title: Obtain the consent state law requires
# description: An authorization covering the category, recipient and purpose would satisfy the state rule.
# custom:
#   rule: C4
#   code: OBTAIN_STATE_CONSENT
#   citation: 45 CFR 160.203(b); state law per the state law matrix
#   message: Obtain the patient's written authorization naming this category, recipient and purpose.
requirements contains lib.result(rego.metadata.chain(), {
	"state": u.state,
	"category": u.category,
	"citation": u.citation,
	"message": sprintf(
		"Obtain the patient's written authorization covering %s information, as %s law requires.",
		[_labels[u.category], _name(u.state)],
	),
}) if {
	some u in _unmet
}

# METADATA
# title: State redisclosure statement
# description: |
#   The state prescribes a statement that must accompany a disclosure of this category
#   (e.g. 10 NYCRR 63.5(b) for HIV, RCW 70.02.300 for STDs including HIV).
# custom:
#   rule: C4
#   code: STATE_REDISCLOSURE_NOTICE
#   citation: 45 CFR 160.203(b); state law per the state law matrix
#   message: Send the statutory redisclosure statement with the disclosure.
obligations contains lib.result(rego.metadata.chain(), {
	"state": state,
	"category": mcat,
	"text": text,
	"citation": _cat(state, mcat).citation,
}) if {
	some [state, mcat, _] in _in_play
	text := data.config.state_laws[state].categories[mcat].redisclosure_notice
	is_string(text)
	not _to_the_patient
}

# A disclosure to the patient, or to the person lawfully authorized to consent for a patient who
# lacks capacity, carries no redisclosure statement (N.Y. Pub. Health Law 2782(5)(a)).
_to_the_patient if input.recipient.type == "patient"

_to_the_patient if {
	input.recipient.type == "personal_representative"
	input.patient.incapacitated == true
}

# METADATA
# title: law
# description: |
#   The matrix entry of one state, for `GET /v1/state-laws/{state}` (input `{"state": "CA"}`);
#   undefined for a state the matrix does not hold.
law := object.union(data.config.state_laws[input.state], {"state": input.state}) if is_string(input.state)

# METADATA
# scope: document
# title: minor_parental_access
# description: |
#   Per jurisdiction, what the matrix says about a parent's access to the requested categories
#   of a minor's minor-consented care: true = the state gives parents access (e.g. TX; FL
#   except STD and SUD care), false = it limits it for some requested category, absent =
#   silent or unknown. For P5 (164.502(g)(3)).
minor_parental_access[state] := true if {
	some state in jurisdictions
	data.config.state_laws[state].categories.minors.parental_access_limited == false
	not _limited_for_request(state)
}

minor_parental_access[state] := false if {
	some state in jurisdictions
	_limited_for_request(state)
}

_limited_for_request(state) if {
	_entry_applies(state, "minors")
	some cat in input.data.categories
	_minor_limited(state, cat)
}
