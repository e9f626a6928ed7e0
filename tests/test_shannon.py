"""The quantum Shannon decomposition: multiplexed rotations, the recursion to leaves, and five-qubit unitaries."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy.stats import unitary_group

import qas
from qas.circuit import Circuit
from qas.gates import get_gate
from qas.linalg import unitary_fidelity
from qas.shannon import multiplexed_rotation, rotation_cnots, shannon_decomposition
from qas.synthesis import synthesize_unitary


@pytest.mark.parametrize("axis", ["ry", "rz"])
def test_a_multiplexed_rotation_turns_the_target_by_each_control_value_s_angle(axis: str) -> None:
    angles = np.random.default_rng(0).uniform(-np.pi, np.pi, 8)
    circuit = Circuit(4, tuple(multiplexed_rotation(axis, angles, 0, [1, 2, 3])))
    assert circuit.cnot_count == 8
    expected = np.zeros((16, 16), dtype=complex)
    for j, angle in enumerate(angles):  # target = qubit 0 (the top bit), control value j in the other three
        expected[np.ix_([j, 8 + j], [j, 8 + j])] = get_gate(axis).matrix(angle)
    assert 1 - unitary_fidelity(expected, circuit.unitary()) < 1e-12
    assert np.allclose(circuit.unitary(), expected)  # exactly, phase included


def test_the_recursion_stops_at_leaves_and_adds_three_multiplexors_per_level() -> None:
    target = unitary_group.rvs(32, random_state=np.random.default_rng(1))
    leaves: list[Circuit] = []

    def leaf(unitary: np.ndarray) -> Circuit:
        leaves.append(synthesize_unitary(unitary))
        return leaves[-1]

    circuit = shannon_decomposition(target, leaf, leaf_qubits=3)
    assert 1 - unitary_fidelity(target, circuit.unitary()) < 1e-12
    # Five qubits: 4 four-qubit unitaries, each 4 three-qubit leaves and 3 multiplexors of 8 CNOTs; then 3 of 16.
    assert len(leaves) == 16 and all(c.n_qubits == 3 for c in leaves)
    assert circuit.cnot_count == sum(c.cnot_count for c in leaves) + 4 * 3 * 8 + 3 * 16
    assert rotation_cnots(5, 3) == 4 * 3 * 8 + 3 * 16


def test_numerical_synthesis_skips_the_decomposition_when_its_rotations_alone_are_longer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A five-qubit phase oracle: 30 CNOTs from its phase polynomial (Qiskit's Gray code), under the 48 of the
    # rotations; fitting the four-qubit blocks anyway took 47 s.
    pytest.importorskip("qiskit")

    def refuse(*args: object, **kwargs: object) -> Circuit:
        raise AssertionError("the decomposition ran")

    monkeypatch.setattr(sys.modules["qas.numerical_synthesis"], "shannon_decomposition", refuse)
    oracle = np.ones(32)
    oracle[[3, 17, 22]] = -1
    result = qas.compile(np.diag(oracle), method="numerical")
    assert result.circuit.cnot_count == 30 and result.infidelity < 1e-12


@pytest.mark.slow
def test_a_five_qubit_unitary_in_292_cnots() -> None:
    # Four fitted four-qubit blocks (61 CNOTs each) and three multiplexors of 16; Qiskit's decomposition takes 423.
    target = unitary_group.rvs(32, random_state=np.random.default_rng(2))
    result = qas.compile(target, method="numerical")
    assert result.method == "numerical" and result.circuit.cnot_count == 292 and result.infidelity < 1e-12
