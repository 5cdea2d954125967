# METADATA
# title: State law overlay (C4) — placeholder seam
# description: |
#   Rule C4 of rules.md. This placeholder contributes nothing; the state-law issue
#   replaces it with the matrix-driven overlay. hipaa.decision reads exactly these
#   five documents from it.
package hipaa.state

reasons := set()

requirements := set()

obligations := set()

bases := set()

jurisdictions contains input.patient.state if is_string(input.patient.state)

jurisdictions contains input.requester.state if is_string(input.requester.state)
