"""The discrete action table of the gate-by-gate environments: one action per (gate choice, qubits, angle).

One-qubit gates come first, qubit by qubit in gate-set order, then multi-qubit gates on each allowed qubit tuple.
Kuo et al.'s set on n qubits gives their 6n actions (``rz(pi/4), x, y, z, h`` per qubit and ``cx(i, i+1 mod n)``),
KANQAS' gives n(n+4) (``x, y, z, h, t`` per qubit and every directed CNOT), CRLQAS' n(n+2). A gate with free
parameters gets either one action whose angles the environment fits (``free_angles=True``, the VQE set-up) or one
action per angle in ``angle_grid``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qas.circuit import Operation
from qas.errors import ConfigError
from qas.gate_sets import GateSet, get_gate_set
from qas.gates import get_gate
from qas.settings import is_integer

Connectivity = str | Sequence[tuple[int, int]]

# Angles placed by a free-parameter gate in a fidelity task: multiples of pi/4 (the Clifford+T grid).
DEFAULT_ANGLE_GRID: tuple[float, ...] = tuple(k * np.pi / 4 for k in range(1, 8))


@dataclass(frozen=True)
class Action:
    """One action: ``gate`` on ``qubits`` with ``params`` fixed, or ``params=None`` for angles fitted by the env."""

    gate: str
    qubits: tuple[int, ...]
    params: tuple[float, ...] | None

    @property
    def is_fitted(self) -> bool:
        return self.params is None

    def operation(self, params: Sequence[float] = ()) -> Operation:
        return Operation(self.gate, self.qubits, tuple(params) if self.params is None else self.params)

    def __str__(self) -> str:
        angles = "" if not self.params else f"({', '.join(f'{p:.4g}' for p in self.params)})"
        return f"{self.gate}{angles} {','.join(map(str, self.qubits))}"


def _is_qubit_list(value: object) -> bool:
    return isinstance(value, list | tuple) and all(is_integer(q) for q in value)


def _qubit_tuples(gate_set: GateSet, connectivity: Connectivity | None, arity: int, n: int) -> list[tuple[int, ...]]:
    if connectivity is None or isinstance(connectivity, str):
        name = connectivity or gate_set.connectivity
        if name not in ("all", "ring", "line"):
            raise ConfigError(f"unknown connectivity {name!r}: use 'all', 'ring', 'line' or a list of qubit pairs")
        return GateSet(gate_set.name, gate_set.choices, name).qubit_tuples(arity, n)  # type: ignore[arg-type]
    if not isinstance(connectivity, list | tuple) or not all(_is_qubit_list(p) for p in connectivity):
        raise ConfigError(f"connectivity must be 'all', 'ring', 'line' or a list of qubit pairs, got {connectivity!r}")
    pairs = [tuple(int(q) for q in p) for p in connectivity]
    for p in pairs:
        if len(p) != 2 or p[0] == p[1] or not all(0 <= q < n for q in p):
            raise ConfigError(f"bad connectivity pair {p}: need two distinct qubits in 0..{n - 1}")
    if arity == 2:
        return list(dict.fromkeys(pairs))
    linked = {frozenset(p) for p in pairs}
    # A wider gate may act on qubits that are pairwise coupled.
    return [
        t
        for t in itertools.permutations(range(n), arity)
        if all(frozenset(pair) in linked for pair in itertools.combinations(t, 2))
    ]


class ActionTable:
    """All actions for a gate set on ``n_qubits`` qubits, plus the vectorised "no immediate repeat" mask.

    Args:
        gate_set: a preset name, a list of gate names or a :class:`~qas.gate_sets.GateSet`.
        n_qubits: system qubits.
        connectivity: ``"all"``, ``"ring"``, ``"line"``, or explicit directed pairs; None keeps the gate set's own.
        free_angles: parameterised gates get one fitted action each (True) or one action per grid angle (False).
        angle_grid: angles for the grid actions.
    """

    def __init__(
        self,
        gate_set: str | GateSet | Sequence[str],
        n_qubits: int,
        connectivity: Connectivity | None = None,
        *,
        free_angles: bool = False,
        angle_grid: Sequence[float] = DEFAULT_ANGLE_GRID,
    ) -> None:
        self.gate_set = get_gate_set(gate_set)  # type: ignore[arg-type]
        self.n_qubits = n_qubits
        actions: list[Action] = []
        one_qubit = [c for c in self.gate_set.choices if get_gate(c.gate).num_qubits == 1]
        wider = [c for c in self.gate_set.choices if get_gate(c.gate).num_qubits > 1]
        for q in range(n_qubits):
            for choice in one_qubit:
                actions += self._expand(choice.gate, choice.fixed_params, (q,), free_angles, angle_grid)
        for choice in wider:
            arity = get_gate(choice.gate).num_qubits
            if arity > n_qubits:
                continue
            for qubits in _qubit_tuples(self.gate_set, connectivity, arity, n_qubits):
                actions += self._expand(choice.gate, choice.fixed_params, qubits, free_angles, angle_grid)
        if not actions:
            raise ConfigError(f"gate set {self.gate_set.name!r} gives no actions on {n_qubits} qubit(s)")
        self.actions: tuple[Action, ...] = tuple(actions)
        # (A, n) bool: which qubits each action touches; used for the vectorised mask.
        self.touches = np.zeros((len(actions), n_qubits), dtype=bool)
        for a, action in enumerate(actions):
            self.touches[a, list(action.qubits)] = True

    @staticmethod
    def _expand(
        gate: str, fixed: tuple[float, ...] | None, qubits: tuple[int, ...], free: bool, grid: Sequence[float]
    ) -> list[Action]:
        n_params = get_gate(gate).num_params
        if fixed is not None or n_params == 0:
            return [Action(gate, qubits, fixed if fixed is not None else ())]
        if free:
            return [Action(gate, qubits, None)]
        return [
            Action(gate, qubits, tuple(float(a) for a in angles)) for angles in itertools.product(grid, repeat=n_params)
        ]

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, index: int) -> Action:
        return self.actions[index]

    def masks(self, last_action: np.ndarray) -> np.ndarray:
        """Legal actions for each episode, from the last action on each qubit ((batch, n) ints, -1 for none).

        An action is illegal when it was also the last action on every qubit it touches, i.e. it would repeat
        the same gate back to back (KANQAS' ``update_illegal_actions``). Two applications of one action on all
        its qubits must be the same application, so this catches exactly the adjacent repeats.
        """
        a = np.arange(len(self.actions))
        # repeat[b, a, q]: qubit q's last action is a; an action repeats when that holds on all its qubits.
        repeat = last_action[:, None, :] == a[None, :, None]
        illegal = np.all(repeat | ~self.touches[None], axis=2)
        legal = ~illegal
        # Never leave an episode without a legal action (a one-action table on one qubit).
        legal[~legal.any(axis=1)] = True
        return legal
