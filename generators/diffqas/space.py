"""The layered search space of DiffQAS: at each position, a set of candidate operations to choose from.

A :class:`Candidate` is a short template of gates whose angles come from one of three sources: a trainable circuit
weight (``theta``), an input feature (``x0``, ``x1``, ...: data encoding for classification and RL policies), or a
fixed number. A :class:`SearchSpace` is a sequence of positions, each a tuple of candidates; an architecture picks one
candidate per position, and :meth:`SearchSpace.circuit` expands it into a :class:`qas.Circuit`.

Spaces are plain data and load from YAML (``qas search --candidates FILE``)::

    n_qubits: 2
    layers: 3                      # the ``layer`` block is repeated this many times
    layer:
      - [rx0, rx1, ry0, ry1, rz0, rz1, cx01, cx10]   # one position with the DQAS pool (Zhang et al. 2020)

or, with named blocks and a one-off encoding position before the repeated layers::

    n_qubits: 4
    prefix: [[enc_h_ry]]
    layers: 2
    layer:
      - [rx, ry, rz, rot]                            # variational blocks
      - [cnot_ladder, cnot_ring, cz_all, none]       # entangling patterns
    custom:                                          # extra candidates, usable by name above
      my_block: ["ry 0 theta", "cx 0 1", "rz 1 x0"]

Candidate names: ``GATE`` + qubit digits (``rx0``, ``cx01``, ``cz12``) for one gate with a trainable angle where it has
one; the blocks in :data:`BLOCKS` (acting on all qubits); or a ``custom`` entry of ``"gate q... [theta|xI|number]"``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qas.circuit import Circuit, Operation
from qas.errors import ConfigError, QasError
from qas.gates import GATES, get_gate
from qas.runs import load_config

THETA = "theta"
"""Angle source of a trainable circuit weight."""

_INPUT_RE = re.compile(r"^x(\d+)$")
_SINGLE_GATE_RE = re.compile(r"^([a-z_]+?)(\d+)$")


@dataclass(frozen=True)
class GateTemplate:
    """One gate of a candidate; each of its ``angles`` is ``"theta"``, ``"xI"`` (input feature I) or a fixed float."""

    gate: str
    qubits: tuple[int, ...]
    angles: tuple[str | float, ...] = ()

    def __post_init__(self) -> None:
        spec = get_gate(self.gate)
        if len(self.angles) != spec.num_params:
            raise ConfigError(f"gate {self.gate!r} takes {spec.num_params} angle(s), got {list(self.angles)}")
        for a in self.angles:
            if isinstance(a, str) and a != THETA and not _INPUT_RE.match(a):
                raise ConfigError(f"angle source {a!r} of {self.gate!r}: use 'theta', 'x<feature>' or a number")

    def __str__(self) -> str:
        return " ".join([self.gate, *map(str, self.qubits), *map(str, self.angles)])


@dataclass(frozen=True)
class Candidate:
    """A named template of gates; ``gates=()`` is the identity (the ``none`` entangler)."""

    name: str
    gates: tuple[GateTemplate, ...]

    @property
    def num_weights(self) -> int:
        """How many trainable angles (``theta``) the candidate has."""
        return sum(a == THETA for g in self.gates for a in g.angles)

    @property
    def num_inputs(self) -> int:
        """One more than the largest input feature index it reads (0 when it reads none)."""
        indices = [
            int(m.group(1)) for g in self.gates for a in g.angles if isinstance(a, str) and (m := _INPUT_RE.match(a))
        ]
        return max(indices, default=-1) + 1

    def operations(self, weights: Sequence[float], inputs: Sequence[float] | None = None) -> list[Operation]:
        """The candidate's operations with ``theta`` angles taken in order from ``weights``, ``xI`` from ``inputs``."""
        if len(weights) != self.num_weights:
            raise QasError(f"candidate {self.name!r} has {self.num_weights} weights, got {len(weights)}")
        if self.num_inputs and (inputs is None or len(inputs) < self.num_inputs):
            raise QasError(f"candidate {self.name!r} reads {self.num_inputs} input features; give them as inputs")
        it = iter(weights)
        ops = []
        for g in self.gates:
            params = [_resolve_angle(a, it, inputs) for a in g.angles]
            ops.append(Operation(g.gate, g.qubits, tuple(params)))
        return ops


