package hipaa.lib

# METADATA
# title: deny
# description: |
#   A deny item {"reason": {code, citation, message, rule, ...}, "requirement": {code, message, rule}}
#   from the calling rule's METADATA. The requirement comes from `custom.requirement`
#   ({code, message}) and is absent when the rule names none.
deny(chain, extra) := {"reason": result(chain, extra), "requirement": _requirement(chain)} if {
	chain[0].annotations.custom.requirement
} else := {"reason": result(chain, extra)}

_requirement(chain) := {
	"code": chain[0].annotations.custom.requirement.code,
	"message": chain[0].annotations.custom.requirement.message,
	"rule": chain[0].annotations.custom.rule,
}

# METADATA
# title: permit
# description: |
#   A permit item {"basis": {code, citation, summary, rule}, "obligations": {...}} from the calling
#   rule's METADATA. Obligations come from `custom.obligations` (a list of {code, message}); each
#   carries the rule id and citation plus the code-specific fields of `obligation_fields`.
permit(chain, extra) := {
	"basis": basis(chain, extra),
	"obligations": {obligation(chain, o) | some o in object.get(chain[0].annotations.custom, "obligations", [])},
}

# METADATA
# title: obligation
# description: One obligation {code, message, rule, citation, ...fields} named in a rule's METADATA.
obligation(chain, spec) := object.union(
	{
		"code": spec.code,
		"message": spec.message,
		"rule": chain[0].annotations.custom.rule,
		"citation": chain[0].annotations.custom.citation,
	},
	object.get(obligation_fields, spec.code, {}),
)

# Code-specific fields an obligation carries, from the request.
obligation_fields := {
	"DOCUMENT_RATIONALE": {"rationale": object.get(input, ["context", "rationale"], null)},
	"DATA_USE_AGREEMENT_TERMS": {"data_use_agreement_id": object.get(input, ["context", "data_use_agreement_id"], null)},
}
