# METADATA
# title: C7 — genetic information for underwriting
# description: |
#   A health plan may not use or disclose genetic information for underwriting (45 CFR
#   164.502(a)(5)(i); GINA). No authorization overrides it.
package hipaa.genetic

import data.hipaa.lib
import data.hipaa.request

# METADATA
# title: C7 Genetic information for underwriting
# description: Genetic information requested in an underwriting context.
# custom:
#   rule: C7
#   code: GENETIC_UNDERWRITING_PROHIBITED
#   citation: 45 CFR 164.502(a)(5)(i); Genetic Information Nondiscrimination Act of 2008
#   message: >-
#     Genetic information may not be used or disclosed for underwriting; no authorization changes
#     this (request without the genetic category).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	"genetic" in input.data.categories
	request.context("underwriting")
}
