"""The circuit model: an immutable, hashable sequence of operations on ``n_qubits`` line qubits.

Plain data in the style of Cirq's protocols: an :class:`Operation` is (gate name, qubits, parameters) over the gate
registry, and a :class:`Circuit` is a tuple of them. Conversions to Cirq, OpenQASM, networkx and tensors live in their
own modules; the methods here are thin, lazily-importing shortcuts to them so that ``import qas`` stays light.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qas.errors import InputFileError, InvalidCircuitError, QasError
from qas.files import read_text_file
from qas.gates import get_gate

if TYPE_CHECKING:
    import cirq
    import networkx as nx
    import numpy as np

# Angles are rounded to this many decimals in the canonical form, so circuits that differ by float noise hash equal.
_CANONICAL_DECIMALS = 10


@dataclass(frozen=True)
class Operation:
    """One gate application: ``gate`` (a registered name) on ``qubits`` with ``params`` (radians)."""

    gate: str
    qubits: tuple[int, ...]
    params: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        spec = get_gate(self.gate)
        try:  # operator.index takes ints and numpy integers but not 0.5, which int() would truncate to 0
            object.__setattr__(self, "qubits", tuple(operator.index(q) for q in self.qubits))
        except TypeError:
            raise InvalidCircuitError(
                f"gate {self.gate!r}: qubit indices must be integers, got {list(self.qubits)}"
                + (" (pass angles as params=[...])" if spec.num_params else "")
            ) from None
        object.__setattr__(self, "params", tuple(float(p) for p in self.params))
        if len(self.qubits) != spec.num_qubits:
            raise InvalidCircuitError(
                f"gate {self.gate!r} acts on {spec.num_qubits} qubit(s), got qubits {list(self.qubits)}"
            )
        if len(set(self.qubits)) != len(self.qubits):
            raise InvalidCircuitError(f"gate {self.gate!r} given repeated qubits {list(self.qubits)}")
        if len(self.params) != spec.num_params:
            raise InvalidCircuitError(
                f"gate {self.gate!r} takes {spec.num_params} parameter(s), got {len(self.params)}"
            )
        if not all(math.isfinite(p) for p in self.params):
            raise InvalidCircuitError(f"gate {self.gate!r} has a non-finite parameter {list(self.params)}")

    def matrix(self) -> np.ndarray:
        """This operation's unitary on its own qubits (in the order of ``qubits``)."""
        return get_gate(self.gate).matrix(*self.params)

    def moved(self, qubits: Sequence[int] | Mapping[int, int]) -> Operation:
        """The same gate and parameters with each qubit ``q`` on ``qubits[q]`` (placing a sub-circuit in a larger
        one, or a circuit on a device's qubits)."""
        return Operation(self.gate, tuple(qubits[q] for q in self.qubits), self.params)

    def __str__(self) -> str:
        args = f"({', '.join(f'{p:.6g}' for p in self.params)})" if self.params else ""
        return f"{self.gate}{args} {','.join(map(str, self.qubits))}"


def op(gate: str, *qubits: int, params: Sequence[float] = ()) -> Operation:
    """Shorthand: ``op("cx", 0, 1)``, ``op("rz", 2, params=[0.3])``."""
    return Operation(gate, tuple(qubits), tuple(params))


