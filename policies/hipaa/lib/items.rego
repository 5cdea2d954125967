package hipaa.lib

# METADATA
# title: deny
# description: |
#   A deny item {"reason": {code, citation, message, rule, ...}, "requirement": {code, message, rule}}
#   from the calling rule's METADATA. The requirement comes from `custom.requirement`
#   ({code, message}) and is absent when the rule names none.
deny(chain, extra) := _deny(chain[0].annotations.custom, extra)

_deny(custom, extra) := {"reason": item(custom, extra), "requirement": _requirement(custom)} if {
	custom.requirement
} else := {"reason": item(custom, extra)}

_requirement(custom) := {
	"code": custom.requirement.code,
	"message": custom.requirement.message,
	"rule": custom.rule,
}

# METADATA
# title: permit
# description: |
#   A permit item {"basis": {code, citation, summary, rule}, "obligations": {...}} from the calling
#   rule's METADATA. Obligations come from `custom.obligations` (a list of {code, message}); each
#   carries the rule id and citation plus the code-specific fields of `obligation_fields`.
permit(chain, extra) := _permit(chain[0].annotations.custom, extra)

_permit(custom, extra) := {
	"basis": object.union(
		{"code": custom.code, "citation": custom.citation, "summary": custom.summary, "rule": custom.rule},
		extra,
	),
	"obligations": {_obligation(custom, o) | some o in object.get(custom, "obligations", [])},
}

_obligation(custom, spec) := object.union(
	{"code": spec.code, "message": spec.message, "rule": custom.rule, "citation": custom.citation},
	object.get(obligation_fields, spec.code, {}),
)

# Code-specific fields an obligation carries, from the request.
obligation_fields := {
	"DOCUMENT_RATIONALE": {"rationale": object.get(input, ["context", "rationale"], null)},
	"DATA_USE_AGREEMENT_TERMS": {"data_use_agreement_id": object.get(input, ["context", "data_use_agreement_id"], null)},
}
