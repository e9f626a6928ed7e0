"""Diagonal unitaries as phase polynomials, alone or after a Clifford permutation: their terms, and the circuits
qas.compile writes from them."""

from __future__ import annotations

import sys

import cirq
import numpy as np
import pytest

import qas
from qas import Circuit, op
from qas.linalg import unitary_fidelity
from qas.phase_polynomial import diagonal_candidates, ladder_circuit, phase_polynomial
from qas.synthesis import permuted_diagonal_candidates


def zz_ring(n_qubits: int, gamma: float) -> np.ndarray:
    """The diagonal of ``exp(-i gamma sum_j Z_j Z_{j+1})`` on a ring (QAOA's MaxCut phase separator)."""
    bits = (np.arange(2**n_qubits)[:, None] >> (n_qubits - 1 - np.arange(n_qubits))) & 1
    z = 1 - 2 * bits
    return np.exp(-1j * gamma * sum(z[:, j] * z[:, (j + 1) % n_qubits] for j in range(n_qubits)))


def test_a_zz_ring_has_one_term_per_edge_even_where_its_phases_wrap() -> None:
    # gamma = 1.37: the phases reach 6 * 1.37 > pi, so a Walsh transform of the principal angles has terms on every
    # set; the Moebius transform finds the six edges, each with -gamma modulo pi / 2.
    terms = phase_polynomial(zz_ring(6, 1.37))
    assert set(terms) == {(j, j + 1) for j in range(5)} | {(0, 5)}
    for angle in terms.values():
        assert abs((angle + 1.37 + np.pi / 4) % (np.pi / 2) - np.pi / 4) < 1e-12


def test_the_terms_rebuild_a_random_diagonal() -> None:
    diagonal = np.exp(1j * np.random.default_rng(0).uniform(-np.pi, np.pi, 32))
    terms = phase_polynomial(diagonal)
    assert len(terms) == 31  # every set of qubits
    assert unitary_fidelity(np.diag(diagonal), ladder_circuit(5, terms).unitary()) > 1 - 1e-12


def test_a_qaoa_phase_separator_compiles_to_two_cnots_an_edge() -> None:
    # The Shannon decomposition of the same matrix took 130 CNOTs.
    result = qas.compile(np.diag(zz_ring(6, 0.37)), method="exact")
    assert result.circuit.cnot_count == 12 and result.infidelity < 1e-12
    # Saved in single precision its phases carry ~1e-8 on every set of qubits, which must not count as terms.
    rounded = qas.compile(np.diag(zz_ring(6, 0.37)).astype(np.complex64), method="exact")
    assert rounded.circuit.cnot_count == 12 and rounded.infidelity < 1e-12


def test_a_random_diagonal_takes_the_gray_codes_two_to_the_n_minus_two() -> None:
    pytest.importorskip("qiskit")
    diagonal = np.diag(np.exp(1j * np.random.default_rng(1).uniform(-np.pi, np.pi, 16)))
    result = qas.compile(diagonal, method="exact")  # the Shannon decomposition: 18
    assert result.circuit.cnot_count == 14 and result.infidelity < 1e-12


def test_without_qiskit_ladders_write_the_terms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "qiskit", None)  # makes `import qiskit` fail
    candidates = diagonal_candidates(np.diag(zz_ring(4, 0.2)))
    assert [c.cnot_count for c in candidates] == [8]


def test_only_diagonal_unitaries_have_phase_polynomial_circuits() -> None:
    pytest.importorskip("qiskit")
    assert diagonal_candidates(cirq.unitary(cirq.CCX)) == []
    ccz = diagonal_candidates(cirq.unitary(cirq.CCZ))
    assert [c.cnot_count for c in ccz] == [10, 6]  # ladders for its 7 terms, and the Gray code's T-gate circuit
    assert all(unitary_fidelity(cirq.unitary(cirq.CCZ), c.unitary()) > 1 - 1e-12 for c in ccz)


def test_a_cnot_and_phase_circuit_compiles_as_a_permutation_then_a_diagonal() -> None:
    pytest.importorskip("qiskit")
    # 12 CNOTs with T, S and Rz gates between them on four qubits: its matrix permutes the basis states affinely and
    # adds phases. The Shannon decomposition took 95 CNOTs and numerical synthesis 61.
    rng = np.random.default_rng(0)
    ops = []
    for _ in range(12):
        a, b = (int(q) for q in rng.choice(4, 2, replace=False))
        ops += [op("cx", a, b), op(str(rng.choice(["t", "tdg", "s"])), b), op("rz", a, params=[rng.uniform(-3, 3)])]
    target = Circuit(4, tuple(ops)).unitary()
    assert [c.cnot_count for c in permuted_diagonal_candidates(target)] == [32, 17]  # ladders, Gray code
    result = qas.compile(target, method="exact")
    assert result.circuit.cnot_count == 17 and result.infidelity < 1e-12
    # Its permutation keeps qubit 0's bit (the CNOTs onto it cancel), so it multiplexes on qubit 0 and numerical
    # synthesis demultiplexes it, in fewer.
    assert qas.compile(target, method="numerical").circuit.cnot_count == 12


def test_a_permutation_that_is_not_affine_has_no_permuted_diagonal_circuit() -> None:
    assert permuted_diagonal_candidates(cirq.unitary(cirq.CCX)) == []  # Toffoli: x3 ^= x1 x2
