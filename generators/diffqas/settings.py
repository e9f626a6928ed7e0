"""Settings dataclasses from plain mappings (run configs, ``--set`` overrides), with unknown keys reported."""

from __future__ import annotations

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
