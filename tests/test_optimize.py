"""Parameter fitting on the torch backend reaches known optima."""

import math

import numpy as np
import pytest
import torch

from qas import Circuit, GroundState, PauliSum, StatePreparation, UnitarySynthesis, get_gate, op
from qas.errors import QasError
from qas.optimize import fit_parameters

torch.set_num_threads(1)

# A two-qubit H2-like Hamiltonian (STO-3G coefficients at 0.74 A, after symmetry reduction).
H2_2Q = PauliSum(2, ((-1.0524, "II"), (0.3979, "ZI"), (-0.3979, "IZ"), (-0.0113, "ZZ"), (0.1809, "XX")))


def test_fits_bell_state_from_a_warm_start() -> None:
    bell = np.array([1, 0, 0, 1]) / math.sqrt(2)
    result = fit_parameters(Circuit(2, (op("ry", 0, params=[0.1]), op("cx", 0, 1))), StatePreparation(bell))
    assert result.loss < 1e-10
    assert math.cos(result.circuit.params[0] / 2) ** 2 == pytest.approx(0.5, abs=1e-6)
    assert result.history[0] > result.history[-1]


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_ground_state_energy_reaches_exact(optimizer: str) -> None:
    task = GroundState(H2_2Q)
    ansatz = Circuit(
        2,
        (
            op("ry", 0, params=[0]),
            op("ry", 1, params=[0]),
            op("cx", 0, 1),
            op("ry", 0, params=[0]),
            op("ry", 1, params=[0]),
        ),
    )
    result = fit_parameters(
        ansatz, task, optimizer=optimizer, steps=100 if optimizer == "lbfgs" else 400, restarts=3, seed=0
    )
    assert result.loss == pytest.approx(task.exact_energy, abs=1e-6)
    assert H2_2Q.expectation(result.circuit.final_state()) == pytest.approx(result.loss, abs=1e-9)


def test_fits_hadamard_up_to_global_phase() -> None:
    zyz = Circuit(1, (op("rz", 0, params=[0.3]), op("ry", 0, params=[0.2]), op("rz", 0, params=[0.1])))
    result = fit_parameters(zyz, UnitarySynthesis(get_gate("h").matrix()), restarts=4, seed=1)
    assert result.loss < 1e-10


def test_seeded_restarts_are_reproducible() -> None:
    ansatz = Circuit(2, (op("rx", 0, params=[0]), op("cz", 0, 1), op("ry", 1, params=[0])))
    runs = [fit_parameters(ansatz, GroundState(H2_2Q), restarts=3, seed=7, steps=5) for _ in range(2)]
    assert runs[0].circuit.params == runs[1].circuit.params


def test_bad_arguments() -> None:
    with pytest.raises(QasError, match="qubits"):
        fit_parameters(Circuit(3), GroundState(H2_2Q))
    with pytest.raises(QasError, match="unknown optimizer"):
        fit_parameters(Circuit(2), GroundState(H2_2Q), optimizer="sgd")  # type: ignore[arg-type]
