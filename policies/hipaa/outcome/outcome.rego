# METADATA
# title: The disclosure decision, assembled
# description: |
#   Combines every rule family of docs/rules.md into the decision object served as
#   data.hipaa.decision (policies/hipaa/decision.rego). Deny overrides: allowed only when at
#   least one basis applies and no reason does. Malformed input is denied with INVALID_INPUT
#   alone. On a deny there are no obligations and nothing may be shared (permitted_elements
#   is empty).
package hipaa.outcome

import data.hipaa.accounting
import data.hipaa.authorizations
import data.hipaa.break_glass
import data.hipaa.bulk
import data.hipaa.business_associates
import data.hipaa.data_sets
import data.hipaa.genetic
import data.hipaa.minimum_necessary
import data.hipaa.part2
import data.hipaa.permissions
import data.hipaa.psychotherapy_notes
import data.hipaa.request
import data.hipaa.restrictions
import data.hipaa.safeguards
import data.hipaa.state
import data.hipaa.validation

# METADATA
# title: Decision
# description: |
#   The decision object of docs/api.md (decision response) (the shim adds decision_id, request_id, evaluated_at).
#   One body per outcome, so that `allow` is decided once and what only an allowed disclosure
#   carries (obligations, the elements it may share, accounting) is built only for one.
decision := _invalid_decision if validation.invalid

else := _allowed_decision if {
	input.context.break_glass == false # the common case: no break-glass rule is evaluated
	allow
}

else := object.union(_allowed_decision, break_glass.flag) if allow

else := _denied_decision

_allowed_decision := {
	"allow": true,
	"basis": sort(_bases),
	"reasons": sort(_reasons),
	"requirements": _requirements,
	"obligations": sort(_obligations),
	"minimum_necessary": minimum_necessary.evaluate(permission_codes),
	"jurisdictions": sort(state.jurisdictions),
	"accountable": _accountable,
	"policy_revision": policy_revision,
}

# A deny has no obligations and nothing may be shared (permitted_elements is empty).
_denied_decision := {
	"allow": false,
	"basis": sort(_bases),
	"reasons": sort(_reasons),
	"requirements": _requirements,
	"obligations": [],
	"minimum_necessary": {
		"applies": minimum_necessary.applies(permission_codes),
		"permitted_elements": [],
		"withheld_elements": sort(request.elements),
	},
	"jurisdictions": sort(state.jurisdictions),
	"accountable": false,
	"policy_revision": policy_revision,
}

_invalid_decision := {
	"allow": false,
	"basis": [],
	"reasons": sort(validation.reasons),
	"requirements": [],
	"obligations": [],
	"minimum_necessary": {"applies": true, "permitted_elements": [], "withheld_elements": []},
	"jurisdictions": [],
	"accountable": false,
	"policy_revision": policy_revision,
}

# Permissions (P rules): the HIPAA bases. Gate permits (C1-C3) add bases but never stand alone.
permission_permits := (permissions.permit | business_associates.permit) | data_sets.permit

_permits := (permission_permits | psychotherapy_notes.permit) | part2.permit

# Denials of the permission rules themselves (they explain why no basis applies).
permission_denies := (permissions.deny | business_associates.deny) | data_sets.deny

_gate_denies := (((psychotherapy_notes.deny | part2.deny) | restrictions.deny) | bulk.deny) | genetic.deny

# An honoured break-glass sets aside S2 and C6 (hipaa.break_glass). The union is written twice
# rather than kept in a rule, which would cost every decision a rule evaluation.
_denies := ((permission_denies | safeguards.deny) | _gate_denies) | final_denies if input.context.break_glass == false

else := (((permission_denies | safeguards.deny) | _gate_denies) | final_denies) - break_glass.overridden

# Rule A: an accountable disclosure must name its recipient (164.528(b)(2)(ii)); a name of white
# space alone names no one. Bodies of the outcome's own deny set (no_basis.rego), so that no extra
# rule is evaluated per decision; the name is looked at first (`==` on input is indexed; the
# trimmed name costs less than asking whether the disclosure is accountable).
final_denies contains accounting.recipient_name_required if {
	input.recipient.name == null
	_accountable
}

final_denies contains accounting.recipient_name_required if {
	trim_space(input.recipient.name) == ""
	_accountable
}

# Basis codes of the P rules (for minimum necessary); accounting takes those of every basis.
permission_codes contains p.basis.code if some p in permission_permits

# The state overlay adds no bases (state.bases is empty), so it is not read per decision.
_bases contains p.basis if some p in _permits

# Without break-glass and with no authorization on file, BG2/BG3 and P17's incomplete
# authorizations are empty: those rules are evaluated only otherwise (and the first body writes
# out _own_reasons, a rule evaluation fewer).
_reasons := {d.reason | some d in _denies} | state.reasons if {
	input.context.break_glass == false
	input.authorizations == []
}

else := (_own_reasons | break_glass.explain(_own_reasons)) | authorizations.incomplete_reasons(_own_reasons)

_own_reasons := {d.reason | some d in _denies} | state.reasons

_requirements := sort({d.requirement | some d in _denies; d.requirement} | state.requirements)

# METADATA
# title: Allowed
# scope: document
# description: At least one basis and no deny reason (deny overrides).
default allow := false

allow if {
	count(_bases) > 0
	count(_reasons) == 0
}

_obligations contains obligation if {
	some p in _permits
	some obligation in p.obligations
}

# Part 2 notices come only with SUD records or SUD counseling notes (hipaa.part2).
_obligations contains obligation if {
	"substance_use_disorder" in input.data.categories
	some obligation in part2.obligations
}

_obligations contains obligation if {
	"sud_counseling_notes" in input.data.categories
	some obligation in part2.obligations
}

_obligations contains obligation if some obligation in state.obligations

_obligations contains obligation if {
	input.context.break_glass == true
	some obligation in break_glass.obligations
}

_obligations contains minimum_necessary.obligation(permission_codes) if minimum_necessary.applies(permission_codes)

_obligations contains accounting.obligation if _accountable

# The disclosure belongs in an accounting of disclosures (rule A), if it is allowed.
default _accountable := false

_accountable if accounting.accountable({b.code | some b in _bases})

# The bundle revision (opa build --revision); "unbundled" under opa test or without a bundle.
default policy_revision := "unbundled"

# The service loads exactly one bundle (two with different revisions would be a conflict, an
# evaluation error the shim answers with 503); no array is built per decision.
policy_revision := revision if {
	some bundle in data.system.bundles
	revision := bundle.manifest.revision
}
