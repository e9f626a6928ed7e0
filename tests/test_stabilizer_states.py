"""Stabilizer states: their stabilizers read off the amplitudes, and the Clifford circuits qas.compile prepares them
with."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import qas
from qas import Circuit, op
from qas.stabilizer_states import stabilizer_circuit, stabilizers


def graph_state(n_qubits: int, edges: list[tuple[int, int]]) -> np.ndarray:
    ops = [op("h", q) for q in range(n_qubits)] + [op("cz", a, b) for a, b in edges]
    return Circuit(n_qubits, tuple(ops)).final_state()


def test_a_bell_states_stabilizers_are_its_four_paulis_with_their_signs() -> None:
    bell = np.array([1, 0, 0, 1]) / np.sqrt(2)
    assert sorted(stabilizers(bell) or []) == ["+II", "+XX", "+ZZ", "-YY"]
    # |0>|+>: qubit 0 first in a label.
    assert sorted(stabilizers(np.array([1, 1, 0, 0]) / np.sqrt(2)) or []) == ["+II", "+IX", "+ZI", "+ZX"]


@pytest.mark.parametrize(
    "state",
    [
        np.array([1, 0, 0, np.exp(1j * np.pi / 4)]) / np.sqrt(2),  # equal moduli on two amplitudes, a T phase
        np.array([0, 1, 1, 0, 1, 0, 0, 0]) / np.sqrt(3),  # W: three amplitudes
        np.array([0.6, 0.8, 0, 0]),  # unequal moduli
    ],
)
def test_other_states_have_no_stabilizers(state: np.ndarray) -> None:
    assert stabilizers(state) is None and stabilizer_circuit(state) is None


def test_a_ring_graph_state_takes_one_cnot_an_edge() -> None:
    pytest.importorskip("qiskit")
    # By Schmidt decomposition 153 CNOTs, fitted (six qubits at most) 30 for the six-qubit ring.
    target = graph_state(8, [(j, (j + 1) % 8) for j in range(8)])
    result = qas.compile(target, method="exact")
    assert result.circuit.cnot_count == 8 and result.infidelity < 1e-12


def test_without_qiskit_stabilizers_are_found_but_not_synthesised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "qiskit", None)  # makes `import qiskit` fail
    target = graph_state(3, [(0, 1), (1, 2)])
    assert stabilizers(target) is not None and stabilizer_circuit(target) is None
    assert qas.compile(target, method="exact").infidelity < 1e-12
