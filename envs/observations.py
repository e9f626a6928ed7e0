"""Observation encodings of the gate-by-gate environments, computed for a batch of episodes at once.

- ``pauli`` (Kuo et al.): ``<X_i>, <Y_i>, <Z_i>`` for each qubit i, after readout noise; 3n values in [-1, 1].
- ``circuit`` (KANQAS): a binary tensor ``depth x rows x n``. Each gate goes into the first moment where all its
  qubits are free. A gate on several qubits marks row ``block + last qubit`` (the target) in the columns of its other
  qubits (the controls); its gate kind owns a block of n rows. A one-qubit gate kind owns one row and marks its qubit's
  column. KANQAS' layout is the CNOT block then ``x, y, z, h, t``; CRLQAS' the CNOT block then ``rx, ry, rz``.
- ``circuit+energy`` (CRLQAS): the ``circuit`` tensor plus the energy after the previous step.
- ``encoding``: the project's shared circuit encoding (:class:`qas.encoding.CircuitEncoding`, as agents and generators
  use it): the one-hot ``n x max_gates x gates`` grid, +1 on targets and -1 on controls, one column per gate.
- ``unitary``: real and imaginary parts of ``T^dagger V`` (target vs circuit so far), 2 d^2 values in [-1, 1];
  noiseless unitary tasks only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qas.circuit import Circuit, Operation
from qas.encoding import CircuitEncoding
from qas.envs.actions import Action, ActionTable
from qas.envs.kernel import Register
from qas.errors import ConfigError
from qas.gates import get_gate


class PauliObservation:
    """Single-qubit Pauli expectations, qubit by qubit: ``[<X_0>, <Y_0>, <Z_0>, <X_1>, ...]``."""

    def __init__(self, register: Register) -> None:
        self.register = register
        self.size = 3 * register.n_qubits
        self.low, self.high = -1.0, 1.0

    def reset(self, rows: np.ndarray) -> None:
        """Nothing to forget: the observation is a function of the register."""

    def record(self, actions: np.ndarray, moments: np.ndarray) -> None:
        """Nothing to track."""

    def build(self, states: np.ndarray, values: np.ndarray) -> np.ndarray:
        xyz = self.register.pauli_expectations(states)  # (B, n, 3)
        return np.clip(xyz.reshape(len(states), -1), -1.0, 1.0).astype(np.float32)


class CircuitTensorObservation:
    """The KANQAS/CRLQAS binary circuit tensor, updated in place as gates are placed (optionally + the value).

    Args:
        table: the action table (fixes the rows).
        depth: moments held; the environments use their gate limit, so a circuit always fits.
        value_bounds: (low, high) of an appended task value (CRLQAS' previous energy), or None for no value.
        batch: episodes held.
    """

    def __init__(
        self, table: ActionTable, depth: int, value_bounds: tuple[float, float] | None = None, batch: int = 1
    ) -> None:
        n = table.n_qubits
        kinds = list(dict.fromkeys((a.gate, a.params) for a in table.actions))
        wide = [k for k in kinds if get_gate(k[0]).num_qubits > 1]
        narrow = [k for k in kinds if get_gate(k[0]).num_qubits == 1]
        # Blocks: n rows for each multi-qubit gate kind first, then one row per one-qubit kind.
        start = {k: i * n for i, k in enumerate(wide)} | {k: len(wide) * n + i for i, k in enumerate(narrow)}
        flat: list[list[tuple[int, int]]] = []
        for a in table.actions:
            row = start[(a.gate, a.params)]
            if len(a.qubits) == 1:
                flat.append([(row, a.qubits[0])])
            else:
                flat.append([(row + a.qubits[-1], control) for control in a.qubits[:-1]])
        width = max(len(c) for c in flat)
        padded = np.array([c + [c[0]] * (width - len(c)) for c in flat])  # (A, width, 2)
        self.cell_rows, self.cell_cols = padded[..., 0], padded[..., 1]
        self.n_rows = len(wide) * n + len(narrow)
        self.shape = (depth, self.n_rows, n)
        self.value_bounds = value_bounds
        self.size = int(np.prod(self.shape)) + (value_bounds is not None)
        self.low = 0.0 if value_bounds is None else min(0.0, value_bounds[0])
        self.high = 1.0 if value_bounds is None else max(1.0, value_bounds[1])
        self.tensor = np.zeros((batch, *self.shape), dtype=np.float32)

    def reset(self, rows: np.ndarray) -> None:
        self.tensor[rows] = 0.0

    def record(self, actions: np.ndarray, moments: np.ndarray) -> None:
        """Mark the gates just placed by every episode, at the moments the search scheduled them."""
        rows = np.arange(len(actions))[:, None]
        self.tensor[rows, moments[:, None], self.cell_rows[actions], self.cell_cols[actions]] = 1.0

    def build(self, states: np.ndarray | None, values: np.ndarray) -> np.ndarray:
        flat = self.tensor.reshape(len(values), -1)
        if self.value_bounds is None:
            return flat.copy()
        low, high = self.value_bounds
        return np.concatenate([flat, np.clip(values, low, high)[:, None].astype(np.float32)], axis=1)


class EncodingObservation:
    """The :class:`qas.encoding.CircuitEncoding` one-hot grid of the circuit so far, one column per placed gate.

    Each action's column comes from the encoding itself (a one-gate circuit, encoded once), so the grid is exactly
    ``encoding.onehot(encoding.encode(circuit))`` while a step only copies a column.
    """

    def __init__(self, table: ActionTable, max_gates: int, batch: int = 1) -> None:
        n = table.n_qubits
        self.encoding = CircuitEncoding.for_gate_set(table.gate_set, n, max_gates)
        single = CircuitEncoding(self.encoding.gates, n, 1)
        self.columns = np.stack(
            [single.onehot(single.encode(Circuit(n, (_placeholder(a),))))[:, 0, :] for a in table.actions]
        )  # (A, n, n_gates)
        self.shape = (n, max_gates, len(self.encoding.gates))
        self.size = int(np.prod(self.shape))
        self.low, self.high = -1.0, 1.0
        self.grid = np.zeros((batch, *self.shape), dtype=np.float32)
        self.steps = np.zeros(batch, dtype=np.int64)

    def reset(self, rows: np.ndarray) -> None:
        self.grid[rows] = 0.0
        self.steps[rows] = 0

    def record(self, actions: np.ndarray, moments: np.ndarray) -> None:
        """Write each episode's new gate into its next column."""
        rows = np.arange(len(actions))
        self.grid[rows, :, self.steps[rows], :] = self.columns[actions]
        self.steps[rows] += 1

    def build(self, states: np.ndarray | None, values: np.ndarray) -> np.ndarray:
        return self.grid.reshape(len(values), -1).copy()


def _placeholder(action: Action) -> Operation:
    """The action's operation, with fitted angles at 0 (the grid does not hold angles)."""
    return action.operation((0.0,) * get_gate(action.gate).num_params if action.is_fitted else ())


class UnitaryObservation:
    """Real and imaginary parts of ``T^dagger V``, the target against the circuit's unitary so far."""

    def __init__(self, register: Register, target: np.ndarray) -> None:
        self.register = register
        self.target_dagger = target.conj().T
        self.d = target.shape[0]
        self.size = 2 * self.d**2
        self.low, self.high = -1.0, 1.0

    def reset(self, rows: np.ndarray) -> None:
        """Nothing to forget."""

    def record(self, actions: np.ndarray, moments: np.ndarray) -> None:
        """Nothing to track."""

    def build(self, states: np.ndarray, values: np.ndarray) -> np.ndarray:
        # The Choi register holds vec(V) / sqrt(d) row-major (system index first).
        v = states.reshape(len(states), self.d, self.d) * np.sqrt(self.d)
        rel = self.target_dagger @ v
        return np.clip(np.concatenate([rel.real, rel.imag], axis=1).reshape(len(states), -1), -1, 1).astype(np.float32)


def make_observation(
    kind: str,
    allowed: Sequence[str],
    table: ActionTable,
    register: Register,
    max_gates: int,
    *,
    target_unitary: np.ndarray | None = None,
    value_bounds: tuple[float, float] | None = None,
    batch: int = 1,
) -> PauliObservation | CircuitTensorObservation | EncodingObservation | UnitaryObservation:
    """The observation encoding ``kind`` for ``batch`` episodes, if the environment accepts it (``allowed``)."""
    if kind not in allowed:
        raise ConfigError(f"unknown observation {kind!r} for this environment; choose one of {list(allowed)}")
    if kind == "pauli":
        return PauliObservation(register)
    if kind == "circuit":
        return CircuitTensorObservation(table, max_gates, batch=batch)
    if kind == "circuit+energy":
        return CircuitTensorObservation(table, max_gates, value_bounds, batch=batch)
    if kind == "encoding":
        return EncodingObservation(table, max_gates, batch=batch)
    if register.mixed or target_unitary is None:
        raise ConfigError("observation 'unitary' needs a noiseless unitary task; use observation='circuit'")
    return UnitaryObservation(register, target_unitary)
