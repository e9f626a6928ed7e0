"""The torch backend against the numpy kernel and the gate registry."""

import numpy as np
import pytest
import torch
from sim_helpers import random_circuit

from qas import GATES, Circuit, PauliSum, op
from qas.errors import QasError
from qas.sim import torch_backend as tb
from qas.sim.statevector import apply_operations, final_state

torch.set_num_threads(1)


@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_matrices_match_registry(name: str) -> None:
    spec = GATES[name]
    params = np.random.default_rng(0).uniform(-3, 3, (4, spec.num_params))
    batch = tb.gate_matrices(name, torch.tensor(params), dtype=torch.complex128).numpy()
    for row, matrix in zip(params, batch, strict=True):
        np.testing.assert_allclose(matrix, spec.matrix(*row), atol=1e-12)
    single = tb.gate_matrices(name, torch.tensor(params[0]), dtype=torch.complex128).numpy()
    np.testing.assert_allclose(single, spec.matrix(*params[0]), atol=1e-12)


def test_state_and_unitary_match_numpy_kernel() -> None:
    rng = np.random.default_rng(1)
    for n in (1, 2, 3, 5):
        c = random_circuit(n, 20, rng)
        psi = tb.circuit_state(c, dtype=torch.complex128).numpy()
        np.testing.assert_allclose(psi, final_state(c), atol=1e-10)
        u = tb.circuit_unitary(c, dtype=torch.complex128).numpy()
        np.testing.assert_allclose(u, c.unitary(), atol=1e-10)
        # complex64 default agrees to single precision
        np.testing.assert_allclose(tb.circuit_state(c).numpy(), final_state(c), atol=1e-5)


def test_batched_params_and_initial_state() -> None:
    rng = np.random.default_rng(2)
    c = random_circuit(3, 15, rng)
    params = torch.tensor(rng.uniform(-3, 3, (5, c.parameter_count)))
    init = torch.tensor(final_state(random_circuit(3, 5, rng)))
    states = tb.circuit_state(c, params, init).numpy()
    unitaries = tb.circuit_unitary(c, params).numpy()
    assert states.shape == (5, 8) and unitaries.shape == (5, 8, 8)
    for b in range(5):
        cb = c.with_params(params[b].tolist())
        np.testing.assert_allclose(states[b], final_state(cb, init.numpy()), atol=1e-10)
        np.testing.assert_allclose(unitaries[b], cb.unitary(), atol=1e-10)


def test_batch_of_different_circuits() -> None:
    rng = np.random.default_rng(3)
    circuits = [random_circuit(3, int(rng.integers(0, 12)), rng) for _ in range(40)]
    unitaries = tb.batch_unitaries(circuits, dtype=torch.complex128).numpy()
    states = tb.batch_states(circuits, dtype=torch.complex128).numpy()
    for c, u, psi in zip(circuits, unitaries, states, strict=True):
        np.testing.assert_allclose(u, c.unitary(), atol=1e-10)
        np.testing.assert_allclose(psi, final_state(c), atol=1e-10)


def test_pauli_expectation_matches_numpy_and_is_differentiable() -> None:
    h = PauliSum(3, ((0.5, "XXI"), (-0.3, "ZZZ"), (0.2, "YIY"), (0.7, "IZI"), (0.1, "XYZ"), (-0.4, "XYI")))
    rng = np.random.default_rng(4)
    c = random_circuit(3, 12, rng)
    params = torch.tensor(c.params, dtype=torch.float64, requires_grad=True)
    energy = tb.pauli_expectation(h, tb.circuit_state(c, params))
    assert energy.item() == pytest.approx(h.expectation(final_state(c)), abs=1e-10)
    energy.backward()
    # central finite difference on the first parameter
    step = 1e-6
    shifted = [c.with_params([p + s * (i == 0) for i, p in enumerate(c.params)]) for s in (step, -step)]
    fd = (h.expectation(final_state(shifted[0])) - h.expectation(final_state(shifted[1]))) / (2 * step)
    assert params.grad[0].item() == pytest.approx(fd, abs=1e-6)


def test_bad_inputs_raise() -> None:
    c = Circuit(2, (op("rx", 0, params=[0.1]), op("cx", 0, 1)))
    with pytest.raises(QasError, match="parameters"):
        tb.circuit_state(c, torch.zeros(3))
    with pytest.raises(QasError, match="takes 1 parameter"):
        tb.gate_matrices("rx", None)
    with pytest.raises(QasError, match="same qubit count"):
        tb.batch_unitaries([c, Circuit(3)])
    with pytest.raises(QasError, match="unknown gate"):
        tb.gate_matrices("foo", None)


def test_heterogeneous_one_gate_steps_match_numpy() -> None:
    rng = np.random.default_rng(5)
    states = np.stack([random_circuit(3, 6, rng).final_state() for _ in range(50)])
    steps = [random_circuit(3, 1, rng).operations[0] for _ in range(50)]
    out = tb.apply_operations(torch.from_numpy(states), steps, 3).numpy()
    np.testing.assert_allclose(out, apply_operations(states, steps, 3), atol=1e-12)
