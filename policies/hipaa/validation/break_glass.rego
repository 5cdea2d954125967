# Input validation of the break-glass fields (hipaa.break_glass; privacy-office procedure §2):
# `context.break_glass` is a boolean, and when true `context.rationale` must be a non-blank
# string. These problems are checked on every input (not only off the fast path), so a
# break-glass request without a rationale is invalid whatever else it carries.
package hipaa.validation

problems contains _problem("/context/break_glass", "a boolean is required") if _break_glass_not_boolean

problems contains _problem("/context/rationale", _rationale_message) if _break_glass_without_rationale

_rationale_message := "a non-blank rationale is required when context.break_glass is true"

invalid if _break_glass_not_boolean

invalid if _break_glass_without_rationale

_break_glass_not_boolean if not is_boolean(object.get(input, ["context", "break_glass"], false))

_break_glass_without_rationale if {
	input.context.break_glass == true
	not _blank_free(object.get(input, ["context", "rationale"], null))
}

_blank_free(text) if {
	is_string(text)
	trim_space(text) != ""
}
