"""service.jsonio: orjson where it can, the standard library where orjson refuses a value."""

from __future__ import annotations

import json

from service import jsonio


def test_plain_values_are_compact_utf8_in_insertion_order():
    value = {"b": 1, "a": [True, None, 1.5, "é"], "c": {"z": "x", "y": 2**63 - 1}}
    out = jsonio.dumps(value)
    assert out == '{"b":1,"a":[true,null,1.5,"é"],"c":{"z":"x","y":9223372036854775807}}'.encode()
    assert jsonio.loads(out) == value


def test_values_orjson_refuses_fall_back_to_the_standard_library():
    big = {"n": 2**70}
    assert jsonio.dumps(big) == b'{"n":1180591620717411303424}'
    assert json.loads(jsonio.dumps(big)) == big
    lone = {"s": "u-\ud800"}
    assert jsonio.dumps(lone) == b'{"s":"u-\\ud800"}'
    assert json.loads(jsonio.dumps(lone)) == lone


def test_structlog_keyword_arguments_are_accepted():
    assert jsonio.dumps({"a": 1}, default=str) == b'{"a":1}'


def test_flask_responses_use_the_provider(app):
    with app.app_context():
        assert app.json.dumps({"b": 1, "a": 2}) == '{"b":1,"a":2}'
        fallback = app.json.response({"s": "u-\udfff"}).get_data()
        assert fallback == b'{"s":"u-\\udfff"}\n'
        assert app.json.response({"b": 1}).get_data() == b'{"b":1}\n'
