"""Noise models as plain data: Kraus channels attached to gates of each arity and to readout.

Channel constructors follow Cirq's definitions (``depolarize(p)`` applies each non-identity Pauli with probability
``p / (4**n - 1)``), so a model converts one-to-one into a ``cirq.NoiseModel`` for the qsim and cirq backends.
Qiskit's ``depolarizing_error(lam, n)`` (replace by the maximally mixed state with probability ``lam``) equals
``depolarize(lam * (4**n - 1) / 4**n, n)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qas.errors import QasError

if TYPE_CHECKING:
    import cirq

_PAULIS = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.diag([1, -1]).astype(complex),
}


@dataclass(frozen=True)
class Channel:
    """A completely positive trace-preserving map on ``num_qubits`` qubits, given by Kraus operators."""

    name: str
    num_qubits: int
    kraus: tuple[np.ndarray, ...] = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        total = sum(k.conj().T @ k for k in self.kraus)
        if not np.allclose(total, np.eye(2**self.num_qubits), atol=1e-9):
            raise QasError(f"channel {self.name} is not trace preserving")

    def to_cirq(self) -> Any:
        import cirq

        return cirq.KrausChannel(list(self.kraus), key=None)


def _check_probability(name: str, p: float) -> float:
    p = float(p)
    if not (math.isfinite(p) and 0.0 <= p <= 1.0):
        raise QasError(f"{name} probability must be in [0, 1], got {p}")
    return p


def pauli_channel(name: str, probabilities: dict[str, float]) -> Channel:
    """Apply Pauli string ``P`` with probability ``probabilities[P]`` (identity takes the rest)."""
    n = len(next(iter(probabilities)))
    rest = 1.0 - sum(probabilities.values())
    if rest < -1e-12:
        raise QasError(f"{name}: Pauli probabilities sum to more than 1")
    kraus = [math.sqrt(max(rest, 0.0)) * np.eye(2**n, dtype=complex)]
    for pauli, p in probabilities.items():
        if p > 0:
            m = np.array([[1.0]], dtype=complex)
            for c in pauli:
                m = np.kron(m, _PAULIS[c])
            kraus.append(math.sqrt(p) * m)
    return Channel(name, n, tuple(kraus))


def depolarize(p: float, num_qubits: int = 1) -> Channel:
    """Cirq's depolarising channel: each of the 4**n - 1 non-identity Paulis with probability p / (4**n - 1)."""
    p = _check_probability("depolarize", p)
    strings = ["".join(s) for s in itertools.product("IXYZ", repeat=num_qubits)][1:]
    return pauli_channel(f"depolarize({p:g})", {s: p / len(strings) for s in strings})


def bit_flip(p: float) -> Channel:
    """X with probability p."""
    return pauli_channel(f"bit_flip({p:g})", {"X": _check_probability("bit_flip", p)})


def phase_flip(p: float) -> Channel:
    """Z with probability p."""
    return pauli_channel(f"phase_flip({p:g})", {"Z": _check_probability("phase_flip", p)})


def amplitude_damp(gamma: float) -> Channel:
    """Energy relaxation |1> -> |0> with probability gamma."""
    g = _check_probability("amplitude_damp", gamma)
    k0 = np.array([[1, 0], [0, math.sqrt(1 - g)]], dtype=complex)
    k1 = np.array([[0, math.sqrt(g)], [0, 0]], dtype=complex)
    return Channel(f"amplitude_damp({g:g})", 1, (k0, k1))