@dataclass(frozen=True)
class Circuit:
    """An immutable circuit on qubits ``0 .. n_qubits-1``.

    Two circuits are equal when their operation sequences are equal; use :meth:`canonical` to compare circuits that
    differ only in the order of operations on disjoint qubits.
    """

    n_qubits: int
    operations: tuple[Operation, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.n_qubits, int) or self.n_qubits < 1:
            raise InvalidCircuitError(f"n_qubits must be a positive integer, got {self.n_qubits!r}")
        ops = tuple(o if isinstance(o, Operation) else Operation(*o) for o in self.operations)
        object.__setattr__(self, "operations", ops)
        for o in ops:
            bad = [q for q in o.qubits if not 0 <= q < self.n_qubits]
            if bad:
                raise InvalidCircuitError(
                    f"qubit index {bad[0]} out of range for a {self.n_qubits}-qubit circuit (in {o})"
                )

    # ----- sequence behaviour -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.operations)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def append(self, *ops: Operation) -> Circuit:
        """A new circuit with ``ops`` added at the end."""
        return Circuit(self.n_qubits, self.operations + tuple(ops))

    def with_params(self, params: Iterable[float]) -> Circuit:
        """A new circuit with all parameters replaced, in operation order (the inverse of :attr:`params`)."""
        values = [float(p) for p in params]
        if len(values) != self.parameter_count:
            raise QasError(f"circuit has {self.parameter_count} parameters, got {len(values)} values")
        it = iter(values)
        ops = tuple(Operation(o.gate, o.qubits, tuple(next(it) for _ in o.params)) for o in self.operations)
        return Circuit(self.n_qubits, ops)

    @property
    def params(self) -> tuple[float, ...]:
        """All continuous parameters, in operation order."""
        return tuple(p for o in self.operations for p in o.params)

    # ----- structure and cost -------------------------------------------------------------------------------------
    def moments(self) -> list[list[Operation]]:
        """Operations grouped into layers, each placed as early as its qubits allow (ASAP scheduling)."""
        free_at = [0] * self.n_qubits
        layers: list[list[Operation]] = []
        for o in self.operations:
            layer = max(free_at[q] for q in o.qubits)
            if layer == len(layers):
                layers.append([])
            layers[layer].append(o)
            for q in o.qubits:
                free_at[q] = layer + 1
        return layers

    @property
    def gate_count(self) -> int:
        return len(self.operations)

    @property
    def two_qubit_count(self) -> int:
        """Number of operations on two or more qubits (the entangling cost)."""
        return sum(1 for o in self.operations if len(o.qubits) >= 2)

    @property
    def cnot_count(self) -> int:
        return sum(1 for o in self.operations if o.gate == "cx")

    @property
    def depth(self) -> int:
        return len(self.moments())

    @property
    def parameter_count(self) -> int:
        return sum(len(o.params) for o in self.operations)

    def metrics(self) -> dict[str, int]:
        """The cost metrics every score reports."""
        return {
            "n_qubits": self.n_qubits,
            "gate_count": self.gate_count,
            "two_qubit_count": self.two_qubit_count,
            "cnot_count": self.cnot_count,
            "depth": self.depth,
            "parameter_count": self.parameter_count,
        }

    def canonical(self) -> Circuit:
        """The canonical form: ASAP layers, each sorted by qubits, with angles rounded.

        Operations on disjoint qubits commute, so any two circuits that differ only by such reorderings have the same
        canonical form (and so the same :meth:`key`).
        """
        ops = [
            Operation(o.gate, o.qubits, tuple(round(p, _CANONICAL_DECIMALS) + 0.0 for p in o.params))
            for layer in self.moments()
            for o in sorted(layer, key=lambda o: (o.qubits, o.gate, o.params))
        ]
        return Circuit(self.n_qubits, tuple(ops))

    def key(self) -> str:
        """A string that is equal for circuits with equal canonical forms (used as a cache key)."""
        return self._key

    @cached_property
    def _key(self) -> str:
        # Cached: canonicalising costs more than simulating a small circuit, and caches ask for it repeatedly.
        # cached_property writes the instance __dict__ directly, which a frozen dataclass allows.
        return self.canonical().to_json()

    # ----- plain-data serialisation -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "n_qubits": self.n_qubits,
            "operations": [
                {"gate": o.gate, "qubits": list(o.qubits), **({"params": list(o.params)} if o.params else {})}
                for o in self.operations
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Circuit:
        try:
            ops = tuple(
                Operation(str(d["gate"]), tuple(d["qubits"]), tuple(d.get("params", ()))) for d in data["operations"]
            )
            return cls(int(data["n_qubits"]), ops)
        except QasError:
            raise  # already names the problem (a gate's arity, a qubit out of range)
        except KeyError as err:
            raise InvalidCircuitError(f"malformed circuit JSON: missing field {err}") from None
        except (TypeError, ValueError) as err:  # a value of the wrong type: "two" qubits, a parameter "a"
            raise InvalidCircuitError(f"malformed circuit JSON: {err}") from None

    @classmethod
    def from_json(cls, text: str) -> Circuit:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise InvalidCircuitError(f"malformed circuit JSON: {err}") from None
        if not isinstance(data, dict):
            raise InvalidCircuitError("malformed circuit JSON: expected an object with n_qubits and operations")
        return cls.from_dict(data)

    # ----- shortcuts to the conversion modules --------------------------------------------------------------------
    def unitary(self) -> np.ndarray:
        from qas.sim.statevector import circuit_unitary

        return circuit_unitary(self)

    def final_state(self, initial_state: np.ndarray | None = None) -> np.ndarray:
        from qas.sim.statevector import final_state

        return final_state(self, initial_state)

    def to_cirq(self) -> cirq.Circuit:
        from qas.cirq_interop import to_cirq

        return to_cirq(self)

    @classmethod
    def from_cirq(cls, circuit: cirq.AbstractCircuit) -> Circuit:
        from qas.cirq_interop import from_cirq

        return from_cirq(circuit)

    def to_qasm(self, version: str = "3.0") -> str:
        from qas.qasm import to_qasm

        return to_qasm(self, version=version)

    @classmethod
    def from_qasm(cls, text: str) -> Circuit:
        from qas.qasm import from_qasm

        return from_qasm(text)

    def to_graph(self) -> nx.MultiDiGraph:
        from qas.graph import to_graph

        return to_graph(self)

    def __str__(self) -> str:
        from qas.draw import to_text

        return to_text(self)


CIRCUIT_SUFFIXES = (".qasm", ".json")


def load_circuit(path: str | Path) -> Circuit:
    """A circuit from an OpenQASM 2/3 (``.qasm``) or qas JSON (``.json``) file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CIRCUIT_SUFFIXES:
        raise InputFileError(f"cannot read circuit {str(path)!r}: use a .qasm (OpenQASM 2/3) or .json (qas) file")
    text = read_text_file(path, "circuit")
    return Circuit.from_qasm(text) if suffix == ".qasm" else Circuit.from_json(text)
