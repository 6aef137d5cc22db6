import pytest

from calc import Calculator


@pytest.fixture
def calc():
    return Calculator()
