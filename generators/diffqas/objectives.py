"""What the supernet minimises for each kind of qas task, as a function of its (mixed) output states.

The formulas are those of :func:`qas.optimize.objective` (``1 - fidelity`` for states and unitaries, ``<H>`` for ground
states), applied to supernet outputs instead of one circuit's; the DQAS paper's own state loss ``sum |psi_t - psi|``
is available as ``state_loss="l1"`` to reproduce its set-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from qas.errors import QasError
from qas.sim import torch_backend as tb
from qas.tasks import GroundState, StatePreparation, Task, UnitarySynthesis

StateLoss = Literal["infidelity", "l1"]


@dataclass(frozen=True)
class Objective:
    """``loss(states)`` of the supernet's outputs from ``initial_states`` (None: |0...0>)."""

    loss: Callable[[torch.Tensor], torch.Tensor]
    initial_states: torch.Tensor | None = None


def objective_for(
    task: Task, *, dtype: torch.dtype = torch.complex128, state_loss: StateLoss = "infidelity"
) -> Objective:
    """The supernet objective of ``task``."""
    if isinstance(task, StatePreparation):
        target = torch.tensor(task.target, dtype=dtype)
        if state_loss == "l1":
            return Objective(lambda s: (target - s[0]).abs().sum())
        if state_loss != "infidelity":
            raise QasError(f"unknown state loss {state_loss!r}; use 'infidelity' or 'l1'")
        return Objective(lambda s: 1 - (s[0] @ target.conj()).abs() ** 2)
    if isinstance(task, UnitarySynthesis):
        target = torch.tensor(task.target, dtype=dtype)
        dim = target.shape[0]
        # Basis state j evolves into row j = V|j>, so the rows are V^T and Tr(U^dagger V) = sum(conj(U^T) * rows).
        return Objective(lambda s: 1 - ((s * target.T.conj()).sum()).abs() ** 2 / dim**2, torch.eye(dim, dtype=dtype))
    if isinstance(task, GroundState):
        return Objective(lambda s: tb.pauli_expectation(task.hamiltonian, s).mean())
    raise QasError(f"DiffQAS cannot search for a task of type {type(task).__name__}")
