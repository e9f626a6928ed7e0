"""Conversion between :class:`qas.Circuit` and ``cirq.Circuit``.

``to_cirq`` is exact: every registry gate has a Cirq gate with the same unitary (``GateSpec.cirq_gate``). ``from_cirq``
maps each Cirq gate to the registry gate with exactly the same unitary, so ``cirq.rz(t)`` becomes ``rz(t)`` while
``cirq.Z**t`` becomes ``z``, ``s``, ``t``, ``sdg``, ``tdg`` or ``p(pi*t)``. A gate with no registry counterpart is
decomposed by Cirq, and what is still unknown after that is synthesised from its unitary (``u3`` for one qubit, CZ plus
one-qubit gates for two and three qubits). Those last conversions hold up to a global phase, which no fidelity in qas
depends on.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qas.circuit import Circuit, Operation
from qas.errors import InvalidCircuitError
from qas.gates import GATES
from qas.linalg import wrap_angle

if TYPE_CHECKING:
    import cirq

# Exponents within this distance of a named value (1, 0.5, 0.25, ...) are taken to be that value.
_EXPONENT_ATOL = 1e-12


def to_cirq(circuit: Circuit) -> cirq.Circuit:
    """The equivalent ``cirq.Circuit`` on ``cirq.LineQubit(0 .. n_qubits-1)`` (same unitary, no phase lost)."""
    import cirq

    qubits = cirq.LineQubit.range(circuit.n_qubits)
    return cirq.Circuit(
        GATES[o.gate].cirq_gate(*o.params).on(*(qubits[q] for q in o.qubits)) for o in circuit.operations
    )


def from_cirq(circuit: cirq.AbstractCircuit, qubits: Sequence[cirq.Qid] | None = None) -> Circuit:
    """Convert a Cirq circuit to a :class:`qas.Circuit`.

    Args:
        circuit: the Cirq circuit. Terminal measurements are dropped (qas circuits are unitary); a measurement followed
            by a gate, a classically controlled gate, or a symbolic parameter raises :class:`InvalidCircuitError`.
        qubits: the Cirq qubits for qas qubits 0, 1, ...; by default ``LineQubit(i)`` becomes qubit ``i`` (so idle
            line qubits are kept) and other qubit types are numbered in sorted order.

    Returns:
        A circuit whose unitary equals ``cirq.unitary(circuit)``, up to a global phase only where a gate had to be
        synthesised from its matrix.
    """
    import cirq

    if cirq.is_parameterized(circuit):
        raise InvalidCircuitError("cannot convert a Cirq circuit with symbolic parameters; resolve them first")
    if not circuit.are_all_measurements_terminal():
        raise InvalidCircuitError(
            "cannot convert a Cirq circuit with mid-circuit measurements (qas circuits are unitary)"
        )
    index = _qubit_index(circuit, qubits)
    ops: list[Operation] = []
    for moment in circuit.moments:
        for cirq_op in moment.operations:
            ops.extend(_convert_operation(cirq_op, index))
    return Circuit(max(index.values(), default=0) + 1, tuple(ops))


def _qubit_index(circuit: cirq.AbstractCircuit, qubits: Sequence[cirq.Qid] | None) -> dict[Any, int]:
    import cirq

    used = circuit.all_qubits()
    if qubits is not None:
        index = {q: i for i, q in enumerate(qubits)}
        missing = sorted(used - index.keys())
        if missing:
            raise InvalidCircuitError(f"circuit acts on qubits {missing} that are not in the given qubit order")
        return index
    if all(isinstance(q, cirq.LineQubit) and q.x >= 0 for q in used):
        return {q: q.x for q in used}
    return {q: i for i, q in enumerate(sorted(used))}


def _convert_operation(cirq_op: cirq.Operation, index: dict[Any, int]) -> list[Operation]:
    import cirq

    gate = cirq_op.gate
    if isinstance(gate, cirq.MeasurementGate | cirq.GlobalPhaseGate):
        return []
    if isinstance(cirq_op, cirq.ClassicallyControlledOperation) or (gate is None and not cirq.has_unitary(cirq_op)):
        raise InvalidCircuitError(f"cannot convert non-unitary Cirq operation {cirq_op}")
    qubits = tuple(index[q] for q in cirq_op.qubits)
    if gate is not None:
        if isinstance(gate, cirq.IdentityGate):
            return [Operation("i", (q,)) for q in qubits]
        mapped = _registry_gate(gate)
        if mapped is not None:
            return [Operation(mapped[0], qubits, mapped[1])]
    decomposed = cirq.decompose_once(cirq_op, default=None)
    if decomposed is not None:
        return [o for sub in decomposed for o in _convert_operation(sub, index)]
    if not cirq.has_unitary(cirq_op):
        raise InvalidCircuitError(f"cannot convert Cirq operation {cirq_op}: it has no unitary")
    return _synthesise(cirq.unitary(cirq_op), qubits)


def _is(value: float, target: float) -> bool:
    return abs(value - target) < _EXPONENT_ATOL


def _registry_gate(gate: cirq.Gate) -> tuple[str, tuple[float, ...]] | None:
    """The registry gate and parameters with exactly ``gate``'s unitary, or None when there is none."""
    import cirq

    if isinstance(gate, cirq.Rx | cirq.Ry | cirq.Rz):
        name = {cirq.Rx: "rx", cirq.Ry: "ry", cirq.Rz: "rz"}[type(gate)]
        return name, (math.pi * float(gate.exponent),)
    if isinstance(gate, cirq.PhasedXZGate):
        return "phased_xz", (float(gate.x_exponent), float(gate.z_exponent), float(gate.axis_phase_exponent))
    if isinstance(gate, cirq.CSwapGate):
        return "cswap", ()
    if isinstance(gate, cirq.MatrixGate):
        return _known_matrix(cirq.unitary(gate))
    if not isinstance(gate, cirq.EigenGate) or gate.global_shift != 0:
        return None
    t = float(gate.exponent)
    if isinstance(gate, cirq.ZPowGate):
        named = {1.0: "z", 0.5: "s", -0.5: "sdg", 0.25: "t", -0.25: "tdg"}
        return next(((n, ()) for e, n in named.items() if _is(t, e)), ("p", (math.pi * t,)))
    if isinstance(gate, cirq.XPowGate):
        # X**t is exactly PhasedXZ(x=t, z=0, a=0); Y**t is the same rotated by S: PhasedXZ(x=t, z=0, a=1/2).
        return ("x", ()) if _is(t, 1) else ("sx", ()) if _is(t, 0.5) else ("phased_xz", (t, 0.0, 0.0))
    if isinstance(gate, cirq.YPowGate):
        return ("y", ()) if _is(t, 1) else ("phased_xz", (t, 0.0, 0.5))
    if isinstance(gate, cirq.CZPowGate):
        return ("cz", ()) if _is(t, 1) else ("cp", (math.pi * t,))
    exact = {
        cirq.HPowGate: "h",
        cirq.CXPowGate: "cx",
        cirq.SwapPowGate: "swap",
        cirq.CCXPowGate: "ccx",
    }
    if type(gate) in exact and _is(t, 1):
        return exact[type(gate)], ()
    if isinstance(gate, cirq.ISwapPowGate) and _is(t, 0.5):
        return "sqrt_iswap", ()
    return None


