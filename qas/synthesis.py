"""Exact synthesis of a unitary: analytic circuits from Cirq's and Qiskit's decompositions.

:func:`synthesize_unitary` is the circuit with the fewest two-qubit gates of the decompositions available;
:func:`qas.compile`'s ``exact`` method and the state preparation (:mod:`qas.state_prep`) build on these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from qas.circuit import Circuit
from qas.gate_sets import GateSet
from qas.gates import GATES
from qas.phase_polynomial import DIAGONAL_ATOL, diagonal_candidates


def synthesize_unitary(unitary: np.ndarray) -> Circuit:
    """A circuit for ``unitary`` (up to a global phase): of :func:`unitary_candidates`, the one with the fewest
    two-qubit gates, then gates."""
    return min(unitary_candidates(unitary), key=synthesis_cost)


def synthesis_cost(circuit: Circuit) -> tuple[int, int]:
    """What exact synthesis minimises: two-qubit gates, then gates."""
    return circuit.two_qubit_count, len(circuit.operations)


def unitary_candidates(unitary: np.ndarray) -> list[Circuit]:
    """Circuits for ``unitary``: Qiskit's in u3/cx (where installed, from two qubits) and Cirq's in CZs and its
    one-qubit gates (up to three qubits, or without Qiskit); :func:`qiskit_synthesis` says where each wins. Structured
    unitaries also have their own: a diagonal one its phase polynomial's, alone or after a Clifford permutation
    (:func:`permuted_diagonal_candidates`), and a Clifford Qiskit's syntheses from its tableau
    (:func:`qiskit_clifford_synthesis`). Callers translate them into the gates they need."""
    n = int(np.log2(unitary.shape[0]))
    special = [*permuted_diagonal_candidates(unitary), *qiskit_clifford_synthesis(unitary)] if n > 1 else []
    qiskit_circuit = qiskit_synthesis(unitary) if n > 1 else None
    if qiskit_circuit is None:
        return [cirq_synthesis(unitary), *special]
    return [qiskit_circuit, cirq_synthesis(unitary), *special] if n <= 3 else [qiskit_circuit, *special]


def cirq_synthesis(unitary: np.ndarray) -> Circuit:
    """Cirq's analytic decomposition: KAK up to two qubits, its three-qubit decomposition, Shannon's above."""
    import cirq

    from qas.cirq_interop import from_cirq

    n = int(np.log2(unitary.shape[0]))
    qubits = cirq.LineQubit.range(n)
    if n == 1:
        ops = [cirq.MatrixGate(unitary).on(qubits[0])]
    elif n == 2:
        ops = cirq.two_qubit_matrix_to_cz_operations(*qubits, unitary, allow_partial_czs=False)
    elif n == 3:
        ops = cirq.three_qubit_matrix_to_operations(*qubits, unitary)
    else:
        ops = list(cirq.quantum_shannon_decomposition(qubits, unitary))
    return from_cirq(cirq.Circuit(ops), qubits=qubits)


def qiskit_synthesis(unitary: np.ndarray, basis: Sequence[str] = ("u", "cx")) -> Circuit | None:
    """Qiskit's synthesis into ``basis`` (Qiskit's gate names; two-qubit KAK, quantum Shannon decomposition above), or
    None without Qiskit or where Qiskit cannot write the unitary in ``basis``.

    Above three qubits it replaces Cirq's: on Haar-random 4-qubit unitaries it emits ~5% fewer CNOTs (95 vs 100)
    about 80x faster (``bench/export.py``). Up to three qubits both run and the shorter circuit wins: Cirq's analytic
    decompositions find the short circuits of structured targets (Toffoli in 7 CNOTs where Qiskit's takes 8), Qiskit's
    one CNOT fewer on most Haar-random 3-qubit unitaries (19 vs 20).
    """
    return qiskit_transpile(lambda library: library.UnitaryGate(unitary, check_input=False), basis)


def permuted_diagonal_candidates(unitary: np.ndarray) -> list[Circuit]:
    """Circuits for a unitary ``D P`` with one nonzero entry in each column: ``P`` permutes the basis states, ``D`` is
    diagonal. Where ``P`` is the identity, ``D``'s (:func:`qas.phase_polynomial.diagonal_candidates`); where it is a
    Clifford (the bits map affinely: CNOTs and Xs, as in the CNOT + phase circuits of T-count optimisation), its
    Clifford circuit followed by each of those; else none."""
    columns = np.arange(unitary.shape[0])
    rows = np.argmax(np.abs(unitary), axis=0)
    permutation = np.zeros(unitary.shape)
    permutation[rows, columns] = 1
    if len(set(rows)) < len(rows) or not np.allclose(np.abs(unitary), permutation, rtol=0, atol=DIAGONAL_ATOL):
        return []
    phases = np.empty(unitary.shape[0], dtype=complex)
    phases[rows] = unitary[rows, columns]
    diagonal = diagonal_candidates(np.diag(phases))
    if np.array_equal(rows, columns):
        return diagonal
    linear = qiskit_clifford_synthesis(permutation)
    if not linear:
        return []
    first = min(linear, key=synthesis_cost)
    return [Circuit(first.n_qubits, first.operations + d.operations) for d in diagonal]


def qiskit_clifford_synthesis(unitary: np.ndarray) -> list[Circuit]:
    """Qiskit's syntheses of a Clifford unitary (Aaronson-Gottesman, optimal up to three qubits, and the greedy
    one), where ``unitary`` is Clifford and Qiskit installed; else none. Generic decompositions miss what the
    tableau says: a six-qubit Clifford circuit of 60 CNOTs took ~1800 by the Shannon decomposition, 18 from its
    tableau."""
    try:
        from qiskit import qasm2
        from qiskit.exceptions import QiskitError
        from qiskit.quantum_info import Clifford
        from qiskit.synthesis import synth_clifford_full, synth_clifford_greedy
    except ImportError:
        return []
    try:
        clifford = Clifford.from_matrix(unitary)  # checks that every Pauli maps to a Pauli: ~5 ms at 8 qubits
    except QiskitError:
        return []
    n = clifford.num_qubits
    reversed_qubits = list(range(n - 1, -1, -1))  # Qiskit reads the matrix little-endian: its qubit j is our n-1-j
    circuits = [
        Circuit.from_qasm(qasm2.dumps(synth(clifford))) for synth in (synth_clifford_full, synth_clifford_greedy)
    ]
    return [Circuit(n, tuple(o.moved(reversed_qubits) for o in c)) for c in circuits]


def qiskit_transpile(build: Callable[[ModuleType], Any], basis: Sequence[str] = ("u", "cx")) -> Circuit | None:
    """The Qiskit instruction ``build(qiskit.circuit.library)``, transpiled into ``basis`` (Qiskit's gate names), as a
    qas circuit; None without Qiskit or where Qiskit cannot write it in ``basis``."""
    try:
        import qiskit
        from qiskit import qasm2
        from qiskit.circuit import library
        from qiskit.transpiler.exceptions import TranspilerError
    except ImportError:
        return None
    instruction = build(library)
    n = instruction.num_qubits
    qc = qiskit.QuantumCircuit(n)
    # Qiskit reads matrices and amplitudes little-endian: list the qubits reversed for qas's big-endian ones. Level 1
    # keeps the qubit order (higher levels may fold a final permutation into the layout).
    qc.append(instruction, list(reversed(range(n))))
    try:
        transpiled = qiskit.transpile(qc, basis_gates=list(basis), optimization_level=1)
    except TranspilerError:
        return None
    return Circuit.from_qasm(qasm2.dumps(transpiled))


def qiskit_basis(gates: GateSet) -> list[str] | None:
    """The one-qubit gates of ``gates`` and its CX or CZ by Qiskit's names, or None where there is no CX or CZ, or a
    one-qubit gate has no Qiskit name or a fixed angle (rz(pi/4) as a gate).

    One entangler only: given two (IBM's cx and ecr), Qiskit picks between them at random from call to call, even
    with a seed, and its ECR circuits are longer here (40 gates against 28).
    """
    from qiskit.circuit.library import get_standard_gate_name_mapping

    entangler = next((g for g in ("cx", "cz") if g in gates.gate_names), None)
    one_qubit = [c for c in gates.choices if GATES[c.gate].num_qubits == 1]
    if entangler is None or any(c.fixed_params is not None for c in one_qubit):
        return None
    names = [{"u3": "u", "i": "id"}.get(c.gate, c.gate) for c in one_qubit]
    return [*names, entangler] if set(names) <= set(get_standard_gate_name_mapping()) else None
