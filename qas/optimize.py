"""Gradient-based fitting of a circuit's angles to a task, on the torch backend.

The objective is the task's own score turned into a loss: ``1 - fidelity`` for state preparation and unitary
synthesis, the energy ``<H>`` for ground states. It is minimised in double precision (complex128) by L-BFGS with a
strong-Wolfe line search (default; converges in tens of iterations on VQE-sized problems) or by Adam. Restarts run as
one batch: restart 0 starts from the circuit's own parameters (a warm start), the others from uniform random angles in
[-pi, pi).

The fit is noiseless: noise changes the score a circuit reaches, not (to first order) where its optimum lies, and
:func:`qas.evaluate` scores the fitted circuit under the task's noise model afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import torch

from qas.circuit import Circuit
from qas.errors import QasError
from qas.sim import torch_backend as tb
from qas.tasks import GroundState, StatePreparation, Task, UnitarySynthesis

_DTYPE = torch.complex128


@dataclass(frozen=True)
class FitResult:
    """The best circuit found, its loss, and the best loss over the restarts at each objective evaluation.

    Adam evaluates the objective once per step; L-BFGS also evaluates it inside its line search, so its history is
    longer than ``steps``.
    """

    circuit: Circuit
    loss: float
    history: list[float] = field(default_factory=list)


def objective(
    circuit: Circuit, task: Task, *, device: torch.device | str | None = None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """The loss of ``circuit`` on ``task`` as a differentiable function of its parameters.

    The returned function maps parameters ``(P,)`` to a scalar or ``(B, P)`` to ``(B,)``: ``1 - |<target|psi>|^2`` for
    :class:`StatePreparation`, ``1 - |Tr(U^dagger V)|^2 / d^2`` for :class:`UnitarySynthesis`, ``<psi|H|psi>`` for
    :class:`GroundState`.
    """
    if circuit.n_qubits != task.n_qubits:
        raise QasError(f"circuit has {circuit.n_qubits} qubits but the task is on {task.n_qubits}")
    if isinstance(task, StatePreparation):
        target = torch.tensor(task.target, dtype=_DTYPE, device=device)
        return lambda p: 1 - tb.state_fidelity(tb.circuit_state(circuit, p, dtype=_DTYPE), target)
    if isinstance(task, UnitarySynthesis):
        target = torch.tensor(task.target, dtype=_DTYPE, device=device)
        return lambda p: 1 - tb.unitary_fidelity(tb.circuit_unitary(circuit, p, dtype=_DTYPE), target)
    if isinstance(task, GroundState):
        return lambda p: tb.pauli_expectation(task.hamiltonian, tb.circuit_state(circuit, p, dtype=_DTYPE))
    raise QasError(f"cannot fit parameters for a task of type {type(task).__name__}")


def fit_parameters(
    circuit: Circuit,
    task: Task,
    *,
    steps: int = 100,
    lr: float | None = None,
    optimizer: Literal["lbfgs", "adam"] = "lbfgs",
    restarts: int = 1,
    seed: int | None = None,
    device: torch.device | str | None = None,
) -> FitResult:
    """Fit ``circuit``'s angles to ``task`` and return the best circuit found.

    Args:
        circuit: the circuit whose parameters are fitted (its structure is kept).
        task: what to fit to (see :func:`objective` for the loss).
        steps: optimiser iterations (L-BFGS iterations or Adam steps).
        lr: step size; defaults to 1.0 for L-BFGS (whose line search scales it) and 0.05 for Adam.
        optimizer: "lbfgs" or "adam".
        restarts: independent starts optimised together as one batch; the first is the circuit's own parameters.
        seed: seeds the random starts.
        device: where to run ("cpu", "cuda").
    """
    if steps < 1 or restarts < 1:
        raise QasError(f"steps and restarts must be at least 1, got steps={steps}, restarts={restarts}")
    if optimizer not in ("lbfgs", "adam"):
        raise QasError(f"unknown optimizer {optimizer!r}; use 'lbfgs' or 'adam'")
    loss_of = objective(circuit, task, device=device)
    start = torch.tensor(circuit.params, dtype=torch.float64, device=device)
    if circuit.parameter_count == 0:
        loss = float(loss_of(start))
        return FitResult(circuit, loss, [loss])

    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    random_starts = (
        torch.rand(restarts - 1, start.shape[0], generator=generator, dtype=torch.float64) * 2 - 1
    ) * math.pi
    params = torch.cat([start[None], random_starts.to(start.device)]).requires_grad_(True)

    history: list[float] = []

    def closure() -> torch.Tensor:
        opt.zero_grad()
        losses = loss_of(params)
        history.append(float(losses.detach().min()))
        # The restarts are independent, so the gradient of the sum is each restart's own gradient.
        total = losses.sum()
        total.backward()
        return total

    if optimizer == "lbfgs":
        opt: torch.optim.Optimizer = torch.optim.LBFGS(
            [params],
            lr=lr or 1.0,
            max_iter=steps,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-12,
            tolerance_change=1e-14,
        )
        opt.step(closure)
    else:
        opt = torch.optim.Adam([params], lr=lr or 0.05)
        for _ in range(steps):
            opt.step(closure)

    with torch.no_grad():
        final = loss_of(params)
    best = int(torch.argmin(final))
    fitted = circuit.with_params(params[best].detach().cpu().tolist())
    return FitResult(fitted, float(final[best]), history)
