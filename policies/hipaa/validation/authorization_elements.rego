# Input validation of an authorization's optional `elements_present` (hipaa.authorizations,
# elements.rego): when given, a list of element ids. Checked on every input, so a malformed list
# is never read as "not checked".
package hipaa.validation

problems contains _problem(sprintf("/authorizations/%d/elements_present", [i]), _elements_message) if {
	some i, auth in _authorizations
	is_object(auth)
	_bad_elements_present(auth)
}

invalid if {
	some auth in _authorizations
	is_object(auth)
	_bad_elements_present(auth)
}

_elements_message := "a list of element ids is required"

_bad_elements_present(auth) if {
	"elements_present" in object.keys(auth)
	not _strings(auth.elements_present)
}
