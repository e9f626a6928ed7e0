"""The numpy state-vector kernel: apply gates to one state or a batch of states, in place of re-simulating.

This is the incremental path the environments step with. Measured on the project's 2-core machines
(``bench/simulators.py``), one gate on a cached 3-5 qubit state costs ~10-20 us here against ~75-115 us through
qsimcirq, whose per-call circuit translation dominates at this size; qsim wins for whole circuits at >= ~12 qubits.
States are complex128 arrays of shape ``(2**n,)`` or ``(batch, 2**n)``, big-endian (qubit 0 most significant, as Cirq).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qas.circuit import Circuit, Operation


def zero_state(n_qubits: int, batch: int | None = None) -> np.ndarray:
    """|0...0>, optionally repeated ``batch`` times."""
    shape = (2**n_qubits,) if batch is None else (batch, 2**n_qubits)
    psi = np.zeros(shape, dtype=complex)
    psi[..., 0] = 1.0
    return psi


def apply_matrix(states: np.ndarray, matrix: np.ndarray, qubits: Sequence[int], n_qubits: int) -> np.ndarray:
    """Apply a k-qubit ``matrix`` on ``qubits`` to a state ``(2**n,)`` or a batch ``(B, 2**n)`` (a new array)."""
    k = len(qubits)
    batched = states.ndim == 2
    psi = states.reshape((-1,) + (2,) * n_qubits)
    axes = [1 + q for q in qubits]
    out = np.tensordot(matrix.reshape((2,) * (2 * k)), psi, axes=(list(range(k, 2 * k)), axes))
    # tensordot puts the gate's output axes first, then the batch axis and the untouched qubits in order.
    out = np.moveaxis(out, list(range(k)), axes) if k else out
    out = out.reshape(states.shape) if batched else out.reshape(-1)
    return out


def apply_matrices(states: np.ndarray, matrices: np.ndarray, qubits: Sequence[int], n_qubits: int) -> np.ndarray:
    """Apply a different k-qubit matrix ``matrices[b]`` to each state ``states[b]``, all on the same ``qubits``."""
    k = len(qubits)
    batch = states.shape[0]
    psi = states.reshape((batch,) + (2,) * n_qubits)
    axes = [1 + q for q in qubits]
    psi = np.moveaxis(psi, axes, list(range(1, k + 1)))
    moved_shape = psi.shape
    out = np.matmul(matrices, psi.reshape(batch, 2**k, -1)).reshape(moved_shape)
    return np.moveaxis(out, list(range(1, k + 1)), axes).reshape(batch, -1)


def apply_operation(states: np.ndarray, operation: Operation, n_qubits: int) -> np.ndarray:
    """Apply one :class:`~qas.circuit.Operation` to a state or to every state of a batch."""
    return apply_matrix(states, operation.matrix(), operation.qubits, n_qubits)


def apply_operations(states: np.ndarray, operations: Sequence[Operation], n_qubits: int) -> np.ndarray:
    """Apply ``operations[b]`` to ``states[b]`` for a batch of heterogeneous one-gate steps (the vector-env step).

    Steps are grouped by qubit tuple so that each group is one batched matmul.
    """
    out = states.copy()
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for b, o in enumerate(operations):
        groups[o.qubits].append(b)
    for qubits, rows in groups.items():
        mats = np.stack([operations[b].matrix() for b in rows])
        out[rows] = apply_matrices(states[rows], mats, qubits, n_qubits)
    return out


def final_state(circuit: Circuit, initial_state: np.ndarray | None = None) -> np.ndarray:
    """The state after ``circuit`` acts on ``initial_state`` (default |0...0>)."""
    psi = zero_state(circuit.n_qubits) if initial_state is None else np.asarray(initial_state, dtype=complex)
    for o in circuit.operations:
        psi = apply_operation(psi, o, circuit.n_qubits)
    return psi


def circuit_unitary(circuit: Circuit) -> np.ndarray:
    """The circuit's unitary: evolve every basis state at once as a batch (row j ends as U|j>)."""
    dim = 2**circuit.n_qubits
    rows = np.eye(dim, dtype=complex)
    for o in circuit.operations:
        rows = apply_operation(rows, o, circuit.n_qubits)
    return rows.T
