package hipaa.lib

# Each helper reads the calling rule's METADATA `custom` block once and builds its item in one
# function body: a user function call costs about as much as the object it builds, so the
# helpers do not call each other.

# METADATA
# title: deny
# description: |
#   A deny item {"reason": {code, citation, message, rule, ...}, "requirement": {code, message, rule}}
#   from the calling rule's METADATA. The requirement comes from `custom.requirement`
#   ({code, message}) and is absent when the rule names none.
deny(chain, extra) := {
	"reason": object.union(
		{"code": custom.code, "citation": custom.citation, "message": custom.message, "rule": custom.rule},
		extra,
	),
	"requirement": {"code": custom.requirement.code, "message": custom.requirement.message, "rule": custom.rule},
} if {
	custom := chain[0].annotations.custom
	custom.requirement
} else := {"reason": object.union(
	{"code": custom.code, "citation": custom.citation, "message": custom.message, "rule": custom.rule},
	extra,
)} if {
	custom := chain[0].annotations.custom
}

# METADATA
# title: permit
# description: |
#   A permit item {"basis": {code, citation, summary, rule}, "obligations": {...}} from the calling
#   rule's METADATA. Obligations come from `custom.obligations` (a list of {code, message}); each
#   carries the rule id and citation plus the code-specific fields of `obligation_fields`.
permit(chain, extra) := {
	"basis": object.union(
		{"code": custom.code, "citation": custom.citation, "summary": custom.summary, "rule": custom.rule},
		extra,
	),
	"obligations": {object.union(
		{"code": spec.code, "message": spec.message, "rule": custom.rule, "citation": custom.citation},
		_obligation_fields(spec.code),
	) |
		some spec in custom.obligations
	},
} if {
	custom := chain[0].annotations.custom
	custom.obligations
} else := {
	"basis": object.union(
		{"code": custom.code, "citation": custom.citation, "summary": custom.summary, "rule": custom.rule},
		extra,
	),
	"obligations": set(),
} if {
	custom := chain[0].annotations.custom
}

# Code-specific fields an obligation carries, from the request (a function of the code, so that
# only the fields of the obligations a decision carries are read).
_obligation_fields("DOCUMENT_RATIONALE") := {"rationale": object.get(input, ["context", "rationale"], null)}

_obligation_fields("DATA_USE_AGREEMENT_TERMS") := {
	"data_use_agreement_id": object.get(input, ["context", "data_use_agreement_id"], null),
}

_obligation_fields(code) := {} if not code in {"DOCUMENT_RATIONALE", "DATA_USE_AGREEMENT_TERMS"}
