# The elements an authorization on file must contain (hipaa.authorization_forms.items), checked when
# the request lists them in `elements_present`: a document not filled out completely is
# defective (45 CFR 164.508(b)(2)(ii); 42 CFR 2.31) and covers nothing. Without the list
# nothing is checked (v1 requests behave as before).
package hipaa.authorizations

import data.hipaa.authorization_forms.items
import data.hipaa.lib

# The states whose law applies to the decision (the state overlay's jurisdictions).
_form_states contains input.patient.state if is_string(input.patient.state)

_form_states contains input.requester.state if is_string(input.requester.state)

# METADATA
# title: missing_elements
# description: |
#   The required element ids `auth` does not list in `elements_present` for this disclosure
#   (its states, the requested categories it names, the purpose and the recipient type).
missing_elements(auth) := required - {id | some id in auth.elements_present} if {
	is_array(auth.elements_present)
	required := items.required_ids(_form_states, _form_categories(auth), input.purpose, input.recipient.type, auth.type)
}

# The requested categories the authorization names ("*" names them all).
_form_categories(auth) := {c | some c in input.data.categories} if "*" in auth.categories

else := {c | some c in input.data.categories; c in auth.categories}

# METADATA
# title: incomplete
# description: The authorization lists its elements and lacks a required one.
incomplete(auth) if count(missing_elements(auth)) > 0

# METADATA
# title: P17 Authorization incomplete
# description: |
#   Added to a denied decision: an authorization on file lacks required elements (it was not
#   relied on); `authorizations` names each one with the missing element ids.
# custom:
#   rule: P17
#   code: AUTHORIZATION_INCOMPLETE
#   citation: 45 CFR 164.508(b)(2)(ii), 164.508(c); 42 CFR 2.31(a)
#   message: An authorization on file lacks required elements and is not valid; see `authorizations`.
incomplete_reasons(reasons) := {lib.result(rego.metadata.chain(), {"authorizations": _incomplete_on_file})} if {
	count(reasons) > 0
	count(_incomplete_on_file) > 0
} else := set()

_incomplete_on_file := [{"id": object.get(auth, "id", null), "type": auth.type, "missing": sort(missing)} |
	some auth in _on_file
	missing := missing_elements(auth)
	count(missing) > 0
]
