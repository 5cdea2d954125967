package hipaa.lib

# The identifier syntax (request.schema.json `$defs.identifier`, the same string; docs/api.md):
# 1 to 128 ASCII letters, digits and . _ : @ / - — no whitespace, control or non-ASCII
# characters, so an id cannot be disguised as another one. RE2's `$` is the end of the text.
identifier_pattern := `^[A-Za-z0-9._:@/-]{1,128}$`

# A string in the identifier syntax.
identifier(value) if {
	is_string(value)
	regex.match(identifier_pattern, value)
}

# The key an identifier is compared by, wherever ids are matched or a list is keyed by them:
# identifiers are case-insensitive (ASCII case folded).
id_key(id) := lower(id)

# `registry` (an object keyed by identifiers) keyed by `id_key`.
keyed_by_id(registry) := {id_key(id): entry | some id, entry in registry}
