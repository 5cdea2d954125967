package hipaa.lib_test

import data.hipaa.fixtures_test as fx
import data.hipaa.lib
import data.hipaa.validation

# Hostile forms of an id: whitespace, control characters, Unicode confusables, too long.
hostile_ids := [
	"u-102 ", " u-102", "u 102", "u-102\n", "u-102\r\n", "u-102\t", "u-102\u0000", "u-102\u007f",
	"u-102\u0085", "u-102\u00a0", "u-102\u200b", "\ufeffu-102", "u-102\u2028", "\u202eu-102",
	"u\u2010102", "u\u2011102", "u\u2212102", "\uff55-102", "u-10\u0032\u0301", "u-102\u00e9", "",
	"*", "u-102\"", "u-102\\", concat("", [x | some _ in numbers.range(1, 129); x := "a"]),
]

test_allow_identifier_syntax if {
	every id in ["u-102", "U-102", "npi-0000000001", "org.example:unit/7", "jane.doe@example.org"] {
		lib.identifier(id)
	}
}

test_deny_identifier_syntax if {
	every id in hostile_ids {
		not lib.identifier(id)
	}
}

test_deny_identifier_not_a_string if {
	not lib.identifier(7)
	not lib.identifier(null)
}

test_allow_id_key_folds_case if {
	lib.id_key("U-Revoked-1") == "u-revoked-1"
}

# Every identifier field: a hostile value is INVALID_INPUT naming that field.
identifier_fields := {
	"/request_id": ["request_id"],
	"/requester/user_id": ["requester", "user_id"],
	"/requester/organization_id": ["requester", "organization_id"],
	"/patient/id": ["patient", "id"],
	"/recipient/id": ["recipient", "id"],
	"/context/approval_id": ["context", "approval_id"],
	"/context/data_use_agreement_id": ["context", "data_use_agreement_id"],
	"/context/irb_waiver_id": ["context", "irb_waiver_id"],
}

_patched(ref, value) := json.patch(
	fx.base,
	[{"op": "add", "path": concat("/", ["", ref[0]]), "value": value}],
) if {
	count(ref) == 1
}

_patched(ref, value) := json.patch(fx.base, [
	{"op": "add", "path": concat("/", ["", ref[0]]), "value": object.get(fx.base, ref[0], {})},
	{"op": "add", "path": concat("/", ["", ref[0], ref[1]]), "value": value},
]) if {
	count(ref) == 2
}

test_deny_hostile_identifier_in_every_field if {
	every path, ref in identifier_fields {
		every id in ["u-102 ", "u-102\n", "u\u2010102", "u-102\u200b"] {
			d := data.hipaa.decision with input as _patched(ref, id)
			d.allow == false
			fx.codes(d) == {"INVALID_INPUT"}
			path in {x.path | some x in d.reasons[0].details}
		}
	}
}

test_deny_hostile_identifier_in_authorizations if {
	auth := {
		"id": "auth-1", "type": "hipaa_authorization", "signed": true, "recipients": ["npi-0000000001"],
		"recipient_types": [], "purposes": ["treatment"], "categories": ["general"],
	}
	every case in [
		{"auth": object.union(auth, {"id": "auth-1\n"}), "path": "/authorizations/0/id"},
		{"auth": object.union(auth, {"recipients": ["npi-0000000001 "]}), "path": "/authorizations/0/recipients"},
	] {
		problems := validation.problems with input as object.union(fx.base, {"authorizations": [case.auth]})
		case.path in {p.path | some p in problems}
	}
	wildcard := object.union(auth, {"recipients": ["*"]})
	count(validation.problems) == 0 with input as object.union(fx.base, {"authorizations": [wildcard]})
}

test_allow_empty_optional_identifier_reads_as_none if {
	count(validation.problems) == 0 with input as object.union(fx.base, {"context": {"irb_waiver_id": ""}})
}
