"""Settings dataclasses from plain mappings: unknown keys, wrong types and non-finite numbers are named errors."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from qas.errors import ConfigError
from qas.settings import check_numbers, from_mapping, is_finite_number, is_integer


@dataclasses.dataclass(frozen=True)
class Settings:
    steps: int = 10
    lr: float = 0.1
    name: str = "x"
    seed: int = 0
    eval_seed: int = 100
    flag: bool = True
    scale: float | None = None

    def __post_init__(self) -> None:
        check_numbers(self)


# The same fields with class annotations (no ``from __future__ import annotations``): check_numbers reads both forms.
PlainSettings = dataclasses.make_dataclass(
    "PlainSettings",
    [
        ("steps", int, dataclasses.field(default=10)),
        ("lr", float, dataclasses.field(default=0.1)),
        ("flag", bool, dataclasses.field(default=True)),
        ("scale", float | None, dataclasses.field(default=None)),
    ],
    namespace={"__post_init__": check_numbers},
)


@pytest.mark.parametrize("cls", [Settings, PlainSettings])
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"steps": "ten"}, "steps must be an integer, got 'ten'"),
        ({"steps": 2.5}, "steps must be an integer, got 2.5"),
        ({"steps": True}, "steps must be an integer, got True"),
        ({"lr": "abc"}, "lr must be a number, got 'abc'"),
        ({"lr": math.inf}, "lr must be a finite number, got inf"),
        ({"lr": math.nan}, "lr must be a finite number, got nan"),
        ({"flag": "abc"}, "flag must be true or false, got 'abc'"),  # was truthy
        ({"flag": 0}, "flag must be true or false, got 0"),
        ({"scale": True}, "scale must be a number, got True"),  # optional fields were not checked
        ({"scale": math.inf}, "scale must be a finite number, got inf"),
    ],
)
def test_wrong_types_and_non_finite_numbers_are_named(cls: type, data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        from_mapping(cls, data, "test")
    assert str(raised.value) == message


def test_good_values_pass_and_unknown_keys_are_listed() -> None:
    assert from_mapping(Settings, {"steps": 3, "lr": 1}, "test") == Settings(steps=3, lr=1)  # an int is a float
    assert from_mapping(PlainSettings, {"flag": False, "scale": 0.5}, "test").scale == 0.5
    assert from_mapping(PlainSettings, {"scale": None}, "test").scale is None
    with pytest.raises(ConfigError) as raised:
        from_mapping(Settings, {"step": 3}, "test")
    known = "['eval_seed', 'flag', 'lr', 'name', 'scale', 'seed', 'steps']"
    assert str(raised.value) == f"unknown test setting(s) ['step']; known: {known}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"seed": -1}, "seed must be an integer in [0, 2**32 - 1], got -1"),
        ({"eval_seed": 2**32}, "eval_seed must be an integer in [0, 2**32 - 1], got 4294967296"),
    ],
)
def test_seed_fields_must_be_seeds_numpy_takes(data: dict, message: str) -> None:
    # Negative seeds reached numpy inside SB3, Gymnasium or an A3C worker as a traceback.
    with pytest.raises(ConfigError) as raised:
        from_mapping(Settings, data, "test")
    assert str(raised.value) == message
    assert from_mapping(Settings, {"seed": 2**32 - 1}, "test").seed == 2**32 - 1


@pytest.mark.parametrize("value", [0, -3, 2.5, np.float32(0.1), np.int64(7), np.float64(1e300)])
def test_finite_numbers_numpy_included(value: object) -> None:
    assert is_finite_number(value)


@pytest.mark.parametrize("value", [True, False, "0.1", None, math.nan, -math.inf, np.float32("nan"), 1j, [1]])
def test_bools_text_and_non_finite_values_are_not_numbers(value: object) -> None:
    assert not is_finite_number(value)


def test_integers_numpy_included_but_not_bools_or_floats() -> None:
    assert is_integer(3) and is_integer(np.int64(-2))
    assert not any(is_integer(v) for v in (True, 2.0, np.float32(1), "3", None))
