"""The fixed-size tensor encoding of circuits shared by environments, agents and generators.

A circuit becomes a qubits x steps grid with one operation per step (genQC's layout): cell ``(q, t)`` holds
``+g`` when qubit ``q`` is a target of gate ``g`` at step ``t``, ``-g`` when it is a control, ``0`` when idle, and
``pad`` (= number of gates + 1) on every qubit after the circuit ends. Gate indices ``g`` start at 1 and follow the
encoding's vocabulary. A parallel ``(max_params, steps)`` array holds the operation's continuous parameters.

Controls are marked so the qubit order of asymmetric gates survives the round trip: decoding puts controls first,
then targets, each in ascending order. That is exact only when a gate is symmetric under permuting its targets among
themselves (and its controls among themselves); :class:`CircuitEncoding` checks this from the matrices.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from qas.circuit import Circuit, Operation
from qas.errors import InvalidCircuitError, QasError
from qas.gate_sets import GateSet, get_gate_set
from qas.gates import get_gate

# Qubits listed first in these gates' operations are controls (the rest are targets).
NUM_CONTROLS: dict[str, int] = {"cx": 1, "ccx": 2, "cswap": 1, "ecr": 1}


def _permutation_matrix(perm: tuple[int, ...]) -> np.ndarray:
    """The unitary that permutes qubit positions by ``perm`` (output position i takes input perm[i])."""
    k = len(perm)
    dim = 2**k
    p = np.zeros((dim, dim))
    for b in range(dim):
        bits = [(b >> (k - 1 - i)) & 1 for i in range(k)]
        out = sum(bits[perm[i]] << (k - 1 - i) for i in range(k))
        p[out, b] = 1
    return p


def _roles_are_symmetric(gate: str) -> bool:
    """Whether permuting the gate's controls among themselves and targets among themselves leaves it unchanged."""
    spec = get_gate(gate)
    c = NUM_CONTROLS.get(gate, 0)
    params = [0.37] * spec.num_params
    m = spec.matrix(*params)
    for ctrl in itertools.permutations(range(c)):
        for tgt in itertools.permutations(range(c, spec.num_qubits)):
            p = _permutation_matrix(ctrl + tgt)
            if not np.allclose(p @ m @ p.T, m):
                return False
    return True


@dataclass(frozen=True)
class EncodedCircuit:
    """``tokens``: int64 (n_qubits, max_steps); ``params``: float32 (max_params, max_steps), radians."""

    tokens: np.ndarray = field(repr=False)
    params: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class CircuitEncoding:
    """Encodes circuits over ``gates`` on ``n_qubits`` qubits into grids of ``max_steps`` steps."""

    gates: tuple[str, ...]
    n_qubits: int
    max_steps: int

    def __post_init__(self) -> None:
        if len(set(self.gates)) != len(self.gates):
            raise QasError(f"duplicate gates in encoding vocabulary {self.gates}")
        for g in self.gates:
            if get_gate(g).num_qubits > self.n_qubits:
                raise QasError(f"gate {g!r} needs more than {self.n_qubits} qubits")
            if not _roles_are_symmetric(g):
                raise QasError(f"gate {g!r} cannot be encoded: its qubit order is not recoverable from roles")

    @classmethod
    def for_gate_set(cls, gate_set: str | GateSet, n_qubits: int, max_steps: int) -> CircuitEncoding:
        names = tuple(dict.fromkeys(get_gate_set(gate_set).gate_names))
        return cls(names, n_qubits, max_steps)

    @property
    def pad_token(self) -> int:
        return len(self.gates) + 1

    @cached_property
    def max_params(self) -> int:
        return max((get_gate(g).num_params for g in self.gates), default=0)

    @cached_property
    def _index(self) -> dict[str, int]:
        return {g: i + 1 for i, g in enumerate(self.gates)}

    def encode(self, circuit: Circuit) -> EncodedCircuit:
        """The grid of ``circuit``; raises if it uses a gate outside the vocabulary or is too long."""
        if circuit.n_qubits != self.n_qubits:
            raise InvalidCircuitError(f"circuit has {circuit.n_qubits} qubits, encoding expects {self.n_qubits}")
        if len(circuit) > self.max_steps:
            raise InvalidCircuitError(f"circuit has {len(circuit)} operations, encoding holds {self.max_steps}")
        tokens = np.zeros((self.n_qubits, self.max_steps), dtype=np.int64)
        params = np.zeros((max(self.max_params, 1), self.max_steps), dtype=np.float32)
        for t, o in enumerate(circuit):
            if o.gate not in self._index:
                raise InvalidCircuitError(f"gate {o.gate!r} is not in the encoding's gates {list(self.gates)}")
            g = self._index[o.gate]
            c = NUM_CONTROLS.get(o.gate, 0)
            for i, q in enumerate(o.qubits):
                tokens[q, t] = -g if i < c else g
            params[: len(o.params), t] = o.params
        tokens[:, len(circuit) :] = self.pad_token
        return EncodedCircuit(tokens, params[: self.max_params])

    def decode_step(self, column: np.ndarray, params: np.ndarray) -> Operation | None:
        """The operation of one grid column, or None for an empty/padding/inconsistent column."""
        nonzero = [(q, int(v)) for q, v in enumerate(column) if v != 0 and abs(v) != self.pad_token]
        gates = {abs(v) for _, v in nonzero}
        if len(gates) != 1:
            return None
        g = gates.pop()
        if not 1 <= g <= len(self.gates):
            return None
        name = self.gates[g - 1]
        spec = get_gate(name)
        controls = sorted(q for q, v in nonzero if v < 0)
        targets = sorted(q for q, v in nonzero if v > 0)
        if len(nonzero) != spec.num_qubits or len(controls) != NUM_CONTROLS.get(name, 0):
            return None
        return Operation(name, tuple(controls + targets), tuple(float(p) for p in params[: spec.num_params]))

    def decode(self, encoded: EncodedCircuit, *, strict: bool = True) -> Circuit:
        """The circuit of a grid. With ``strict=False`` (generated grids), inconsistent columns are skipped."""
        ops = []
        for t in range(encoded.tokens.shape[1]):
            column = encoded.tokens[:, t]
            if np.all(column == self.pad_token):
                break
            operation = self.decode_step(column, encoded.params[:, t] if encoded.params.size else np.zeros(0))
            if operation is None:
                if strict and np.any(column != 0):
                    raise InvalidCircuitError(f"grid column {t} is not a valid operation: {column.tolist()}")
                continue
            ops.append(operation)
        return Circuit(self.n_qubits, tuple(ops))

    def onehot(self, encoded: EncodedCircuit) -> np.ndarray:
        """float32 (n_qubits, max_steps, n_gates): +1 target, -1 control (padding and idle cells are all zero)."""
        tokens = encoded.tokens
        out = np.zeros((*tokens.shape, len(self.gates)), dtype=np.float32)
        q, t = np.nonzero((tokens != 0) & (np.abs(tokens) != self.pad_token))
        out[q, t, np.abs(tokens[q, t]) - 1] = np.sign(tokens[q, t])
        return out
