"""Issue 10, defect 6: library-query parameters are checked against their documented types."""

from __future__ import annotations

import pytest

from sparsetopo.cli.common import parse_pairs
from sparsetopo.errors import InputError
from sparsetopo.queries.library import check_param_values, get_query


def parse_params(pairs: list[str]) -> dict:
    return parse_pairs(pairs, "--param")


def _check(*pairs: str) -> dict:
    return get_query("edges_alive").check(parse_params(["run=r", "layer=W_rec", *pairs]))


def test_valid_parameters_pass_through():
    assert _check("step=200") == {"run": "r", "layer": "W_rec", "step": 200}
    assert _check("step=200.0")["step"] == 200  # an integral float is an integer
    assert get_query("edges_alive").check(
        {"run": "5", "layer": "5", "step": 1})["layer"] == "5"  # quoted names stay text


@pytest.mark.parametrize("pair,message", [
    ("step=abc", "parameter step must be an integer, got text"),
    ("step=1.5", "parameter step must be an integer, got a decimal number"),
    ("step=null", "parameter step is null"),
    ("step=true", "got a boolean"),
    ("step=99999999999999999999", "64-bit"),
    ("step=-99999999999999999999", "64-bit"),
])
def test_bad_step(pair, message):
    with pytest.raises(InputError, match=message):
        _check(pair)


def test_name_given_as_number_says_how_to_quote():
    with pytest.raises(InputError, match="quote it: layer='5'"):
        get_query("edges_alive").check(parse_params(["run=r", "layer=5", "step=1"]))


def test_nested_integers_are_range_checked():
    check_param_values({"ids": [1, 2**63 - 1], "m": {"a": -(2**63)}})
    with pytest.raises(InputError, match="parameter ids"):
        check_param_values({"ids": [1, 2**63]})