def _resolve_angle(source: str | float, weights: Any, inputs: Sequence[float] | None) -> float:
    if source == THETA:
        return float(next(weights))
    if isinstance(source, str):
        return float(inputs[int(source[1:])])  # type: ignore[index]  # presence checked by the caller
    return float(source)


# ----- named blocks --------------------------------------------------------------------------------------------------


def _rotation_layer(*gates: str) -> Callable[[int], list[GateTemplate]]:
    return lambda n: [GateTemplate(g, (q,), (THETA,)) for q in range(n) for g in gates]


def _encoding_layer(*gates: str) -> Callable[[int], list[GateTemplate]]:
    """Input feature q on qubit q: the encoder reads as many features as there are qubits."""
    return lambda n: [
        GateTemplate(g, (q,), () if get_gate(g).num_params == 0 else (f"x{q}",)) for q in range(n) for g in gates
    ]


def _cnot_ladder(n: int) -> list[GateTemplate]:
    return [GateTemplate("cx", (q, q + 1)) for q in range(n - 1)]


def _cnot_ring(n: int) -> list[GateTemplate]:
    return _cnot_ladder(n) + ([GateTemplate("cx", (n - 1, 0))] if n > 2 else [])


def _cz_all(n: int) -> list[GateTemplate]:
    return [GateTemplate("cz", (a, b)) for a in range(n) for b in range(a + 1, n)]


BLOCKS: dict[str, Callable[[int], list[GateTemplate]]] = {
    # Data encoding (DiffQAS-QRL's candidate encoders): one input feature per qubit.
    "enc_h_ry": _encoding_layer("h", "ry"),
    "enc_rx": _encoding_layer("rx"),
    "enc_ry": _encoding_layer("ry"),
    "enc_rz": _encoding_layer("rz"),
    # Variational blocks: one trainable rotation (or the Euler triple rz ry rz) on every qubit.
    "rx": _rotation_layer("rx"),
    "ry": _rotation_layer("ry"),
    "rz": _rotation_layer("rz"),
    "rot": _rotation_layer("rz", "ry", "rz"),
    # Entangling patterns.
    "cnot_ladder": _cnot_ladder,
    "cnot_ring": _cnot_ring,
    "cz_all": _cz_all,
    "none": lambda n: [],
}


def _single_gate(name: str, n_qubits: int) -> Candidate | None:
    """``rx0`` -> rx(theta) on qubit 0; ``cx01`` -> cx(0, 1). None when ``name`` is not of that form."""
    m = _SINGLE_GATE_RE.match(name)
    if not m or m.group(1) not in GATES:
        return None
    gate, digits = get_gate(m.group(1)), m.group(2)
    if len(digits) != gate.num_qubits:
        return None
    qubits = tuple(int(d) for d in digits)
    _check_qubits(name, qubits, n_qubits)
    return Candidate(name, (GateTemplate(gate.name, qubits, (THETA,) * gate.num_params),))


def _parse_gate_line(line: str, context: str, n_qubits: int) -> GateTemplate:
    """``"ry 0 theta"``, ``"cx 0 1"``, ``"rz 1 x0"``, ``"rz 2 0.5"`` -> a template."""
    words = str(line).split()
    if not words:
        raise ConfigError(f"{context}: empty gate line")
    spec = get_gate(words[0])
    rest = words[1:]
    if len(rest) != spec.num_qubits + spec.num_params:
        raise ConfigError(
            f"{context}: {line!r} needs {spec.num_qubits} qubit(s) and {spec.num_params} angle(s) after the gate name"
        )
    try:
        qubits = tuple(int(w) for w in rest[: spec.num_qubits])
    except ValueError:
        raise ConfigError(f"{context}: qubits in {line!r} must be integers") from None
    _check_qubits(context, qubits, n_qubits)
    angles = tuple(w if (w == THETA or _INPUT_RE.match(w)) else _to_float(w, context) for w in rest[spec.num_qubits :])
    return GateTemplate(spec.name, qubits, angles)


def _to_float(word: str, context: str) -> float:
    try:
        return float(word)
    except ValueError:
        raise ConfigError(f"{context}: angle {word!r} is not 'theta', 'x<feature>' or a number") from None