@dataclass(frozen=True)
class NoiseModel:
    """Where channels are applied.

    Attributes:
        after_one_qubit: applied to the qubit after every one-qubit gate.
        after_two_qubit: applied after every gate on two or more qubits; a one-qubit channel goes on each of the gate's
            qubits, a two-qubit channel on the gate's first two qubits jointly.
        before_measurement: applied to every qubit before the state is read (observation or sampling).
    """

    after_one_qubit: Channel | None = None
    after_two_qubit: Channel | None = None
    before_measurement: Channel | None = None

    def channels_after(self, qubits: tuple[int, ...]) -> list[tuple[Channel, tuple[int, ...]]]:
        """The (channel, qubits) pairs that follow a gate on ``qubits``, in order."""
        if len(qubits) == 1:
            return [(self.after_one_qubit, qubits)] if self.after_one_qubit else []
        ch = self.after_two_qubit
        if ch is None:
            return []
        if ch.num_qubits == 1:
            return [(ch, (q,)) for q in qubits]
        return [(ch, qubits[: ch.num_qubits])]

    def readout_channels(self, n_qubits: int) -> list[tuple[Channel, tuple[int, ...]]]:
        ch = self.before_measurement
        return [(ch, (q,)) for q in range(n_qubits)] if ch else []

    @property
    def is_noiseless(self) -> bool:
        return self.after_one_qubit is None and self.after_two_qubit is None and self.before_measurement is None

    def describe(self) -> str:
        parts = [
            f"{where}: {ch.name}"
            for where, ch in (
                ("after 1q", self.after_one_qubit),
                ("after 2q", self.after_two_qubit),
                ("readout", self.before_measurement),
            )
            if ch is not None
        ]
        return "; ".join(parts) or "noiseless"

    def to_cirq(self, qubits: list[cirq.Qid]) -> cirq.NoiseModel:
        """An equivalent ``cirq.NoiseModel`` (gate noise only; readout noise is added by the simulator front-end)."""
        import cirq

        model = self

        class _QasNoise(cirq.NoiseModel):
            def noisy_operation(self, operation: cirq.Operation) -> Any:
                idx = tuple(qubits.index(q) for q in operation.qubits)
                return [operation] + [ch.to_cirq().on(*(qubits[i] for i in qs)) for ch, qs in model.channels_after(idx)]

        return _QasNoise()


NOISELESS = NoiseModel()


_CHANNELS: dict[str, Callable[[float], Channel]] = {
    "depolarize": depolarize,
    "bit_flip": bit_flip,
    "phase_flip": phase_flip,
    "amplitude_damp": amplitude_damp,
}
_NOISE_SLOTS = {"1q": "after_one_qubit", "2q": "after_two_qubit", "readout": "before_measurement"}


def parse_noise(text: str | None) -> NoiseModel | None:
    """A noise model from ``CHANNEL:P`` (after every gate, on each qubit) or ``1q=CHANNEL:P,2q=...,readout=...``.

    Channels: depolarize, bit_flip, phase_flip, amplitude_damp. ``2q=depolarize:P`` is the two-qubit depolarising
    channel on the gate's qubits. Example: ``--noise 1q=depolarize:0.001,2q=depolarize:0.01,readout=bit_flip:0.02``.
    """
    if not text:
        return None
    slots: dict[str, Channel] = {}
    for item in (part.strip() for part in text.split(",") if part.strip()):
        where, _, spec = item.partition("=") if "=" in item else ("", "", item)
        name, _, value = spec.partition(":")
        if (where and where not in _NOISE_SLOTS) or name not in _CHANNELS or not value:
            raise QasError(
                f"bad noise item {item!r}: use CHANNEL:P or WHERE=CHANNEL:P with WHERE in {', '.join(_NOISE_SLOTS)} "
                f"and CHANNEL in {', '.join(_CHANNELS)}"
            )
        try:
            p = float(value)
        except ValueError:
            raise QasError(f"bad noise probability {value!r} in {item!r}") from None
        if not where:
            slots["after_one_qubit"] = slots["after_two_qubit"] = _CHANNELS[name](p)
        elif where == "2q" and name == "depolarize":
            slots["after_two_qubit"] = depolarize(p, 2)
        else:
            slots[_NOISE_SLOTS[where]] = _CHANNELS[name](p)
    return NoiseModel(**slots)


def as_noise_model(noise: NoiseModel | str | None) -> NoiseModel:
    """``noise`` as a :class:`NoiseModel`: a model as it is, a spec for :func:`parse_noise` (what ``--noise`` takes),
    or None (noiseless)."""
    if noise is None:
        return NOISELESS
    if isinstance(noise, NoiseModel):
        return noise
    if isinstance(noise, str):
        return parse_noise(noise) or NOISELESS
    raise QasError(f"noise must be a qas.NoiseModel or a spec like depolarize:0.01, got {noise!r}")
