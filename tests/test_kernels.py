import cirq
import numpy as np

from qas import Circuit, PauliSum, get_gate, op
from qas.noise import NoiseModel, bit_flip, depolarize
from qas.sim.density import final_density_matrix
from qas.sim.statevector import apply_operations, final_state, zero_state


def _random_circuit(n: int, gates: int, rng: np.random.Generator) -> Circuit:
    kinds = ["h", "rx", "ry", "rz", "t"] + (["cx", "cz"] if n > 1 else [])
    ops = []
    for _ in range(gates):
        kind = str(rng.choice(kinds))
        if kind in ("cx", "cz"):
            a, b = rng.choice(n, 2, replace=False)
            ops.append(op(kind, int(a), int(b)))
        else:
            params = [float(rng.uniform(-3, 3))] if kind.startswith("r") else []
            ops.append(op(kind, int(rng.integers(n)), params=params))
    return Circuit(n, tuple(ops))


def _cirq_circuit(c: Circuit) -> cirq.Circuit:
    q = cirq.LineQubit.range(c.n_qubits)
    return cirq.Circuit(
        [cirq.IdentityGate(c.n_qubits).on(*q)]
        + [get_gate(o.gate).cirq_gate(*o.params).on(*(q[i] for i in o.qubits)) for o in c]
    )


def test_unitary_and_state_match_cirq() -> None:
    rng = np.random.default_rng(1)
    for n in (1, 2, 3, 5):
        c = _random_circuit(n, 20, rng)
        u = cirq.unitary(_cirq_circuit(c))
        np.testing.assert_allclose(c.unitary(), u, atol=1e-10)
        np.testing.assert_allclose(c.final_state(), u[:, 0], atol=1e-10)


def test_batched_heterogeneous_step_equals_single_steps() -> None:
    ops = [op("h", 0), op("cx", 1, 2), op("rx", 2, params=[0.7]), op("cx", 1, 2)]
    states = zero_state(3, batch=4)
    states[:, :] = final_state(Circuit(3, (op("h", 1), op("ry", 2, params=[0.4]))))
    out = apply_operations(states, ops, 3)
    for b, o in enumerate(ops):
        np.testing.assert_allclose(out[b], final_state(Circuit(3, (o,)), states[b]), atol=1e-12)


def test_pauli_expectation_matches_dense_and_cirq() -> None:
    rng = np.random.default_rng(2)
    h = PauliSum(3, ((0.5, "XYZ"), (-0.3, "ZZI"), (0.2, "IYY"), (1.1, "III"), (0.7, "YXI")))
    psi = rng.normal(size=8) + 1j * rng.normal(size=8)
    psi /= np.linalg.norm(psi)
    q = cirq.LineQubit.range(3)
    ps = sum(c * cirq.PauliString({q[i]: getattr(cirq, p) for i, p in enumerate(s) if p != "I"}) for c, s in h.terms)
    expected = ps.expectation_from_state_vector(psi.astype(np.complex64), {qq: i for i, qq in enumerate(q)}).real
    assert abs(h.expectation(psi) - expected) < 1e-6
    assert abs(h.expectation(np.outer(psi, psi.conj())) - expected) < 1e-6


def test_density_matrix_matches_cirq_noisy_simulation() -> None:
    c = Circuit(2, (op("h", 0), op("cx", 0, 1), op("rx", 1, params=[0.3])))
    noise = NoiseModel(
        after_one_qubit=depolarize(0.05), after_two_qubit=depolarize(0.1, 2), before_measurement=bit_flip(0.02)
    )
    rho = final_density_matrix(c, noise, include_readout=True)
    q = cirq.LineQubit.range(2)
    cc = cirq.Circuit(
        cirq.H(q[0]),
        cirq.depolarize(0.05).on(q[0]),
        cirq.CNOT(q[0], q[1]),
        cirq.depolarize(0.1, n_qubits=2).on(*q),
        cirq.rx(0.3).on(q[1]),
        cirq.depolarize(0.05).on(q[1]),
        cirq.bit_flip(0.02).on_each(*q),
    )
    expected = cirq.DensityMatrixSimulator(dtype=np.complex128).simulate(cc).final_density_matrix
    np.testing.assert_allclose(rho, expected, atol=1e-10)
