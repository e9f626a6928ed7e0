"""Reward schemes of the published set-ups, vectorised over a batch of episodes.

A scheme maps the task value after a step (fidelity, or energy) to a reward and a success flag. All take and return
arrays of shape (batch,), so the single env and the batched vector env share one implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qas.errors import ConfigError
from qas.settings import is_finite_number


class RewardScheme(Protocol):
    """reward, success = scheme(value, previous, at_limit)."""

    threshold: float

    def __call__(
        self, value: np.ndarray, previous: np.ndarray, at_limit: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class KuoReward:
    """Kuo et al. 2021 (qas-gym): ``F - penalty`` once ``F > threshold`` (and the episode ends), else ``-penalty``."""

    threshold: float = 0.95
    penalty: float = 0.01

    def __call__(self, value: np.ndarray, previous: np.ndarray, at_limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        success = value > self.threshold
        return np.where(success, value - self.penalty, -self.penalty), success


@dataclass(frozen=True)
class KanqasReward:
    """KANQAS 2024: ``bonus * F`` once ``F >= threshold`` (and the episode ends), else the dense ``F``."""

    threshold: float = 0.98
    bonus: float = 50.0

    def __call__(self, value: np.ndarray, previous: np.ndarray, at_limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        success = value >= self.threshold
        return np.where(success, self.bonus * value, value), success


@dataclass(frozen=True)
class CrlqasReward:
    """CRLQAS 2024 ``incremental_with_fixed_ends`` on energies (Hartree).

    ``+5`` when ``E - E_min < threshold`` (success, the episode ends); ``-5`` when the gate limit is reached without
    success; otherwise ``clip((E_prev - E) / |E_prev - E_min|, -1, 1)``. ``E_min`` is the exact ground energy
    (CRLQAS's curriculum may lower it; pass ``min_energy`` to do the same).
    """

    min_energy: float
    threshold: float = 1.6e-3

    def __call__(self, value: np.ndarray, previous: np.ndarray, at_limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        success = value - self.min_energy < self.threshold
        gap = np.maximum(np.abs(previous - self.min_energy), 1e-12)
        shaped = np.clip((previous - value) / gap, -1.0, 1.0)
        return np.where(success, 5.0, np.where(at_limit, -5.0, shaped)), success


FIDELITY_REWARDS = {"kuo": KuoReward, "kanqas": KanqasReward}
ENERGY_REWARDS = {"crlqas": CrlqasReward}


def make_reward(name: str, threshold: float | None, *, energy: bool, min_energy: float = 0.0) -> RewardScheme:
    """A reward scheme by name; ``threshold`` overrides the scheme's own when given."""
    table = ENERGY_REWARDS if energy else FIDELITY_REWARDS
    if name not in table:
        kind = "energy" if energy else "fidelity"
        raise ConfigError(f"unknown {kind} reward scheme {name!r}; choose one of {sorted(table)}")
    if threshold is not None and not (is_finite_number(threshold) and threshold > 0):
        raise ConfigError(f"success threshold must be a positive number, got {threshold!r}")
    if not energy and threshold is not None and threshold > 1:
        raise ConfigError(f"fidelity threshold must be in (0, 1], got {threshold}")
    kwargs = {} if threshold is None else {"threshold": float(threshold)}
    if energy:
        if not is_finite_number(min_energy):
            raise ConfigError(f"min_energy must be a finite number, got {min_energy!r}")
        kwargs["min_energy"] = float(min_energy)
    return table[name](**kwargs)
