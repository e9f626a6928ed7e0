"""The simulator facade: every backend agrees, noise is exact or converges, randomness is seeded, errors are clear."""

import numpy as np
import pytest
from sim_helpers import random_circuit

from qas import Circuit, PauliSum, op, sim
from qas.errors import QasError
from qas.noise import NoiseModel, amplitude_damp, bit_flip, depolarize
from qas.sim import trajectories

NOISE = NoiseModel(
    after_one_qubit=depolarize(0.03), after_two_qubit=depolarize(0.05, 2), before_measurement=bit_flip(0.02)
)
H3 = PauliSum(3, ((0.5, "XXI"), (-0.3, "ZZZ"), (0.2, "YIY"), (0.7, "IZI"), (-1.0, "III")))
BACKENDS = ["numpy", "qsim", "cirq", "torch"]


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_backends_agree_on_random_circuits(n: int) -> None:
    rng = np.random.default_rng(n)
    for _ in range(3):
        c = random_circuit(n, 20, rng)
        init = random_circuit(n, 6, rng).final_state()
        reference = sim.final_state(c, backend="cirq")
        reference_from_init = sim.final_state(c, backend="cirq", initial_state=init)
        reference_unitary = sim.unitary(c, backend="cirq")
        for backend in BACKENDS:
            np.testing.assert_allclose(sim.final_state(c, backend=backend), reference, atol=1e-6)
            np.testing.assert_allclose(
                sim.final_state(c, backend=backend, initial_state=init), reference_from_init, atol=1e-6
            )
            np.testing.assert_allclose(sim.unitary(c, backend=backend), reference_unitary, atol=1e-6)


def test_noiseless_expectations_agree() -> None:
    c = random_circuit(3, 20, np.random.default_rng(7))
    values = [sim.expectation(c, H3, backend=b) for b in BACKENDS]
    assert max(values) - min(values) < 1e-6


def test_exact_noise_matches_cirq_density_matrix() -> None:
    c = random_circuit(3, 15, np.random.default_rng(8))
    noise = NoiseModel(
        after_one_qubit=amplitude_damp(0.1), after_two_qubit=depolarize(0.05), before_measurement=bit_flip(0.1)
    )
    for include_readout in (False, True):
        ours = sim.final_density_matrix(c, noise, include_readout=include_readout)
        ref = sim.final_density_matrix(c, noise, backend="cirq", include_readout=include_readout)
        np.testing.assert_allclose(ours, ref, atol=1e-10)
    assert sim.expectation(c, H3, noise=noise) == pytest.approx(
        sim.expectation(c, H3, noise=noise, backend="cirq"), abs=1e-10
    )


def test_trajectories_converge_to_exact_noise() -> None:
    c = random_circuit(3, 15, np.random.default_rng(9))
    exact = sim.expectation(c, H3, noise=NOISE, backend="cirq")
    # |H3| <= 2.7, so the trajectory mean of 4000 has a standard error below ~0.05; 4 sigma bounds below.
    qsim_value = sim.expectation(c, H3, noise=NOISE, backend="qsim", repetitions=4000, seed=1)
    assert qsim_value == pytest.approx(exact, abs=0.15)
    states = trajectories.sample_trajectories(c, NOISE, 4000, seed=2, include_readout=True)
    rho = trajectories.density_from_trajectories(states)
    exact_rho = sim.final_density_matrix(c, NOISE, include_readout=True)
    assert np.max(np.abs(rho - exact_rho)) < 0.05
    assert np.trace(rho).real == pytest.approx(1.0, abs=1e-12)


def test_trajectories_used_above_exact_limit() -> None:
    n = sim.EXACT_DENSITY_MAX_QUBITS + 1
    c = Circuit(n, tuple(op("x", q) for q in range(n)))
    flip = NoiseModel(after_one_qubit=bit_flip(0.5))
    z0 = PauliSum(n, ((1.0, "Z" + "I" * (n - 1)),))
    # Each qubit ends in |0> or |1> with probability 1/2, so <Z0> = 0 exactly and the estimate is a seeded mean of +-1.
    a = sim.expectation(c, z0, noise=flip, backend="numpy", repetitions=200, seed=3)
    b = sim.expectation(c, z0, noise=flip, backend="numpy", repetitions=200, seed=3)
    assert a == b and abs(a) < 0.3 and a != 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_sampling_is_seeded_and_follows_born_rule(backend: str) -> None:
    c = Circuit(2, (op("ry", 0, params=[2 * np.arccos(np.sqrt(0.8))]), op("cx", 0, 1)))
    bits = sim.sample(c, 2000, seed=5, backend=backend)
    assert bits.shape == (2000, 2) and set(np.unique(bits)) <= {0, 1}
    assert np.all(bits[:, 0] == bits[:, 1])  # perfectly correlated
    assert bits[:, 0].mean() == pytest.approx(0.2, abs=0.04)
    np.testing.assert_array_equal(bits, sim.sample(c, 2000, seed=5, backend=backend))


@pytest.mark.parametrize("backend", ["numpy", "qsim", "cirq"])
def test_noisy_sampling(backend: str) -> None:
    c = Circuit(1, (op("x", 0),))
    bits = sim.sample(c, 4000, noise=NoiseModel(before_measurement=bit_flip(0.25)), seed=6, backend=backend)
    assert bits.mean() == pytest.approx(0.75, abs=0.03)


def test_auto_picks_by_size() -> None:
    assert sim.resolve_backend("auto", 3) == "numpy"
    assert sim.resolve_backend("auto", sim.AUTO_QSIM_MIN_QUBITS) == "qsim"


def test_bad_inputs() -> None:
    c = Circuit(2, (op("h", 0),))
    with pytest.raises(QasError, match=r"unknown simulator backend 'qsm'\. Did you mean 'qsim'"):
        sim.final_state(c, backend="qsm")  # type: ignore[arg-type]
    with pytest.raises(QasError, match="expected 2"):
        sim.final_state(c, initial_state=np.ones(8) / np.sqrt(8))
    with pytest.raises(QasError, match="not normalised"):
        sim.final_state(c, initial_state=np.ones(4))
    with pytest.raises(QasError, match="repetitions must be at least 1"):
        sim.sample(c, 0)
    with pytest.raises(QasError, match="Hamiltonian acts on 3 qubits"):
        sim.expectation(c, H3)
    with pytest.raises(QasError, match="torch backend is noiseless"):
        sim.expectation(c, PauliSum(2, ((1.0, "ZZ"),)), noise=NOISE, backend="torch")
