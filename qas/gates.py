"""The gate registry: every gate qas knows, with its arity, parameter count, unitary and Cirq counterpart.

Matrices use Cirq's conventions (big-endian: qubit 0 is the most significant bit; ``rx(t) = exp(-i t X / 2)``;
controlled gates list the control(s) first), so ``Circuit.unitary()`` equals ``cirq.unitary(circuit.to_cirq())``.
Cirq is imported only when a Cirq gate is asked for, which keeps ``import qas`` and the CLI fast.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qas.errors import QasError, UnknownGateError

_SQ2 = 1 / math.sqrt(2)
_I2 = np.eye(2, dtype=complex)
_X = np.array([[0, 1], [1, 0]], dtype=complex)
_Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
_Z = np.array([[1, 0], [0, -1]], dtype=complex)


def _const(matrix: np.ndarray) -> Callable[[], np.ndarray]:
    matrix = np.asarray(matrix, dtype=complex)
    matrix.setflags(write=False)
    return lambda: matrix


def _rx(theta: float) -> np.ndarray:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array([[c, -1j * s], [-1j * s, c]])


def _ry(theta: float) -> np.ndarray:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array([[c, -s], [s, c]], dtype=complex)


def _rz(theta: float) -> np.ndarray:
    return np.diag([np.exp(-0.5j * theta), np.exp(0.5j * theta)])


def _phase(lam: float) -> np.ndarray:
    return np.diag([1, np.exp(1j * lam)])


def _z_pow(t: float) -> np.ndarray:
    return np.diag([1, np.exp(1j * math.pi * t)])


def _x_pow(t: float) -> np.ndarray:
    g = np.exp(0.5j * math.pi * t)
    c, s = math.cos(math.pi * t / 2), math.sin(math.pi * t / 2)
    return g * np.array([[c, -1j * s], [-1j * s, c]])


def _phased_xz(x: float, z: float, a: float) -> np.ndarray:
    # Same definition as cirq.PhasedXZGate: Z^z Z^a X^x Z^-a.
    return _z_pow(z) @ _z_pow(a) @ _x_pow(x) @ _z_pow(-a)


def _u3(theta: float, phi: float, lam: float) -> np.ndarray:
    # OpenQASM's U(theta, phi, lambda).
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array([[c, -np.exp(1j * lam) * s], [np.exp(1j * phi) * s, np.exp(1j * (phi + lam)) * c]], dtype=complex)


def _controlled(u: np.ndarray, num_controls: int = 1) -> np.ndarray:
    dim = 2**num_controls * u.shape[0]
    out = np.eye(dim, dtype=complex)
    out[-u.shape[0] :, -u.shape[0] :] = u
    return out


def _cp(lam: float) -> np.ndarray:
    return np.diag([1, 1, 1, np.exp(1j * lam)])


_SWAP = np.eye(4, dtype=complex)[[0, 2, 1, 3]]
_SQRT_ISWAP = np.array([[1, 0, 0, 0], [0, _SQ2, 1j * _SQ2, 0], [0, 1j * _SQ2, _SQ2, 0], [0, 0, 0, 1]], dtype=complex)
# Qiskit's ECR = (IX - XY)/sqrt2 in its little-endian labels, i.e. (X(q0) - Y(q0) X(q1))/sqrt2 here.
_ECR = (np.kron(_X, _I2) - np.kron(_Y, _X)) * _SQ2
_CSWAP = np.eye(8, dtype=complex)[[0, 1, 2, 3, 4, 6, 5, 7]]


@dataclass(frozen=True)
class GateSpec:
    """One registered gate.

    Attributes:
        name: the name used in circuits, gate sets and the CLI (lower case, OpenQASM-like).
        num_qubits: arity.
        num_params: number of continuous parameters (angles in radians, or exponents for ``phased_xz``).
        matrix_fn: params -> unitary matrix of shape (2**num_qubits, 2**num_qubits).
        cirq_fn: (cirq module, *params) -> cirq.Gate with exactly the same unitary.
        description: one line for ``qas info``.
    """

    name: str
    num_qubits: int
    num_params: int
    matrix_fn: Callable[..., np.ndarray] = field(repr=False)
    cirq_fn: Callable[..., Any] = field(repr=False)
    description: str = ""

    def matrix(self, *params: float) -> np.ndarray:
        """The gate's unitary for the given parameters."""
        if len(params) != self.num_params:
            raise QasError(f"gate {self.name!r} takes {self.num_params} parameter(s), got {len(params)}")
        return self.matrix_fn(*params)

    def cirq_gate(self, *params: float) -> Any:
        """The equivalent Cirq gate (imports cirq on first use)."""
        import cirq

        return self.cirq_fn(cirq, *params)


