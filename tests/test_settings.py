"""Settings dataclasses from plain mappings: unknown keys, wrong types and non-finite numbers are named errors."""

from __future__ import annotations

import dataclasses
import math

import pytest

from qas.errors import ConfigError
from qas.settings import check_numbers, from_mapping


@dataclasses.dataclass(frozen=True)
class Settings:
    steps: int = 10
    lr: float = 0.1
    name: str = "x"

    def __post_init__(self) -> None:
        check_numbers(self)


# The same fields with class annotations (no ``from __future__ import annotations``): check_numbers reads both forms.
PlainSettings = dataclasses.make_dataclass(
    "PlainSettings",
    [("steps", int, dataclasses.field(default=10)), ("lr", float, dataclasses.field(default=0.1))],
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
    ],
)
def test_wrong_types_and_non_finite_numbers_are_named(cls: type, data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        from_mapping(cls, data, "test")
    assert str(raised.value) == message


def test_good_values_pass_and_unknown_keys_are_listed() -> None:
    assert from_mapping(Settings, {"steps": 3, "lr": 1}, "test") == Settings(steps=3, lr=1)  # an int is a float
    with pytest.raises(ConfigError) as raised:
        from_mapping(Settings, {"step": 3}, "test")
    assert str(raised.value) == "unknown test setting(s) ['step']; known: ['lr', 'name', 'steps']"
