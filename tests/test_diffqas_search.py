"""DiffQAS end to end in Python: search, derive, re-train, and the shared evaluator's score."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import qas.generators
from qas.evaluate import evaluate
from qas.generators.diffqas import SearchSpace
from qas.generators.diffqas.classify import ClassifierConfig, make_moons, search_classifier
from qas.pauli import PauliSum
from qas.tasks import GroundState, StatePreparation

torch.set_num_threads(1)


def test_bell_search_derives_a_circuit_the_evaluator_scores_perfect() -> None:
    task = StatePreparation(np.array([1, 0, 0, 1]) / np.sqrt(2), name="bell")
    result = qas.generators.DiffQAS(SearchSpace.dqas(2, 3), task, epochs=120, seed=1, retrain_restarts=2).fit()
    assert result.goal_met
    assert result.circuit.cnot_count >= 1  # Bell needs an entangler
    # The score is the shared evaluator's (qsim), and agrees with an exact state-vector check of the circuit.
    assert result.score.fidelity > 0.999
    exact = abs(np.vdot(task.target, result.circuit.final_state())) ** 2
    assert abs(exact - result.score.fidelity) < 1e-5
    assert evaluate(result.circuit, task, backend="numpy").fidelity == pytest.approx(exact, abs=1e-9)
    assert len(result.history.epochs) == 120 and result.history.losses[-1] < 1e-3


def test_ground_state_search_reaches_the_exact_energy() -> None:
    # A transverse-field Ising pair: the ground state is entangled, so an entangler has to be chosen.
    hamiltonian = PauliSum(2, ((1.0, "ZZ"), (0.6, "XI"), (0.6, "IX")))
    task = GroundState(hamiltonian, name="ising2")
    result = qas.generators.DiffQAS(SearchSpace.layered(2, 2), task, epochs=150, seed=0, retrain_restarts=2).fit()
    assert result.goal_met, result
    assert abs(result.score.energy - task.exact_energy) < 1.6e-3
    assert result.score.energy_error == result.score.energy - task.exact_energy
    assert any(name in ("cnot_ladder", "cnot_ring", "cz_all") for name in result.architecture)


def test_classifier_search_learns_two_moons() -> None:
    x, y = make_moons(120, seed=0)
    x_test, y_test = make_moons(200, seed=1)
    space = SearchSpace.from_dict(
        {"n_qubits": 2, "layers": 2, "layer": [["enc_ry", "enc_rx"], ["ry", "rot"], ["cz_all", "none"]]}
    )
    result = search_classifier(space, x, y, x_test, y_test, ClassifierConfig(epochs=80))
    assert len(result.architecture) == 6
    assert result.test_accuracy >= 0.8, result


@pytest.mark.slow
def test_h2_derived_circuit_reaches_chemical_accuracy() -> None:
    from qas.targets import parse_task

    task = parse_task("ground-state:h2")
    result = qas.generators.DiffQAS(SearchSpace.layered(4, 3), task, epochs=400, seed=0).fit()
    assert result.goal_met and result.score.energy_error < 1.6e-3, result.score
    assert result.circuit.two_qubit_count >= 1  # Hartree-Fock alone is 0.0206 Ha too high
