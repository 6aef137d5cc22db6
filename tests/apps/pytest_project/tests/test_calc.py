import pytest

import calc.calculator
from calc import add, divide


def test_add():
    assert add(2, 3) == 5


@pytest.mark.parametrize("x, expected", [(1, 1.0), (2, 2.0)])
def test_plus(calc, x, expected):
    assert calc.plus(x) == expected


def test_divide_by_zero_fails():
    assert divide(1, 0) == 0  # fails: raises ZeroDivisionError


def test_wrong_answer(calc):
    calc.plus(2)
    assert calc.memory == 3, "two is not three"


@pytest.mark.skip(reason="not today")
def test_skipped():
    add(1, 1)


def test_block(calc, monkeypatch, skeleton_trace):
    monkeypatch.setattr(calc_module(), "RATE", 10.0)
    with skeleton_trace("scaled") as run:
        value = calc.scaled(2)
    assert value == 20.0
    result = run["result"]
    if result is not None:  # None under --skeleton: the whole test is already recorded
        assert result.snapshot_path.exists()


def calc_module():
    return calc.calculator
