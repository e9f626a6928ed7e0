"""Settings dataclasses from plain mappings (run configs, ``--set`` overrides), with unknown keys reported."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

import numpy as np

from qas.errors import ConfigError

T = TypeVar("T")

SEED_MAX = 2**32 - 1  # numpy's legacy seeding, which SB3 and Gymnasium use, takes seeds in [0, 2**32 - 1]


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


def is_finite_number(value: object) -> bool:
    """True for a finite int or float, NumPy's included, but not a bool (``True`` is an int to Python).

    The test an option needs before a range check: a string from a config file or ``--set`` would make the
    comparison a TypeError, and every range check is false for NaN, so a NaN would pass as "not out of range".
    """
    number = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    return number and bool(np.isfinite(value))  # type: ignore[arg-type]


def is_integer(value: object) -> bool:
    """True for an int, NumPy's included, but not a bool: a count, an index, a size."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def check_numbers(settings: object) -> None:
    """A :class:`ConfigError` naming the first ``int``, ``float`` or ``bool`` field of a settings dataclass (or one
    annotated ``... | None`` and not None) that holds something else (a string from a config file), or a float that is
    NaN or infinite.

    Called first in each settings class's ``__post_init__``: the range checks that follow would otherwise fail with
    a comparison traceback on a string, and are all false for NaN (a NaN learning rate reached the optimiser); a
    flag given as ``abc`` or ``[1, 2]`` would be truthy. Integer fields named ``seed`` or ``*_seed`` are also checked
    by :func:`check_seed`.
    """
    for f in fields(settings):  # type: ignore[arg-type]
        value = getattr(settings, f.name)
        # A string under ``from __future__ import annotations``, the class (or a union, ``float | None``) otherwise.
        annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        kinds = {part.strip() for part in annotation.split("|")}
        if value is None and "None" in kinds:
            continue
        kind = "".join(kinds - {"None"})
        if kind == "bool" and not isinstance(value, bool):
            raise ConfigError(f"{f.name} must be true or false, got {value!r}")
        if kind not in ("int", "float"):
            continue
        if isinstance(value, bool) or not isinstance(value, int if kind == "int" else (int, float)):
            raise ConfigError(f"{f.name} must be {'an integer' if kind == 'int' else 'a number'}, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{f.name} must be a finite number, got {value}")
        if kind == "int" and (f.name == "seed" or f.name.endswith("_seed")):
            check_seed(value, f.name)


def check_seed(value: object, name: str = "seed") -> None:
    """A :class:`ConfigError` unless ``value`` is None (unseeded) or an integer in [0, 2**32 - 1].

    A negative seed otherwise reached numpy deep inside SB3, Gymnasium or an A3C worker process: a traceback.
    """
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise ConfigError(f"{name} must be an integer in [0, 2**32 - 1], got {value!r}")


def check_counts(settings: object, names: Iterable[str]) -> None:
    """A :class:`ConfigError` naming the first of the ``names`` fields of a settings dataclass that is below 1."""
    for name in names:
        value = getattr(settings, name)
        if value < 1:
            raise ConfigError(f"{name} must be at least 1, got {value}")


def check_keywords(
    func: Callable[..., Any], given: Iterable[str], what: str, owner: str, *, supplied: Iterable[str] = ()
) -> None:
    """A :class:`ConfigError` naming the keywords in ``given`` that ``func`` does not take, with those it does.

    ``supplied`` are parameters the caller fills itself (left out of the list). A ``func`` with ``**kwargs`` takes
    any keyword, so there is nothing to check. Calling ``func`` with an unknown keyword would instead raise a
    TypeError from wherever it is called (inside ``gym.make``, a compile plugin), a traceback at the CLI.
    """
    params = inspect.signature(func).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    keyword_kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    known = sorted({p.name for p in params if p.kind in keyword_kinds} - set(supplied))
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigError(f"unknown {what} {unknown} for {owner}; known: {known}")
