"""Diagonal unitaries as phase polynomials: ``diag(e^{i f(x)})`` with ``f(x) = sum_S a_S (-1)^{x_S}``, a sum over sets
of qubits ``S`` of the parity ``x_S`` of their bits, written as CNOTs that gather each parity on one qubit and a phase
gate there.

Phase separators (QAOA, Ising and ZZ Trotter steps), phase oracles and controlled phases are diagonal, and their
polynomials are sparse: a ring of ZZ couplings on six qubits has six terms of two qubits (12 CNOTs), where the
quantum Shannon decomposition of its matrix takes 130 and that of a random diagonal 2^n - 2 at best (Bullock &
Markov 2004; the Gray code below reaches it).

Reading ``a_S`` off the phases by a Walsh transform would need the phases' branches (``f`` is known modulo 2 pi at
every ``x``): a wrong branch at one ``x`` puts a term on every set. The multiplicative Moebius transform of the
diagonal avoids them: ``m_S = prod_{T <= S} d(T)^{(-1)^{|S - T|}} = exp(i (-2)^{|S|} sum_{R >= S} a_R)`` (``d(T)`` the
entry at the bit string with ones on ``T``), so from the largest sets down each ``a_S`` is known modulo
``2 pi / 2^{|S|}``, and the representative nearest zero keeps absent terms absent.
"""

from __future__ import annotations

import itertools

import numpy as np

from qas.circuit import Circuit, Operation, op

# Largest off-diagonal entry of a unitary read as diagonal, and smallest term kept. A matrix saved in single
# precision carries ~1e-8 on every term (with 1e-9 a six-qubit ring took 36 CNOTs, not 12); dropping terms of angle
# a changes the fidelity by about the sum of a^2, below the 1e-12 that counts as exact even for all 255 of 8 qubits.
DIAGONAL_ATOL = 5e-8
TERM_ATOL = 5e-8

Terms = dict[tuple[int, ...], float]  # qubit set (ascending) -> a_S; the empty set, a global phase, left out


def is_diagonal(unitary: np.ndarray) -> bool:
    """Whether ``unitary`` is diagonal up to :data:`DIAGONAL_ATOL`."""
    return bool(np.max(np.abs(unitary - np.diag(np.diag(unitary)))) <= DIAGONAL_ATOL)


def phase_polynomial(diagonal: np.ndarray) -> Terms:
    """The terms ``a_S`` of the phase polynomial of ``diag(diagonal)`` (qas's big-endian order: qubit 0 is the
    highest bit), up to a global phase; terms below :data:`TERM_ATOL` are left out."""
    n = int(np.log2(diagonal.shape[0]))
    moebius = diagonal.astype(complex).copy()
    for bit in range(n):  # index bit ``bit`` is qubit n - 1 - bit
        with_bit = (np.arange(2**n) >> bit) & 1 == 1
        moebius[with_bit] *= np.conj(moebius[np.flatnonzero(with_bit) ^ (1 << bit)])
    above: dict[tuple[int, ...], float] = {}  # sum of a_R over the sets R processed so far that contain S
    terms: Terms = {}
    for size in range(n, 0, -1):
        scale = (-2.0) ** size
        period = 2 * np.pi / 2**size
        for qubits in itertools.combinations(range(n), size):
            index = sum(1 << (n - 1 - q) for q in qubits)
            total = np.angle(moebius[index]) / scale  # sum of a_R over R containing S, modulo the period
            term = (total - above.get(qubits, 0.0) + period / 2) % period - period / 2
            if abs(term) > TERM_ATOL:
                terms[qubits] = term
                for smaller in range(1, size):
                    for subset in itertools.combinations(qubits, smaller):
                        above[subset] = above.get(subset, 0.0) + term
    return terms


def ladder_circuit(n_qubits: int, terms: Terms) -> Circuit:
    """Each term as a CNOT ladder that gathers its parity on its last qubit, a phase there, and the ladder undone:
    ``2 (|S| - 1)`` CNOTs a term. For sparse polynomials this beats the Gray-code synthesis (a ring of six ZZ terms:
    12 CNOTs against GraySynth's 15); adjacent ladders that repeat a CNOT cancel when the circuit is simplified."""
    ops: list[Operation] = []
    for qubits, angle in sorted(terms.items()):
        ladder = [op("cx", a, b) for a, b in itertools.pairwise(qubits)]
        ops += [*ladder, op("p", qubits[-1], params=[-2 * angle]), *reversed(ladder)]
    return Circuit(n_qubits, tuple(ops))


def gray_code_circuit(n_qubits: int, terms: Terms) -> Circuit | None:
    """Qiskit's GraySynth (Amy, Azimzadeh & Mosca 2018) parity network for the terms, which shares CNOTs between
    parities: ``2^n - 2`` for a dense polynomial, where ladders take ``(n - 2) 2^n + 2``; None without Qiskit."""
    if not terms:
        return Circuit(n_qubits, ())
    try:
        from qiskit import qasm2
        from qiskit.synthesis import synth_cnot_phase_aam
    except ImportError:
        return None
    sets = sorted(terms)
    parities = [[int(q in s) for s in sets] for q in range(n_qubits)]
    # GraySynth's phase gate p(angle) multiplies the states of odd parity; (-1)^x = 1 - 2x makes that -2 a_S.
    network = synth_cnot_phase_aam(parities, [-2 * terms[s] for s in sets], section_size=1)
    return Circuit.from_qasm(qasm2.dumps(network))  # Qiskit's qubit i is qas's qubit i: only parities matter


def diagonal_candidates(unitary: np.ndarray) -> list[Circuit]:
    """Circuits for a diagonal ``unitary`` from its phase polynomial (ladders, and Qiskit's Gray code where
    installed); none for a unitary that is not diagonal."""
    if not is_diagonal(unitary):
        return []
    n = int(np.log2(unitary.shape[0]))
    terms = phase_polynomial(np.diag(unitary))
    circuits = [ladder_circuit(n, terms), gray_code_circuit(n, terms)]
    return [c for c in circuits if c is not None]
