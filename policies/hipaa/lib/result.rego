# METADATA
# title: Result helpers
# description: |
#   One place that turns a rule's METADATA into the items of a decision, so a
#   code's rule id, citation and wording live only in that METADATA block.
#   A rule's `custom` block carries `rule` (the docs/rules.md id), `code`, `citation`
#   and `message` (or `summary` for a basis).
package hipaa.lib

# METADATA
# title: result
# description: |
#   {code, citation, message, rule} from the METADATA custom block of the rule
#   that calls it (pass rego.metadata.chain()), merged with rule-specific fields
#   (which may override, e.g. a state's own citation).
result(chain, extra) := object.union(
	{
		"code": custom.code,
		"citation": custom.citation,
		"message": custom.message,
		"rule": custom.rule,
	},
	extra,
) if {
	custom := chain[0].annotations.custom
}

# METADATA
# title: basis
# description: A basis item {code, citation, summary, rule} from the calling rule's METADATA.
basis(chain, extra) := object.union(
	{
		"code": custom.code,
		"citation": custom.citation,
		"summary": custom.summary,
		"rule": custom.rule,
	},
	extra,
) if {
	custom := chain[0].annotations.custom
}
