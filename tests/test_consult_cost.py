"""What makes a consult cheaper changes nothing it decides (docs/interop.md §3, §7): a Consent is
skipped by the FHIR models only when its JSON bytes are those of one that passed (any change is
validated afresh), and the translation leaves the hook request as it was sent."""

from __future__ import annotations

import copy

import pytest

from service.interop import consents
from service.interop.consents import VALIDATED, ConsentProblem, parse
from service.interop.translate import translate
from service.interop.vocabulary import load_vocabulary
from service.paths import policy_dir
from tests.interop_fixtures import CONSULT, PATIENT, consult, extension, part2_consent


@pytest.fixture
def vocab():
    return load_vocabulary(policy_dir())


@pytest.fixture(autouse=True)
def empty_cache():
    VALIDATED.clear()
    yield
    VALIDATED.clear()


def validations(monkeypatch) -> list[str]:
    """The ids of the resources the models validate from now on."""
    seen: list[str] = []
    for model in (consents.ConsentR4, consents.ConsentR5):
        original = model.model_validate

        def counting(resource, *args, _original=original, **kwargs):
            seen.append(resource.get("id"))
            return _original(resource, *args, **kwargs)

        monkeypatch.setattr(model, "model_validate", counting)
    return seen


def test_a_consent_that_passed_is_not_validated_again(vocab, monkeypatch):
    seen = validations(monkeypatch)
    first = parse(part2_consent(), "/context/consent/0", vocab)
    again = parse(part2_consent(), "/context/consent/3", vocab)
    assert seen == ["c-test-part2"]
    assert (again.ref, again.status, again.permits[0]["scope"]["purpose"]) == (
        first.ref,
        first.status,
        first.permits[0]["scope"]["purpose"],
    )
    assert again.path == "/context/consent/3"  # what is read off it is read afresh


def test_a_changed_consent_with_the_same_id_is_validated_again(vocab, monkeypatch):
    seen = validations(monkeypatch)
    parse(part2_consent(), "/context/consent/0", vocab)
    with pytest.raises(ConsentProblem) as problem:
        parse(part2_consent(dateTime="last tuesday"), "/context/consent/0", vocab)
    assert [d["path"] for d in problem.value.details] == ["/context/consent/0/dateTime"]
    assert seen == ["c-test-part2", "c-test-part2"]


def test_a_consent_that_failed_is_validated_every_time(vocab, monkeypatch):
    seen = validations(monkeypatch)
    bad = part2_consent(dateTime="last tuesday")
    for _ in range(2):
        with pytest.raises(ConsentProblem):
            parse(bad, "/context/consent/0", vocab)
    assert seen == ["c-test-part2", "c-test-part2"]


def test_the_cache_keeps_only_the_most_recent_consents(vocab, monkeypatch):
    monkeypatch.setattr(VALIDATED, "size", 2)
    seen = validations(monkeypatch)
    for cid in ("c-test-1", "c-test-2", "c-test-1", "c-test-3", "c-test-2", "c-test-1"):
        parse(part2_consent(cid), "/context/consent/0", vocab)
    # c-test-1 was used again before c-test-3 arrived, so c-test-2 was the one dropped.
    assert seen == ["c-test-1", "c-test-2", "c-test-3", "c-test-2", "c-test-1"]


@pytest.mark.integration
def test_a_consult_with_a_changed_consent_is_refused_after_the_valid_one(client):
    assert client.post(CONSULT, json=consult([part2_consent()])).status_code == 200
    answer = client.post(CONSULT, json=consult([part2_consent(dateTime="last tuesday")]))
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert [d["path"] for d in error["details"]] == ["/context/consent/0/dateTime"]
    assert client.post(CONSULT, json=consult([part2_consent()])).status_code == 200


def test_translation_leaves_the_hook_request_unchanged(vocab):
    hook = consult([part2_consent()], purpose=["TREAT", "HPAYMT"], facts=extension())
    assert "id" not in hook["extension"]["org.hipaa-gate.request"]["recipient"]  # from the actor
    sent = copy.deepcopy(hook)
    enums = {"recipient_type": ["provider", "health_plan"], "purpose": ["treatment", "payment"]}
    tr = translate(hook, vocab=vocab, today="2026-11-28", options={}, enums=enums)
    assert hook == sent
    assert [r["purpose"] for r in tr.requests] == ["treatment", "payment"]
    assert {r["recipient"]["id"] for r in tr.requests} == {"npi-0000000002"}
    assert {r["patient"]["id"] for r in tr.requests} == {PATIENT}
