"""Diagonal unitaries as phase polynomials: their terms, and the circuits qas.compile writes from them."""

from __future__ import annotations

import sys

import cirq
import numpy as np
import pytest

import qas
from qas.linalg import unitary_fidelity
from qas.phase_polynomial import diagonal_candidates, ladder_circuit, phase_polynomial


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
