"""Numerical synthesis: skeleton derivatives, fits at the parameter bound, and its place in qas.compile."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.linalg
import torch
from scipy.stats import unitary_group
from test_cli import run_json

import qas
from qas import numerical_synthesis as numerical_synthesis_module
from qas.circuit import Circuit, op
from qas.cli import main
from qas.errors import QasError
from qas.linalg import state_fidelity, unitary_fidelity
from qas.numerical_synthesis import (
    approximate_synthesis,
    cnots_on_each_qubit,
    leaf_tolerance,
    numerical_synthesis,
    remove_cnots,
    search_below_bound,
)
from qas.pauli import PauliSum
from qas.sim import final_state
from qas.skeletons import (
    all_pairs,
    cnot_skeleton,
    fit_skeletons,
    line_pairs,
    parameter_bound,
    sequential_skeleton,
    skeleton_circuit,
    values_and_derivatives,
)
from qas.targets import named_unitary
from qas.translate import translate


def haar_unitary(n: int, seed: int) -> np.ndarray:
    return unitary_group.rvs(2**n, random_state=np.random.default_rng(seed))


def test_parameter_bounds_are_the_published_counts() -> None:
    # Shende, Markov & Bullock: 3, 14, 61 CNOTs for generic 2-4 qubit unitaries; states: (2^(n+1) - 2n - 2) / 4.
    assert [parameter_bound(n) for n in (2, 3, 4)] == [3, 14, 61]
    assert [parameter_bound(n, state=True) for n in (2, 3, 4, 5, 6)] == [1, 2, 6, 13, 29]
    assert sequential_skeleton(all_pairs(3), 4) == ((0, 1), (0, 2), (1, 2), (0, 1))
    assert sequential_skeleton(line_pairs(4), 4) == ((0, 1), (1, 2), (2, 3), (0, 1))


@pytest.mark.parametrize("columns", [8, 1])  # a unitary (every basis state) and a state (|000>)
def test_derivatives_match_finite_differences(columns: int) -> None:
    skeletons = [sequential_skeleton(all_pairs(3), 3), sequential_skeleton(line_pairs(3), 3)]
    angles = torch.as_tensor(np.random.default_rng(0).uniform(-np.pi, np.pi, (2, 9, 3)))
    start = torch.eye(8, dtype=torch.complex128)[:columns]
    values, derivatives = values_and_derivatives(3, skeletons, angles, start)
    for row, skeleton in enumerate(skeletons):
        expected = skeleton_circuit(3, skeleton, angles[row]).unitary()[:, :columns].T
        # Wrapping the angles changes the circuit by a global phase at most.
        overlap = np.vdot(expected.ravel(), values[row].numpy().ravel()) / columns
        assert abs(abs(overlap) - 1) < 1e-12
    step = 1e-6
    for index in (0, 4, 8, 13, 26):
        shifted = angles.clone().reshape(2, -1)
        shifted[:, index] += step
        up = values_and_derivatives(3, skeletons, shifted.reshape(angles.shape), start)[0]
        shifted[:, index] -= 2 * step
        down = values_and_derivatives(3, skeletons, shifted.reshape(angles.shape), start)[0]
        assert torch.allclose((up - down) / (2 * step), derivatives[:, index], atol=1e-8)


def test_a_skeleton_refits_a_circuit_of_its_own_shape() -> None:
    skeleton = sequential_skeleton(line_pairs(3), 5)
    source = skeleton_circuit(3, skeleton, np.random.default_rng(1).uniform(-np.pi, np.pi, (13, 3)))
    scores, circuits = fit_skeletons(source.unitary(), [skeleton], restarts=4)
    assert scores[0] < 1e-12 and 1 - unitary_fidelity(source.unitary(), circuits[0].unitary()) < 1e-12


def test_haar_three_qubit_unitary_at_the_bound() -> None:
    target = haar_unitary(3, 2)
    circuit = numerical_synthesis(target, fewer_than=19)
    assert circuit is not None and circuit.cnot_count == 14
    assert 1 - unitary_fidelity(target, circuit.unitary()) < 1e-12


def test_haar_five_qubit_state_in_fourteen_cnots() -> None:
    # Plesch-Brukner (the exact method) takes 24, Qiskit's StatePreparation 26.
    psi = haar_unitary(5, 3)[:, 0]
    circuit = numerical_synthesis(psi, fewer_than=24)
    assert circuit is not None and circuit.cnot_count == 14
    assert state_fidelity(psi, final_state(circuit)) > 1 - 1e-12


def test_none_when_nothing_below_the_limit_fits() -> None:
    assert numerical_synthesis(haar_unitary(3, 4), fewer_than=14) is None  # the bound is 14: nothing below it fits


def test_compile_takes_the_shorter_of_exact_and_numerical() -> None:
    haar = qas.compile(haar_unitary(3, 5), method="numerical", gates="ibm-native")
    assert haar.method == "numerical" and haar.circuit.cnot_count == 14 and haar.infidelity < 1e-12
    assert {o.gate for o in haar.circuit} <= {"rz", "sx", "x", "cx"}
    # Exact synthesis's 7 CNOTs are below the bound of 14; the search below it finds the Toffoli's 6.
    toffoli = qas.compile("toffoli", method="numerical")
    assert toffoli.method == "numerical" and toffoli.circuit.cnot_count == 6 and toffoli.infidelity < 1e-12
    ghz = qas.compile("state:ghz4", method="numerical")
    assert ghz.method == "exact" and ghz.circuit.cnot_count == 3


def test_on_a_device_numerical_skeletons_follow_a_line_unless_every_pair_is_coupled() -> None:
    # A line of neighbours routes onto ibm-line without SWAPs: the device circuit keeps the 7 CNOTs.
    result = qas.compile(haar_unitary(4, 6)[:, 0], device="ibm-line")
    assert result.method == "numerical" and result.circuit.cnot_count == 7 and result.infidelity < 1e-12
    assert result.export is not None and result.export.verified and result.export.circuit.two_qubit_count == 7
    assert {tuple(sorted(o.qubits)) for o in result.circuit if len(o.qubits) == 2} == {(0, 1), (1, 2), (2, 3)}
    # A unitary's candidates are compared as routed: the Toffoli's line skeleton of 8 CNOTs needs no SWAPs, where
    # exact synthesis's 7 CNOTs (pairs of every kind) come to more on the line.
    toffoli = qas.compile("toffoli", method="numerical", device="ibm-line")
    assert toffoli.method == "numerical" and toffoli.circuit.cnot_count == 8 and toffoli.infidelity < 1e-12
    assert toffoli.export is not None and toffoli.export.verified and toffoli.export.circuit.two_qubit_count == 8
    exact = qas.compile("toffoli", method="exact", device="ibm-line")
    assert exact.export is not None and exact.export.circuit.two_qubit_count > 8
    ion = qas.compile(haar_unitary(4, 6)[:, 0], device="ion-all-to-all")
    assert ion.method == "numerical" and ion.circuit.two_qubit_count == 7
    assert (0, 2) in {tuple(sorted(o.qubits)) for o in ion.circuit if len(o.qubits) == 2}


def test_numerical_refuses_options_and_targets_too_large() -> None:
    with pytest.raises(QasError, match="numerical synthesis handles unitaries of at most 5 qubits, the target has 6"):
        qas.compile(haar_unitary(6, 0), method="numerical")
    with pytest.raises(QasError, match="the numerical method takes no options, got seed"):
        qas.compile("toffoli", method="numerical", seed=1)
    # auto does not fit targets above the limit: exact synthesis answers.
    assert qas.compile(haar_unitary(7, 0)[:, 0], method="auto").method == "exact"


def test_cli_compiles_with_the_numerical_method(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "compile", "unitary:qft3", "--method", "numerical")
    assert data["method"] == "numerical" and data["cnot_count"] == 6 and data["infidelity"] < 1e-12
    assert main(["compile", "unitary:qft3", "--method", "numerical", "--tolerance", "nan"]) == 2
    assert "tolerance is an infidelity" in capsys.readouterr().err


def test_the_search_tries_a_few_counts_above_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[int] = []

    def counting(target: np.ndarray, skeletons: list, **kwargs: Any) -> tuple[np.ndarray, list]:
        tried.append(len(skeletons[0]))
        return fit_skeletons(target, skeletons, **kwargs)

    monkeypatch.setattr(numerical_synthesis_module, "fit_skeletons", counting)
    # A negative tolerance: no fit is accepted, so the search runs its whole range (the bound, 3, and two more).
    assert numerical_synthesis(haar_unitary(2, 0), fewer_than=100, tolerance=-1.0) is None
    assert tried == [3, 4, 5]


def test_a_skeleton_without_cnots_fits_a_product() -> None:
    product = np.kron(haar_unitary(1, 0), haar_unitary(1, 1))
    scores, circuits = fit_skeletons(product, [()], restarts=2)
    assert scores[0] < 1e-12 and circuits[0].cnot_count == 0
    assert 1 - unitary_fidelity(product, circuits[0].unitary()) < 1e-12


def random_skeleton_unitary(skeleton: tuple[tuple[int, int], ...], seed: int) -> np.ndarray:
    angles = np.random.default_rng(seed).uniform(-np.pi, np.pi, (3 + 2 * len(skeleton), 3))
    return skeleton_circuit(3, skeleton, angles).unitary()


def test_the_search_below_the_bound_finds_a_short_circuit_bottom_up() -> None:
    # Every skeleton of up to 4 CNOTs is fitted: a random 4-CNOT circuit comes back with its own count, where the
    # sequential skeleton takes the bound's 14.
    target = random_skeleton_unitary(((1, 2), (0, 1), (1, 2), (0, 2)), seed=1)
    circuit = search_below_bound(target, 14, all_pairs(3))
    assert circuit is not None and circuit.cnot_count == 4
    assert 1 - unitary_fidelity(target, circuit.unitary()) < 1e-12
    assert search_below_bound(haar_unitary(3, 2), 14, all_pairs(3)) is None  # a generic target has nothing below


def test_a_bottom_up_search_that_tried_every_shorter_skeleton_skips_the_removal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Asked to beat 4 CNOTs, every skeleton of 0-3 is fitted and none fits: nothing below the bound is left to try.
    target = random_skeleton_unitary(((1, 2), (0, 1), (1, 2), (0, 2)), seed=1)
    removals: list[int] = []
    monkeypatch.setattr(numerical_synthesis_module, "remove_cnots", lambda *args, **kwargs: removals.append(1))
    assert search_below_bound(target, 4, all_pairs(3)) is None and removals == []
    assert search_below_bound(haar_unitary(3, 2), 14, all_pairs(3)) is None and len(removals) == 3  # 3 orders


def test_removing_cnots_from_the_bound_reaches_the_fredkin_gates_seven() -> None:
    # Fredkin (controlled SWAP) takes 7 CNOTs; exact synthesis writes 8, the sequential skeleton the bound's 14.
    target = named_unitary("fredkin")
    for pairs in (all_pairs(3), [(0, 2), (1, 2), (0, 1)]):
        skeleton = sequential_skeleton(pairs, 14)
        circuit = remove_cnots(target, skeleton, all_pairs(3), restarts=(2,), iterations=30, max_rows=400)
        assert circuit is not None and circuit.cnot_count == 7
        assert 1 - unitary_fidelity(target, circuit.unitary()) < 1e-12
    # The work bound: no round starts that would pass it (14 removals from 2 starts each are 28 fits).
    assert remove_cnots(target, skeleton, all_pairs(3), restarts=(2,), iterations=30, max_rows=27) is None


def test_cnot_skeleton_drops_directions_and_one_qubit_gates() -> None:
    circuit = Circuit(3, (op("h", 0), op("cx", 2, 0), op("cx", 1, 2), op("u3", 1, params=[0.1, 0.2, 0.3])))
    assert cnot_skeleton(circuit) == ((0, 2), (1, 2))
    assert len(cnot_skeleton(Circuit(3, (op("ccx", 0, 1, 2),)))) == 6  # written in u3/cx first


def test_a_three_qubit_circuit_target_loses_the_cnots_its_unitary_does_not_need(tmp_path) -> None:
    # Two Toffolis with a rotation between: 12 CNOTs in IBM's gates, below the bound, so auto fits nothing from the
    # bound; CNOTs removed from the circuit's own skeleton leave 10.
    circuit = Circuit(3, (op("ccx", 0, 1, 2), op("rx", 0, params=[0.3]), op("ccx", 0, 2, 1)))
    assert translate(circuit, "ibm-native", optimize=True).cnot_count == 12
    path = tmp_path / "c.qasm"
    path.write_text(circuit.to_qasm("2.0"))
    result = qas.compile(str(path), gates="ibm-native", seed=0)
    assert result.method == "numerical" and result.circuit.cnot_count == 10 and result.infidelity < 1e-12
    assert [name for name, _ in result.attempts] == ["diffusion", "exact", "input", "numerical"]
    # The exact method does not search: the circuit itself is the shortest it has.
    assert qas.compile(str(path), method="exact", gates="ibm-native").circuit.cnot_count == 12


def test_each_qubit_needs_as_many_cnots_as_its_operator_schmidt_rank_says() -> None:
    assert cnots_on_each_qubit(haar_unitary(3, 0)) == [2, 2, 2]  # rank 4 everywhere: at least 2 CNOTs on each
    assert cnots_on_each_qubit(named_unitary("toffoli")) == [1, 1, 1]
    assert cnots_on_each_qubit(np.kron(named_unitary("cx"), haar_unitary(1, 0))) == [1, 1, 0]
    assert cnots_on_each_qubit(np.eye(8)) == [0, 0, 0]


ZZ = np.diag([1.0, -1.0, -1.0, 1.0])


def near_two_cnot_unitary(angle: float) -> np.ndarray:
    """A random two-CNOT circuit followed by ``exp(-i angle ZZ)``: a generic unitary (three CNOTs exactly) near two."""
    angles = np.random.default_rng(0).uniform(-np.pi, np.pi, (6, 3))
    return scipy.linalg.expm(-1j * angle * ZZ) @ skeleton_circuit(2, ((0, 1), (0, 1)), angles).unitary()


def test_a_tolerance_trades_fidelity_for_cnots(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    target = near_two_cnot_unitary(0.03)
    exact = qas.compile(target, method="numerical")
    assert exact.circuit.cnot_count == 3 and exact.infidelity < 1e-12
    approximate = qas.compile(target, method="numerical", tolerance=1e-3)
    assert approximate.circuit.cnot_count == 2 and 1e-5 < approximate.infidelity <= 1e-3
    assert approximate.method == "numerical"
    # Tighter than the two-CNOT circuit's infidelity, the answer is exact again.
    assert qas.compile(target, method="numerical", tolerance=1e-5).circuit.cnot_count == 3
    np.save(tmp_path / "u.npy", target)
    data = run_json(capsys, "compile", str(tmp_path / "u.npy"), "--method", "numerical", "--tolerance", "1e-3")
    assert data["cnot_count"] == 2 and data["infidelity"] <= 1e-3
    # States too: a Haar-random four-qubit state takes 7 CNOTs exactly, 6 within 1e-2 (measured 9e-4).
    psi = haar_unitary(4, 3)[:, 0]
    assert qas.compile(psi, method="numerical").circuit.cnot_count == 7
    state = qas.compile(psi, method="numerical", tolerance=1e-2)
    assert state.circuit.cnot_count == 6 and 0 < state.infidelity <= 1e-2
    assert 1 - state_fidelity(psi, final_state(state.circuit)) == pytest.approx(state.infidelity)


def test_approximate_synthesis_of_a_haar_random_three_qubit_unitary_takes_twelve_cnots() -> None:
    # This target's best fits (32 starts): 1.0e-3 at 12 CNOTs, 1e-2 at 11.
    target = haar_unitary(3, 5)
    circuit = approximate_synthesis(target, 14, all_pairs(3), tolerance=3e-3)
    assert circuit is not None and circuit.cnot_count == 12
    assert 1e-4 < 1 - unitary_fidelity(target, circuit.unitary()) <= 3e-3
    assert approximate_synthesis(target, 14, all_pairs(3), tolerance=1e-9) is None


def test_factors_within_their_leaf_tolerance_keep_the_product_within_the_whole() -> None:
    # exp(i t H) with H = diag(+-1) is at infidelity sin(t)^2 from the identity, and m aligned factors add their
    # angles: the split is tight. Factors in other directions stay within it.
    m, tolerance = 4, 1e-3
    angle = np.arcsin(np.sqrt(leaf_tolerance(tolerance, m)))
    aligned = np.diag(np.exp(1j * angle * np.array([1, -1, 1, -1])))
    assert 1 - unitary_fidelity(np.eye(4), aligned) == pytest.approx(leaf_tolerance(tolerance, m))
    assert 1 - unitary_fidelity(np.eye(4), np.linalg.matrix_power(aligned, m)) == pytest.approx(tolerance)
    rng = np.random.default_rng(0)
    product = np.eye(4)
    for _ in range(m):
        w = unitary_group.rvs(4, random_state=rng)
        product = w @ aligned @ w.conj().T @ product
    assert 1 - unitary_fidelity(np.eye(4), product) <= tolerance


def test_within_a_tolerance_a_weakly_entangling_gate_needs_no_cnot() -> None:
    # CX on qubits 0, 1, then exp(-0.003 i ZZ) on 1, 2: exactly, qubit 2 needs a CNOT; within 1e-4 it does not.
    cx = np.kron(named_unitary("cx"), np.eye(2))
    target = scipy.linalg.expm(-1j * 0.003 * np.kron(np.eye(2), ZZ)) @ cx
    assert cnots_on_each_qubit(target) == [1, 2, 1]
    assert cnots_on_each_qubit(target, 1e-4) == [1, 1, 0]


def test_a_controlled_three_qubit_unitary_is_demultiplexed() -> None:
    # Controlled on qubit 2 of four: two fitted three-qubit unitaries (14 CNOTs each) around a multiplexed Rz (8);
    # fitted as one it takes the bound's 61, and the Shannon decomposition 52.
    block = unitary_group.rvs(8, random_state=np.random.default_rng(1))
    controlled = scipy.linalg.block_diag(np.eye(8), block)  # control on qubit 0
    target = controlled.reshape([2] * 8).transpose([1, 2, 0, 3, 5, 6, 4, 7]).reshape(16, 16)  # ... moved to qubit 2
    assert numerical_synthesis_module.multiplexing_qubit(target) == 2
    assert numerical_synthesis_module.multiplexing_qubit(unitary_group.rvs(16, random_state=0)) is None
    result = qas.compile(target, method="numerical")
    assert result.circuit.cnot_count == 36 and result.infidelity < 1e-12


def test_nearest_neighbour_trotter_steps_on_four_qubits_are_found_as_line_blocks() -> None:
    # Fitted from the bound the Heisenberg step took 62 CNOTs; as one general two-qubit gate per bond, 9, and an
    # Ising step's blocks lose CNOTs to removal (ZZ needs 2 per bond).
    def step(terms: list[str]) -> np.ndarray:
        return scipy.linalg.expm(-0.3j * PauliSum(4, tuple((1.0, t) for t in terms)).matrix())

    bonds = [("I" * a + "{0}{0}" + "I" * (2 - a)) for a in range(3)]
    heisenberg = np.eye(16)
    for bond in bonds:
        heisenberg = step([bond.format(p) for p in "XYZ"]) @ heisenberg
    ising = step(["I" * a + "X" + "I" * (3 - a) for a in range(4)]) @ step([b.format("Z") for b in bonds])
    haar = unitary_group.rvs(16, random_state=0)
    assert [numerical_synthesis_module.cnots_across(haar, range(k + 1)) for k in range(3)] == [2, 4, 2]
    assert [numerical_synthesis_module.cnots_across(heisenberg, range(k + 1)) for k in range(3)] == [2, 2, 2]
    assert qas.compile(heisenberg, method="numerical").circuit.cnot_count == 9
    assert qas.compile(ising, method="numerical").circuit.cnot_count == 6


def test_a_five_qubit_multiplexor_is_not_demultiplexed_where_bound_leaves_cannot_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # CCCCX: exact synthesis writes 64 CNOTs; two four-qubit leaves at their bound (61) and the multiplexed Rz (16)
    # would take 138, and its leaves are generic, so no leaf is fitted.
    def refuse(*args: object, **kwargs: object) -> Circuit:
        raise AssertionError("a leaf was fitted")

    monkeypatch.setattr(numerical_synthesis_module, "_block", refuse)
    target = np.eye(32)
    target[30:, 30:] = [[0, 1], [1, 0]]
    result = qas.compile(target, method="numerical")
    assert result.method == "exact" and result.circuit.cnot_count == 64
