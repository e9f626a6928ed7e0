"""Tidy a derived circuit: merge repeated rotations, then drop the gates the task does not need.

A supernet's argmax often carries slack: ``ry(a) ry(b)`` on the same qubit from two positions, a rotation layer
whose angles fit to ~0, an entangler that only mattered in the mixture. Merging is exact (``r(a) r(b) = r(a + b)``
for rotations about one axis); pruning removes one gate at a time, two-qubit gates first, while the task's loss
(:func:`qas.optimize.objective`, at the fitted angles) grows by at most ``tolerance``.
"""

from __future__ import annotations

import torch

from qas.circuit import Circuit, Operation
from qas.optimize import objective
from qas.tasks import Task

# Rotations about one axis, which compose by adding angles.
_ADDITIVE = {"rx", "ry", "rz", "p", "cp"}


def merge_rotations(circuit: Circuit) -> Circuit:
    """Fuse each rotation with the previous operation when it is the same rotation on the same qubits."""
    ops: list[Operation] = []
    last_on: dict[int, int] = {}  # qubit -> index in ops of the last operation touching it
    for o in circuit:
        previous = {last_on.get(q) for q in o.qubits}
        if o.gate in _ADDITIVE and len(previous) == 1 and (i := previous.pop()) is not None:
            prior = ops[i]
            if prior.gate == o.gate and prior.qubits == o.qubits:
                ops[i] = Operation(o.gate, o.qubits, (prior.params[0] + o.params[0],))
                continue
        ops.append(o)
        for q in o.qubits:
            last_on[q] = len(ops) - 1
    return Circuit(circuit.n_qubits, tuple(ops))


def prune(circuit: Circuit, task: Task, tolerance: float = 1e-6) -> Circuit:
    """Greedily drop operations (two-qubit ones first) while the loss stays within ``tolerance`` of the original's."""
    budget = _loss(circuit, task) + tolerance
    current = circuit
    while True:
        order = sorted(range(len(current)), key=lambda i: -len(current.operations[i].qubits))
        for i in order:
            candidate = Circuit(current.n_qubits, current.operations[:i] + current.operations[i + 1 :])
            if _loss(candidate, task) <= budget:
                current = candidate
                break
        else:
            return current


def _loss(circuit: Circuit, task: Task) -> float:
    with torch.no_grad():
        return float(objective(circuit, task)(torch.tensor(circuit.params, dtype=torch.float64)))