def _check_qubits(context: str, qubits: tuple[int, ...], n_qubits: int) -> None:
    bad = [q for q in qubits if not 0 <= q < n_qubits]
    if bad:
        raise ConfigError(f"{context}: qubit {bad[0]} is out of range for {n_qubits} qubits")


def make_candidate(name: str, n_qubits: int, custom: Mapping[str, Sequence[str]] | None = None) -> Candidate:
    """Resolve a candidate name: a ``custom`` entry, a block of :data:`BLOCKS`, or a single gate like ``ry0``."""
    if custom and name in custom:
        lines = custom[name]
        if isinstance(lines, str) or not isinstance(lines, Sequence):
            raise ConfigError(f"custom candidate {name!r} must be a list of gate lines like 'ry 0 theta'")
        return Candidate(name, tuple(_parse_gate_line(line, f"candidate {name!r}", n_qubits) for line in lines))
    if name in BLOCKS:
        return Candidate(name, tuple(BLOCKS[name](n_qubits)))
    single = _single_gate(name, n_qubits)
    if single is not None:
        return single
    known = [*BLOCKS, *(custom or {})]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(
        f"unknown candidate {name!r}.{hint} Use a block ({', '.join(BLOCKS)}), a custom entry, "
        "or a single gate such as 'ry0' or 'cx01'"
    )


