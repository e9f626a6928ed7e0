"""Named gate sets used in the quantum-architecture-search literature and on hardware.

A gate set is plain data: which gates an agent or generator may place (a gate with ``fixed_params`` is placed with
those angles, as in Kuo et al.'s ``rz(pi/4)``) and which ordered qubit pairs its two-qubit gates may act on.
"""

from __future__ import annotations

import difflib
import itertools
import math
from dataclasses import dataclass
from typing import Literal

from qas.errors import QasError, UnknownGateError
from qas.gates import get_gate

Connectivity = Literal["all", "ring", "line"]


@dataclass(frozen=True)
class GateChoice:
    """A gate an agent may place: a registered gate, optionally with its parameters fixed."""

    gate: str
    fixed_params: tuple[float, ...] | None = None

    @property
    def num_free_params(self) -> int:
        return 0 if self.fixed_params is not None else get_gate(self.gate).num_params

    def __str__(self) -> str:
        if self.fixed_params is None:
            return self.gate
        return f"{self.gate}({', '.join(f'{p:.6g}' for p in self.fixed_params)})"


@dataclass(frozen=True)
class GateSet:
    """Gates plus the connectivity their multi-qubit forms use.

    ``connectivity`` is ``"all"`` (every ordered pair, e.g. both CNOT directions), ``"ring"`` (pairs (i, i+1 mod n),
    one direction, as in Kuo et al.) or ``"line"`` (pairs (i, i+1)).
    """

    name: str
    choices: tuple[GateChoice, ...]
    connectivity: Connectivity = "all"

    @property
    def gate_names(self) -> tuple[str, ...]:
        return tuple(c.gate for c in self.choices)

    def qubit_tuples(self, arity: int, n_qubits: int) -> list[tuple[int, ...]]:
        """Qubit tuples a gate of ``arity`` may act on, in a fixed order."""
        if arity == 1:
            return [(q,) for q in range(n_qubits)]
        if arity == 2 and self.connectivity == "ring":
            return [(q, (q + 1) % n_qubits) for q in range(n_qubits)] if n_qubits > 1 else []
        if arity == 2 and self.connectivity == "line":
            return [(q, q + 1) for q in range(n_qubits - 1)]
        return list(itertools.permutations(range(n_qubits), arity))


def _gs(name: str, gates: list[str | GateChoice], connectivity: Connectivity = "all") -> GateSet:
    choices = tuple(g if isinstance(g, GateChoice) else GateChoice(g) for g in gates)
    for c in choices:
        get_gate(c.gate)
    return GateSet(name, choices, connectivity)


GATE_SETS: dict[str, GateSet] = {
    g.name: g
    for g in [
        _gs("kuo", [GateChoice("rz", (math.pi / 4,)), "x", "y", "z", "h", "cx"], "ring"),
        _gs("kanqas", ["x", "y", "z", "h", "t", "cx"]),
        _gs("crlqas", ["rx", "ry", "rz", "cx"]),
        _gs("genqc-clifford", ["h", "cx", "z", "x", "ccx", "swap"]),
        _gs("genqc-param", ["h", "cx", "ccx", "swap", "rx", "ry", "rz", "cp"]),
        _gs("ibm-native", ["rz", "sx", "x", "cx", "ecr"]),
        _gs("google-native", ["phased_xz", "cz", "sqrt_iswap"]),
    ]
}


def get_gate_set(spec: str | GateSet | list[str] | tuple[str, ...]) -> GateSet:
    """Resolve a preset name, a comma-separated list of gate names, or a list of gate names to a :class:`GateSet`."""
    if isinstance(spec, GateSet):
        return spec
    if isinstance(spec, str) and spec in GATE_SETS:
        return GATE_SETS[spec]
    if not isinstance(spec, str | list | tuple) or not all(isinstance(name, str) for name in spec):
        raise QasError(f"a gate set is a preset name, gate names or a GateSet, got {spec!r}")
    names = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    names = [n for n in names if n]
    if not names:
        raise QasError("empty gate set")
    try:
        return _gs("custom", list(names))
    except UnknownGateError as err:
        if isinstance(spec, str) and "," not in spec:
            close = difflib.get_close_matches(spec, GATE_SETS, n=1)
            hint = f" Did you mean the preset {close[0]!r}?" if close else ""
            raise UnknownGateError(
                f"{spec!r} is neither a gate-set preset ({', '.join(GATE_SETS)}) nor a gate.{hint}"
            ) from None
        raise err
