"""The kinds of problem qas searches circuits for, as plain validated data.

Every search (RL environments, generators, DiffQAS) and :func:`qas.evaluate` take one of these, so a circuit is
scored the same way wherever it came from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np

from qas.linalg import validate_state, validate_unitary
from qas.noise import NOISELESS, NoiseModel, as_noise_model
from qas.pauli import PauliSum


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
    return h.hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class _ArrayTargetTask:
    """Shared shape of the tasks whose target is an array (a state or a unitary), validated on construction."""

    target: np.ndarray = field(repr=False)
    noise: NoiseModel = NOISELESS  # a spec string such as "depolarize:0.01" is parsed into one
    name: str = "custom"

    kind: ClassVar[str]
    validate: ClassVar[Callable[[object], np.ndarray]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", type(self).validate(self.target))
        object.__setattr__(self, "noise", as_noise_model(self.noise))

    @property
    def n_qubits(self) -> int:
        return int(np.log2(self.target.shape[0]))

    @cached_property
    def key(self) -> str:
        """Identifies the task for the evaluation cache."""
        return f"{self.kind}:" + _digest(np.round(self.target, 12).tobytes(), self.noise.describe())


@dataclass(frozen=True, eq=False)
class StatePreparation(_ArrayTargetTask):
    """Prepare ``target`` from |0...0>; scored by the fidelity <target|rho|target>."""

    kind: ClassVar[str] = "state"
    validate = staticmethod(validate_state)


@dataclass(frozen=True, eq=False)
class UnitarySynthesis(_ArrayTargetTask):
    """Implement ``target`` up to a global phase; scored by the Hilbert-Schmidt fidelity |Tr(U^dagger V)|^2 / d^2."""

    kind: ClassVar[str] = "unitary"
    validate = staticmethod(validate_unitary)


@dataclass(frozen=True, eq=False)
class GroundState:
    """Minimise <H> over the circuit's parameters; scored by the fitted energy and its error to the exact ground energy.

    ``exact_energy`` defaults to the lowest eigenvalue of ``hamiltonian`` (computed once, densely).
    """

    kind: ClassVar[str] = "ground-state"
    hamiltonian: PauliSum
    noise: NoiseModel = NOISELESS  # a spec string such as "depolarize:0.01" is parsed into one
    name: str = "custom"
    exact_energy: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise", as_noise_model(self.noise))
        if self.exact_energy is None:
            object.__setattr__(self, "exact_energy", self.hamiltonian.ground_energy())

    @property
    def n_qubits(self) -> int:
        return self.hamiltonian.n_qubits

    @cached_property
    def key(self) -> str:
        return "ground:" + _digest(repr(self.hamiltonian.terms), self.noise.describe())


Task = StatePreparation | UnitarySynthesis | GroundState