def _ecr_cirq(cirq: Any) -> Any:
    return cirq.MatrixGate(_ECR, name="ecr")


def _u3_cirq(cirq: Any, theta: float, phi: float, lam: float) -> Any:
    return cirq.MatrixGate(_u3(theta, phi, lam), name="u3")


GATES: dict[str, GateSpec] = {
    g.name: g
    for g in [
        GateSpec("i", 1, 0, _const(_I2), lambda c: c.I, "identity"),
        GateSpec("x", 1, 0, _const(_X), lambda c: c.X, "Pauli X"),
        GateSpec("y", 1, 0, _const(_Y), lambda c: c.Y, "Pauli Y"),
        GateSpec("z", 1, 0, _const(_Z), lambda c: c.Z, "Pauli Z"),
        GateSpec("h", 1, 0, _const(np.array([[1, 1], [1, -1]]) * _SQ2), lambda c: c.H, "Hadamard"),
        GateSpec("s", 1, 0, _const(_z_pow(0.5)), lambda c: c.S, "S = sqrt(Z)"),
        GateSpec("sdg", 1, 0, _const(_z_pow(-0.5)), lambda c: c.S**-1, "S dagger"),
        GateSpec("t", 1, 0, _const(_z_pow(0.25)), lambda c: c.T, "T = Z^(1/4)"),
        GateSpec("tdg", 1, 0, _const(_z_pow(-0.25)), lambda c: c.T**-1, "T dagger"),
        GateSpec("sx", 1, 0, _const(_x_pow(0.5)), lambda c: c.XPowGate(exponent=0.5), "sqrt(X), IBM native"),
        GateSpec("rx", 1, 1, _rx, lambda c, t: c.rx(t), "X rotation exp(-i t X/2)"),
        GateSpec("ry", 1, 1, _ry, lambda c, t: c.ry(t), "Y rotation exp(-i t Y/2)"),
        GateSpec("rz", 1, 1, _rz, lambda c, t: c.rz(t), "Z rotation exp(-i t Z/2)"),
        GateSpec("p", 1, 1, _phase, lambda c, t: c.ZPowGate(exponent=t / math.pi), "phase diag(1, e^(i t))"),
        GateSpec("u3", 1, 3, _u3, _u3_cirq, "OpenQASM U(theta, phi, lambda)"),
        GateSpec(
            "phased_xz",
            1,
            3,
            _phased_xz,
            lambda c, x, z, a: c.PhasedXZGate(x_exponent=x, z_exponent=z, axis_phase_exponent=a),
            "Google native PhasedXZ(x, z, a) exponents",
        ),
        GateSpec("cx", 2, 0, _const(_controlled(_X)), lambda c: c.CNOT, "CNOT (control, target)"),
        GateSpec("cz", 2, 0, _const(_controlled(_Z)), lambda c: c.CZ, "controlled Z"),
        GateSpec("cp", 2, 1, _cp, lambda c, t: c.CZPowGate(exponent=t / math.pi), "controlled phase"),
        GateSpec("swap", 2, 0, _const(_SWAP), lambda c: c.SWAP, "SWAP"),
        GateSpec("sqrt_iswap", 2, 0, _const(_SQRT_ISWAP), lambda c: c.SQRT_ISWAP, "sqrt(iSWAP), Google native"),
        GateSpec("ecr", 2, 0, _const(_ECR), _ecr_cirq, "echoed cross-resonance, IBM native"),
        GateSpec("ccx", 3, 0, _const(_controlled(_X, 2)), lambda c: c.CCX, "Toffoli"),
        GateSpec("cswap", 3, 0, _const(_CSWAP), lambda c: c.CSWAP, "Fredkin"),
    ]
}


def get_gate(name: str) -> GateSpec:
    """Look a gate up by name, with a suggestion when the name is unknown."""
    try:
        return GATES[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), GATES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownGateError(f"unknown gate {name!r}.{hint} Known gates: {', '.join(GATES)}") from None
