# Input validation of the break-glass fields (hipaa.break_glass; privacy-office procedure §2):
# `context.break_glass` is a boolean (the fast path checks it with the other booleans), and when
# true `context.rationale` must be a non-blank string. The rationale is checked on every input
# (not only off the fast path), so a break-glass request without one is invalid whatever else it
# carries.
package hipaa.validation

problems contains _problem("/context/break_glass", "a boolean is required") if _break_glass_not_boolean

problems contains _problem("/context/rationale", _rationale_message) if _break_glass_without_rationale

_rationale_message := "a non-blank rationale is required when context.break_glass is true"

# Indexed: a request without break-glass does not evaluate this body.
invalid if {
	input.context.break_glass == true
	not _blank_free(object.get(input, ["context", "rationale"], null))
}

_break_glass_not_boolean if not is_boolean(object.get(input, ["context", "break_glass"], false))

_break_glass_without_rationale if {
	input.context.break_glass == true
	not _blank_free(object.get(input, ["context", "rationale"], null))
}

_blank_free(text) if {
	is_string(text)
	trim_space(text) != ""
}
