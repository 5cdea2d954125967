"""CDS Hooks client JWTs (static JWKS), ``hipaa-gate consents impact`` and the FHIR R4
AuditEvent rendering of decision records (docs/interop.md §1, §6)."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fhir.resources.R4B.auditevent import AuditEvent

from service.cli import main as cli
from service.config import ConfigError
from service.interop.audit import audit_event, impact
from tests.conftest import read_log
from tests.interop_fixtures import CONSULT, consult, part2_consent

AUDIENCE = "https://hipaa-gate.example.test/cds-services"
ISSUER = "https://ehr.example.test"


@pytest.fixture
def signing_key(tmp_path):
    key = ec.generate_private_key(ec.SECP384R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": "test-key-1", "alg": "ES384", "use": "sig"})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [public]}))
    return key, jwks


def token(key, **claims) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    body.update(claims)
    return jwt.encode(body, key, algorithm="ES384", headers={"kid": "test-key-1"})


@pytest.mark.integration
def test_client_jwt_is_verified_against_the_static_jwks(app_factory, signing_key):
    key, jwks = signing_key
    client = app_factory(
        CDS_JWKS_FILE=str(jwks), CDS_JWT_ISSUERS=ISSUER, CDS_JWT_AUDIENCE=AUDIENCE
    ).test_client()
    body = consult([part2_consent()])

    def status(auth: str | None) -> int:
        headers = {"Authorization": auth} if auth else {}
        return client.post(CONSULT, json=body, headers=headers).status_code

    assert status(f"Bearer {token(key)}") == 200
    assert status(None) == 401
    assert status(f"Bearer {token(key, aud='https://other.example.test')}") == 401
    assert status(f"Bearer {token(key, iss='https://rogue.example.test')}") == 401
    assert status(f"Bearer {token(key, exp=int(time.time()) - 3600)}") == 401
    other = ec.generate_private_key(ec.SECP384R1())
    assert status(f"Bearer {token(other)}") == 401  # signed by a key not in the JWKS
    unsigned = jwt.encode({"iss": ISSUER, "aud": AUDIENCE}, None, algorithm="none")
    assert status(f"Bearer {unsigned}") == 401


def test_jwks_without_issuers_refuses_to_start(app_factory, signing_key):
    _, jwks = signing_key
    with pytest.raises(ConfigError, match="CDS_JWT_ISSUERS"):
        app_factory(CDS_JWKS_FILE=str(jwks))


@pytest.mark.integration
def test_consents_impact_lists_the_disclosures_under_a_consent(client, decision_log_path, capsys):
    assert client.post(CONSULT, json=consult([part2_consent()])).status_code == 200
    # A denied consult (another recipient) relies on the consent but discloses nothing.
    assert (
        client.post(CONSULT, json=consult([part2_consent()], actor="0000000009")).status_code == 200
    )
    records = read_log(decision_log_path)
    assert cli.main(["consents", "impact", "Consent/c-test-part2", str(decision_log_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["count"] == 1
    [made] = out["disclosures"]
    assert made["decision_id"] == records[0]["decision_id"]
    assert made["recipient"]["id"] == "npi-0000000002"
    assert made["source"] == "cds-hooks"
    assert impact("Consent/other", records)["count"] == 0
    assert cli.main(["consents", "impact", "not-a-ref", str(decision_log_path)]) == 2


@pytest.mark.integration
def test_decision_record_renders_as_a_valid_r4_audit_event(client, decision_log_path, capsys):
    assert client.post(CONSULT, json=consult([part2_consent()])).status_code == 200
    [record] = read_log(decision_log_path)
    event = audit_event(record)
    AuditEvent.model_validate(event)
    assert event["type"]["code"] == "rest"
    assert event["subtype"][0]["code"] == "disclose"
    assert event["outcome"] == "0"
    assert event["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"
    assert event["agent"][0]["who"]["identifier"]["value"] == "u-test-17"
    assert event["agent"][0]["requestor"] is True
    patient = event["entity"][0]
    assert patient["what"]["identifier"]["value"] == record["patient_ref"]
    assert "p-test-0001" not in json.dumps(event)  # no raw patient id unless supplied
    assert {"reference": "Consent/c-test-part2"} in [e["what"] for e in event["entity"]]
    supplied = audit_event(record, patient_id="p-test-0001")
    assert supplied["entity"][0]["what"] == {"reference": "Patient/p-test-0001"}
    args = ["consents", "audit-event", record["decision_id"], str(decision_log_path)]
    assert cli.main(args) == 0
    assert json.loads(capsys.readouterr().out)["id"] == record["decision_id"]
    assert cli.main(["consents", "audit-event", str(uuid.uuid4()), str(decision_log_path)]) == 1


@pytest.mark.integration
def test_denied_decision_renders_outcome_minor_failure(client, decision_log_path):
    client.post(CONSULT, json=consult([part2_consent()], actor="0000000009"))
    [record] = read_log(decision_log_path)
    event = audit_event(record)
    assert event["outcome"] == "4"
    assert event["outcomeDesc"].startswith("denied: ")
