"""Stabilizer states (graph states, code states, GHZ) and circuits that prepare them from their stabilizers.

A stabilizer state of n qubits is the +1 eigenvector of 2^n commuting Pauli operators, and a Clifford circuit of
O(n^2 / log n) CNOTs prepares it; constructions for generic states see only its amplitudes and spend far more (the
six-qubit ring graph state: 30 CNOTs fitted, 40 by Schmidt decomposition, where its graph has six edges). Its
stabilizers are the Paulis whose expectation has modulus one: for each X part ``x``, the expectations of every Z
part are one Walsh-Hadamard transform of ``conj(psi[k ^ x]) psi[k]`` over ``k``, ``4^n`` in ``O(n 4^n)``.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import hadamard

from qas.circuit import Circuit

# Deviation of a stabilizer's expectation modulus from one, and of amplitude moduli from each other, accepted as
# rounding (a state saved in single precision carries ~1e-7).
STABILIZER_ATOL = 1e-6


def stabilizers(state: np.ndarray) -> list[str] | None:
    """The stabilizers of ``state`` as signed Pauli labels (``"+XZI"``: qubit 0 first), or None when it is not a
    stabilizer state. Cheap for other states: a stabilizer state's non-zero amplitudes number a power of two and
    have one modulus, which a generic state fails before any Pauli is measured."""
    n = int(np.log2(state.shape[0]))
    moduli = np.abs(state)
    support = moduli > STABILIZER_ATOL
    count = int(np.count_nonzero(support))
    if count & (count - 1) or np.ptp(moduli[support]) > STABILIZER_ATOL:
        return None
    indices = np.arange(2**n)
    walsh = hadamard(2**n)  # walsh[z, k] = (-1)^{popcount(z & k)}
    labels = []
    for x in range(2**n):
        expectations = walsh @ (np.conj(state[indices ^ x]) * state)  # <psi| X^x Z^z |psi> for every z
        for z in np.flatnonzero(np.abs(np.abs(expectations) - 1) <= STABILIZER_ATOL):
            # X^x Z^z is (-i)^{|x & z|} times the Hermitian Pauli with Y where both are set.
            sign = (1j ** int(x & z).bit_count() * expectations[z]).real
            letters = "".join("IZXY"[((x >> (n - 1 - q)) & 1) * 2 + ((z >> (n - 1 - q)) & 1)] for q in range(n))
            labels.append(("+" if sign > 0 else "-") + letters)
    return labels if len(labels) == 2**n else None


def stabilizer_circuit(state: np.ndarray) -> Circuit | None:
    """A Clifford circuit preparing ``state`` from |0...0>, by Qiskit's synthesis from its stabilizers; None for a
    state that is not a stabilizer state, or without Qiskit."""
    labels = stabilizers(state)
    if labels is None:
        return None
    try:
        from qiskit import qasm2
        from qiskit.synthesis import synth_circuit_from_stabilizers
    except ImportError:
        return None
    n = int(np.log2(state.shape[0]))
    generators = [label for label in labels if label[1:] != "I" * n]
    circuit = Circuit.from_qasm(qasm2.dumps(synth_circuit_from_stabilizers(generators, allow_redundant=True)))
    # Qiskit reads a label's first letter as its highest qubit: our qubit 0 is its qubit n - 1.
    return Circuit(n, tuple(o.moved(list(range(n - 1, -1, -1))) for o in circuit))
