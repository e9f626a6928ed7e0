"""Settings dataclasses from plain mappings (run configs, ``--set`` overrides), with unknown keys reported."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

from qas.errors import ConfigError

T = TypeVar("T")


def from_mapping(cls: type[T], data: Mapping[str, Any], what: str) -> T:
    """``cls(**data)``, but an unknown key or a bad value is a :class:`ConfigError` naming it, not silently dropped."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"unknown {what} setting(s) {unknown}; known: {sorted(names)}")
    try:
        return cls(**data)
    except TypeError as err:
        raise ConfigError(f"bad {what} settings: {err}") from None


def require_finite(settings: object) -> None:
    """A :class:`ConfigError` naming the first float field of a settings dataclass that is NaN or infinite.

    Called from each settings class's ``__post_init__``: range checks such as ``lr <= 0`` are all false for NaN,
    so without this a NaN learning rate reached the optimiser and failed there with a traceback.
    """
    for f in fields(settings):  # type: ignore[arg-type]
        value = getattr(settings, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{f.name} must be a finite number, got {value}")