@dataclass(frozen=True)
class SearchSpace:
    """Positions of candidate operations on ``n_qubits`` qubits; an architecture picks one candidate per position."""

    n_qubits: int
    positions: tuple[tuple[Candidate, ...], ...]

    def __post_init__(self) -> None:
        if not self.positions:
            raise ConfigError("a search space needs at least one position")
        for k, cands in enumerate(self.positions):
            if not cands:
                raise ConfigError(f"position {k} of the search space has no candidates")
        for k, names in enumerate(self.candidate_names):
            if len(set(names)) != len(names):
                raise ConfigError(f"position {k} lists a candidate twice: {names}")

    @property
    def num_inputs(self) -> int:
        """Input features the space reads (0 for plain circuit searches)."""
        return max(c.num_inputs for cands in self.positions for c in cands)

    @property
    def size(self) -> int:
        """Number of distinct architectures."""
        return int(np.prod([len(c) for c in self.positions]))

    @property
    def candidate_names(self) -> list[list[str]]:
        """The candidates' names, position by position."""
        return [[c.name for c in cands] for cands in self.positions]

    @property
    def period(self) -> int:
        """The length of the layer block the positions repeat: the fewest leading positions whose candidate lists,
        repeated, give every position's (all of them where nothing repeats)."""
        names, count = self.candidate_names, len(self.positions)
        return next(p for p in range(1, count + 1) if count % p == 0 and names == names[:p] * (count // p))

    def names(self, choice: Sequence[int]) -> list[str]:
        """The names of the candidates that architecture ``choice`` picks."""
        return [self.positions[k][j].name for k, j in enumerate(choice)]

    def choice_of(self, names: Sequence[str]) -> list[int]:
        """The architecture that picks the candidates named ``names``, one per position (inverse of :meth:`names`)."""
        if len(names) != len(self.positions):
            raise QasError(f"{list(names)} does not name one candidate at each of {len(self.positions)} positions")
        choice = []
        for k, (name, known) in enumerate(zip(names, self.candidate_names, strict=True)):
            if name not in known:
                raise QasError(f"position {k} has no candidate {name!r}; it has {known}")
            choice.append(known.index(name))
        return choice

    def fixed(self, choice: Sequence[int]) -> SearchSpace:
        """The one-architecture space of ``choice`` (one candidate per position): a plain parametrised circuit."""
        self._check_choice(choice)
        return SearchSpace(self.n_qubits, tuple((self.positions[k][j],) for k, j in enumerate(choice)))

    def circuit(
        self, choice: Sequence[int], weights: Sequence[Sequence[float]], inputs: Sequence[float] | None = None
    ) -> Circuit:
        """The circuit of architecture ``choice``; ``weights[k]`` are the angles of the candidate at position k."""
        self._check_choice(choice)
        ops = [op for k, j in enumerate(choice) for op in self.positions[k][j].operations(weights[k], inputs)]
        return Circuit(self.n_qubits, tuple(ops))

    def _check_choice(self, choice: Sequence[int]) -> None:
        if len(choice) != len(self.positions) or not all(
            0 <= j < len(c) for j, c in zip(choice, self.positions, strict=True)
        ):
            raise QasError(
                f"choice {list(choice)} does not pick one candidate at each of {len(self.positions)} positions"
            )

    def describe(self) -> str:
        """One line per position: ``k: a | b | c``."""
        return "\n".join(f"{k}: {' | '.join(names)}" for k, names in enumerate(self.candidate_names))

    def to_dict(self) -> dict[str, Any]:
        """A fully explicit YAML-ready layout: every candidate as a ``custom`` entry, so it loads back exactly."""
        custom = {c.name: [str(g) for g in c.gates] for cands in self.positions for c in cands}
        return {"n_qubits": self.n_qubits, "positions": self.candidate_names, "custom": custom}

    # ----- construction ---------------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, layers: int | None = None) -> SearchSpace:
        """Build from the YAML layout in the module docstring; ``layers`` overrides the file's ``layers``."""
        known = {"n_qubits", "layers", "layer", "prefix", "suffix", "positions", "custom"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown search-space key(s) {unknown}; known keys: {sorted(known)}")
        n = data.get("n_qubits")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"search space needs n_qubits, a positive integer; got {n!r}")
        custom = data.get("custom") or {}
        if not isinstance(custom, Mapping):
            raise ConfigError("custom must map candidate names to lists of gate lines")
        if "positions" in data and "layer" in data:
            raise ConfigError("give either positions or layer (+ layers), not both")
        if "positions" in data and (layers is not None or "layers" in data):  # it was silently ignored
            raise ConfigError("layers repeats a `layer` block; a space given as positions lists every position")
        repeats = layers if layers is not None else data.get("layers", 1)
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise ConfigError(f"layers must be a positive integer, got {repeats!r}")
        layout = [
            *_position_list(data.get("prefix", []), "prefix"),
            *(
                _position_list(data.get("positions") or data.get("layer"), "layer")
                * (repeats if "layer" in data else 1)
            ),
            *_position_list(data.get("suffix", []), "suffix"),
        ]
        positions = tuple(tuple(make_candidate(str(name), n, custom) for name in names) for names in layout)
        return cls(n, positions)

    @classmethod
    def load(cls, path: str | Path, *, layers: int | None = None) -> SearchSpace:
        """Read a candidates YAML file (see the module docstring)."""
        return cls.from_dict(load_config(path), layers=layers)

    @classmethod
    def dqas(cls, n_qubits: int = 2, layers: int = 3) -> SearchSpace:
        """The DQAS pool of Zhang et al. (2020, tensorcircuit tutorial): rx, ry, rz on every qubit and every CNOT."""
        pool = [f"{g}{q}" for g in ("rx", "ry", "rz") for q in range(n_qubits)]
        pool += [f"cx{a}{b}" for a in range(n_qubits) for b in range(n_qubits) if a != b]
        return cls.from_dict({"n_qubits": n_qubits, "layers": layers, "layer": [pool]})

    @classmethod
    def layered(cls, n_qubits: int, layers: int = 2, *, encoding: bool = False) -> SearchSpace:
        """Alternating variational and entangling positions (DiffQAS-QRL's candidate families).

        With ``encoding``, every layer starts with a data-encoding position (data re-uploading), for classifiers and
        RL policies that feed their inputs through the circuit.
        """
        layer: list[list[str]] = [["enc_h_ry", "enc_rx", "enc_ry", "enc_rz"]] if encoding else []
        layer += [["rx", "ry", "rz", "rot"], ["cnot_ladder", "cnot_ring", "cz_all", "none"]]
        return cls.from_dict({"n_qubits": n_qubits, "layers": layers, "layer": layer})


def _position_list(value: Any, what: str) -> list[list[str]]:
    if value is None:
        raise ConfigError("search space needs positions or layer: a list of positions, each a list of candidate names")
    if not isinstance(value, list) or not all(isinstance(p, list) and p for p in value):
        raise ConfigError(f"{what} must be a list of positions, each a non-empty list of candidate names")
    return value