def _known_matrix(matrix: np.ndarray) -> tuple[str, tuple[float, ...]] | None:
    """Recognise the matrices ``to_cirq`` emits as ``cirq.MatrixGate`` (``ecr``, ``u3``) and any fixed registry gate."""
    for spec in GATES.values():
        if spec.num_params == 0 and spec.matrix().shape == matrix.shape and np.allclose(spec.matrix(), matrix):
            return spec.name, ()
    if matrix.shape == (2, 2):
        theta, phi, lam, phase = _u3_angles(matrix)
        if abs(phase) < _EXPONENT_ATOL:
            return "u3", (theta, phi, lam)
    return None


def _u3_angles(matrix: np.ndarray) -> tuple[float, float, float, float]:
    """(theta, phi, lambda, global phase) with ``matrix == exp(i*phase) * u3(theta, phi, lambda)``."""
    # u3 = [[c, -e^{il} s], [e^{ip} s, e^{i(p+l)} c]] with c, s >= 0: read the phase off the larger first-column entry.
    c, s = abs(matrix[0, 0]), abs(matrix[1, 0])
    theta = 2 * math.atan2(s, c)
    if c >= s:
        phase = cmath.phase(matrix[0, 0])
        phi_plus_lam = cmath.phase(matrix[1, 1]) - phase
        phi = cmath.phase(matrix[1, 0]) - phase if s > _EXPONENT_ATOL else 0.0
        lam = phi_plus_lam - phi
    else:
        # Near theta = pi the diagonal vanishes: take lambda from -u01 and phi from u10, with phase chosen freely.
        lam_plus_phase = cmath.phase(-matrix[0, 1])
        phi_plus_phase = cmath.phase(matrix[1, 0])
        phase = cmath.phase(matrix[0, 0]) if c > _EXPONENT_ATOL else 0.0
        lam, phi = lam_plus_phase - phase, phi_plus_phase - phase
    return theta, wrap_angle(phi), wrap_angle(lam), wrap_angle(phase)


def _synthesise(unitary: np.ndarray, qubits: tuple[int, ...]) -> list[Operation]:
    """Registry operations implementing ``unitary`` on ``qubits`` up to a global phase (1-3 qubits)."""
    import cirq

    if len(qubits) == 1:
        theta, phi, lam, _ = _u3_angles(unitary)
        return [Operation("u3", qubits, (theta, phi, lam))]
    if len(qubits) > 3:
        raise InvalidCircuitError(f"cannot convert an opaque {len(qubits)}-qubit Cirq gate (at most 3 qubits)")
    line = cirq.LineQubit.range(len(qubits))
    if len(qubits) == 2:
        synthesised = cirq.two_qubit_matrix_to_cz_operations(*line, unitary, allow_partial_czs=False)
    else:
        synthesised = cirq.three_qubit_matrix_to_operations(*line, unitary)
    local = {q: qubits[i] for i, q in enumerate(line)}
    return [o for sub in synthesised for o in _convert_operation(sub, local)]
