# METADATA
# title: Authorization form items
# description: |
#   Which items of data.config.authorization_forms (and which state redisclosure statements of
#   data.config.state_laws) apply to a document, in form order. Read by the requirements document
#   (hipaa.authorization_forms) and by the `elements_present` check (hipaa.authorizations); it
#   imports no other policy package, so neither depends on the other through it.
package hipaa.authorization_forms.items

# METADATA
# title: applicable
# description: |
#   The requirements for these states (list), categories (list), purpose, recipient type and
#   document type, in form order: federal items, each state's items and redisclosure statements
#   (states in alphabetical order), each with `source` ("federal" or the state code). A federal
#   item whose wording is kept in the policy has `text_ref` (hipaa.authorization_forms fills it in).
applicable(states, categories, purpose, recipient_type, type) := array.concat(
	[_federal(item) |
		some item in data.config.authorization_forms.federal
		_applies(item, categories, purpose, recipient_type, type)
	],
	[item |
		some state in sort(states)
		some item in state_items(state, with_parents(categories), purpose, recipient_type, type)
	],
)

# METADATA
# title: with_parents
# description: The requested categories and the broader categories whose state rules cover them.
with_parents(categories) := {c | some c in categories} | {parent |
	some c in categories
	some parent in object.get(data.config.authorization_forms.category_parents, c, [])
}

_federal(item) := object.union(object.remove(item, ["applies", "sources", "notes"]), {"source": "federal"})

# METADATA
# title: state_items
# description: A state's items and redisclosure statements for a request, with `source` the state.
state_items(state, categories, purpose, recipient_type, type) := array.concat(
	[object.union(object.remove(item, ["applies", "sources", "notes"]), {"source": state}) |
		some item in object.get(data.config.authorization_forms.states, state, [])
		_applies(item, categories, purpose, recipient_type, type)
	],
	_state_notices(state, categories),
)

# The state law matrix's redisclosure statement for each requested category that has one.
_state_notices(state, categories) := [{
	"id": sprintf("%s_%s_REDISCLOSURE_NOTICE", [state, upper(category)]),
	"kind": "notice",
	"label": "Redisclosure statement that must accompany each disclosure",
	"text": entry.redisclosure_notice,
	"citation": entry.citation,
	"confidence": entry.confidence,
	"source": state,
} |
	some category in sort(categories)
	entry := data.config.state_laws[state].categories[category]
	is_string(entry.redisclosure_notice)
]

# Every list in `applies` holds the request's value (categories: any requested one).
_applies(item, categories, purpose, recipient_type, type) if {
	applies := object.get(item, "applies", {})
	type in object.get(applies, "document_types", [type])
	purpose in object.get(applies, "purposes", [purpose])
	recipient_type in object.get(applies, "recipient_types", [recipient_type])
	_category_applies(applies, categories)
}

_category_applies(applies, _) if not applies.categories

_category_applies(applies, categories) if {
	some category in categories
	category in applies.categories
}

# METADATA
# title: required_ids
# description: |
#   The ids an authorization of `type` must list in `elements_present`: the elements, statements
#   and format requirements that apply (not the notices, which go with each disclosure, nor the
#   items required only in a stated case).
required_ids(states, categories, purpose, recipient_type, type) := {item.id |
	some item in applicable(states, categories, purpose, recipient_type, type)
	item.kind != "notice"
	not item.condition
}
