# METADATA
# title: BG — break-glass, the emergency access procedure
# description: |
#   45 CFR 164.312(a)(2)(ii) requires procedures for obtaining ePHI in an emergency. A request
#   may declare `context.break_glass: true` with a `context.rationale` (without one the input is
#   invalid: hipaa.validation). It is honoured only for `treatment` and `medical_emergency`, and
#   it overrides only the organization's own access controls: S2 (role catalog) and C6 (bulk
#   approval). It never overrides S1, S3, S4 or any legal rule. When it overrode something and
#   the disclosure is allowed, the decision carries `break_glass: true` and the obligations of
#   BG1; a break-glass request that needed no override is decided as without it. A break-glass
#   request that is denied anyway says why break-glass did not help (BG2, BG3).
package hipaa.break_glass

import data.hipaa.bulk
import data.hipaa.lib
import data.hipaa.safeguards

# The purposes break-glass is honoured for.
eligible_purposes := {"treatment", "medical_emergency"}

# The rules break-glass may override: the organization's own access controls, never the law.
overridable_rules := {"S2", "C6"}

# The request declares break-glass (only the boolean true counts).
requested if input.context.break_glass == true

# A rationale that is not blank (validation refuses break-glass without one).
has_rationale if {
	is_string(input.context.rationale)
	trim_space(input.context.rationale) != ""
}

# METADATA
# title: honoured
# description: Break-glass is declared with a rationale for an eligible purpose.
honoured if {
	requested
	has_rationale
	input.purpose in eligible_purposes
}

# METADATA
# title: overridden
# description: The deny items of S2 and C6 that an honoured break-glass sets aside.
overridden contains item if {
	honoured
	some item in (safeguards.deny | bulk.deny)
	item.reason.rule in overridable_rules
}

# METADATA
# title: applied
# description: Break-glass set aside at least one deny (the decision, if allowed, is flagged).
applied if count(overridden) > 0

# METADATA
# title: BG1 Break-glass override
# description: |
#   An honoured break-glass overrode S2 or C6: the disclosure must be documented, reported to
#   the privacy officer and reviewed after the event (the basis stays the legal one).
# custom:
#   rule: BG1
#   code: BREAK_GLASS
#   citation: 45 CFR 164.312(a)(2)(ii), 164.308(a)(1)(ii)(D)
#   summary: Emergency access procedure (break-glass) overrode the organization's access controls.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record what was shared, with whom and why (the break-glass rationale).
#     - code: NOTIFY_PRIVACY_OFFICER
#       message: Notify the privacy officer promptly after the emergency access.
#     - code: POST_EVENT_REVIEW
#       message: Review the emergency access after the event and record the outcome.
override := lib.permit(rego.metadata.chain(), {})

# The obligations of BG1 when break-glass overrode something (none otherwise).
default obligations := set()

obligations := override.obligations if applied

# The field an allowed decision gets when break-glass overrode something.
default flag := {}

flag := {"break_glass": true} if applied

# METADATA
# title: explain
# description: |
#   The reasons a denied break-glass request adds to `reasons` (the deny reasons without them):
#   why break-glass did not lead to an allow. Empty when nothing else denies.
explain(reasons) := set() if count(reasons) == 0

else := not_honoured | cannot_override

# METADATA
# title: BG2 Break-glass not honoured for this purpose
# description: Break-glass was declared for a purpose other than treatment or medical_emergency.
# custom:
#   rule: BG2
#   code: BREAK_GLASS_NOT_HONOURED
#   citation: 45 CFR 164.312(a)(2)(ii)
#   message: Break-glass is honoured only for treatment and medical_emergency; it did not override anything.
not_honoured contains lib.result(rego.metadata.chain(), {"purpose": input.purpose}) if {
	requested
	not input.purpose in eligible_purposes
}

# METADATA
# title: BG3 Break-glass cannot override these rules
# description: |
#   An honoured break-glass request is still denied by rules it may not override (S1, S3, S4 or
#   a legal rule). Listed with every denied break-glass request it was honoured for.
# custom:
#   rule: BG3
#   code: BREAK_GLASS_CANNOT_OVERRIDE
#   citation: 45 CFR 164.312(a)(2)(ii)
#   message: >-
#     Break-glass overrides only the role catalog (S2) and bulk approval (C6), never MFA (S1),
#     revoked access (S3), recipient verification (S4) or a legal rule; the other reasons still deny.
cannot_override contains lib.result(rego.metadata.chain(), {}) if honoured
