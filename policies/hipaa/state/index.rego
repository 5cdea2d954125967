package hipaa.state

# METADATA
# title: laws
# description: >-
#   The states the state law matrix holds, each with its name, the date it was last
#   reviewed and the categories it has rules for, sorted by USPS code, for
#   `GET /v1/state-laws`. A state not listed has no overlay: HIPAA alone applies there.
laws := [summary |
	some code in sort(object.keys(data.config.state_laws))
	entry := data.config.state_laws[code]
	summary := {
		"state": code,
		"name": entry.name,
		"last_reviewed": entry.last_reviewed,
		"categories": sort(object.keys(entry.categories)),
	}
]
