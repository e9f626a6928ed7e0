"""Post-processing of diffusion samples: table completion and simplification (discrete gates) and skeleton
ansatzes (rotations)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qas.circuit import Circuit, op
from qas.encoding import CircuitEncoding
from qas.generators.diffusion.lookup import ShortCircuits, short_circuits, unitary_keys
from qas.generators.diffusion.placements import PlacementVocabulary
from qas.generators.diffusion.refine import prune, refine
from qas.generators.diffusion.skeleton import ansatz, by_frequency, neighbours, rotation_gates, skeletons_of

torch.set_num_threads(1)

DISCRETE = PlacementVocabulary(CircuitEncoding(("h", "cx", "z", "x", "ccx", "swap"), 3, 12))
ROTATIONS = PlacementVocabulary(CircuitEncoding(("h", "cx", "rx", "ry", "rz"), 3, 12))


@pytest.fixture(scope="module")
def table() -> ShortCircuits:
    return short_circuits(DISCRETE, DISCRETE.allowed(), depth=3)


def steps_of(vocab: PlacementVocabulary, circuit: Circuit) -> list[int]:
    return [int(p) for p in vocab.encode(circuit)[0] if p]


def same_unitary(a: np.ndarray, b: np.ndarray) -> bool:
    return abs(np.trace(a.conj().T @ b)) / len(a) > 1 - 1e-9


def test_keys_ignore_global_phase_only() -> None:
    u = Circuit(3, (op("h", 0), op("ccx", 0, 1, 2))).unitary()
    other = Circuit(3, (op("h", 1), op("ccx", 0, 1, 2))).unitary()
    keys = unitary_keys(np.stack([u, np.exp(0.7j) * u, -u, other]))
    assert keys[0] == keys[1] == keys[2] != keys[3]


def test_table_holds_each_short_unitary_with_its_cheapest_circuit(table) -> None:
    assert len(table) > 1000
    swap_then_cx = Circuit(3, (op("swap", 0, 1), op("cx", 0, 1))).unitary()  # 4 CX as written, 2 at best
    best = table.circuits[unitary_keys(swap_then_cx[None])[0]]
    assert table.cost(best) == (2, 2)
    assert same_unitary(DISCRETE.to_circuit(np.array(best)).unitary(), swap_then_cx)


def test_completion_replaces_the_wrong_window_of_a_sample(table) -> None:
    truth = Circuit(3, (op("h", 0), op("cx", 0, 1), op("ccx", 0, 1, 2), op("x", 2), op("swap", 1, 2), op("h", 2)))
    # The middle is wrong (z, cx instead of ccx, x): a prefix and a suffix are right.
    wrong = Circuit(3, (op("h", 0), op("cx", 0, 1), op("z", 1), op("cx", 1, 2), op("swap", 1, 2), op("h", 2)))
    samples = np.zeros((2, 12), dtype=np.int64)
    samples[0, :6] = steps_of(DISCRETE, wrong)
    samples[1, :1] = steps_of(DISCRETE, Circuit(3, (op("x", 0),)))  # far off: no window fixes it
    completed = table.complete(truth.unitary(), samples)
    assert completed and all(row == 0 for _, row in completed)
    for placements, _ in completed:
        assert same_unitary(DISCRETE.to_circuit(np.array(placements)).unitary(), truth.unitary())
    assert table.complete(truth.unitary(), samples[1:]) == []


def test_simplify_keeps_the_unitary_and_cuts_cx(table) -> None:
    circuit = Circuit(
        3, (op("h", 0), op("h", 0), op("swap", 0, 1), op("cx", 0, 1), op("x", 2), op("cx", 1, 2), op("cx", 1, 2))
    )
    simpler = table.simplify(steps_of(DISCRETE, circuit))
    assert table.cost(simpler) == (2, 3)  # swap + cx -> two CX; h h and cx cx cancel; x stays
    assert same_unitary(DISCRETE.to_circuit(np.array(simpler)).unitary(), circuit.unitary())


def test_skeleton_ansatz_fits_what_the_sample_missed() -> None:
    truth = Circuit(
        3,
        (
            op("ry", 0, params=[1.1]),
            op("cx", 0, 1),
            op("rx", 1, params=[-2.0]),
            op("h", 2),
            op("cx", 1, 2),
            op("rz", 2, params=[0.4]),
        ),
    )
    # Samples with the right CX sequence but the wrong one-qubit gates, and a more frequent wrong skeleton.
    right = Circuit(3, (op("h", 0), op("cx", 0, 1), op("cx", 1, 2)))
    wrong = Circuit(3, (op("cx", 0, 2), op("rz", 1, params=[0.2])))
    samples = np.zeros((3, 12), dtype=np.int64)
    for row, circuit in enumerate([right, wrong, wrong]):
        steps = steps_of(ROTATIONS, circuit)
        samples[row, : len(steps)] = steps
    skeletons = by_frequency(skeletons_of(ROTATIONS, samples))
    assert [len(s) for s in skeletons] == [1, 2]
    rotations = rotation_gates(ROTATIONS, ROTATIONS.allowed())
    structures = ansatz(ROTATIONS, skeletons, rotations)
    assert structures.shape == (2, 9 + 2 * 7)  # Euler on 3 qubits, then per CX the gate and 2 x 3 rotations
    fitted = refine(ROTATIONS, truth.unitary(), structures, torch.zeros(*structures.shape, 1), seed=0)
    assert float(fitted.after[0]) > 1e-2 and float(fitted.after[1]) < 1e-9
    pruned, score = prune(ROTATIONS, truth.unitary(), structures[1], fitted.angles[1], 1e-9)
    circuit = ROTATIONS.to_circuit(pruned.numpy(), fitted.angles[1].numpy())
    assert score < 1e-9 and circuit.cnot_count == 2


def test_no_euler_ansatz_without_two_rotation_axes() -> None:
    assert rotation_gates(ROTATIONS, ROTATIONS.allowed(["h", "cx", "rz"])) is None
    rotations = rotation_gates(ROTATIONS, ROTATIONS.allowed(["cx", "rx", "rz"]))
    assert sorted(rotations) == ["rx", "rz"] and all(sorted(qubits) == [0, 1, 2] for qubits in rotations.values())
    structures = ansatz(ROTATIONS, [(steps_of(ROTATIONS, Circuit(3, (op("cx", 0, 1),)))[0],)], rotations)
    gates = [ROTATIONS.placements[i - 1].gate for i in structures[0].tolist()]
    assert gates == ["rz", "rx", "rz"] * 3 + ["cx"] + ["rz", "rx", "rz"] * 2


def test_skeletons_ignore_cnot_direction_and_have_one_edit_neighbours() -> None:
    cx01, cx10, cx02, cx12 = (
        steps_of(ROTATIONS, Circuit(3, (op("cx", a, b),)))[0] for a, b in [(0, 1), (1, 0), (0, 2), (1, 2)]
    )
    samples = np.array([[cx10, 0, 0], [cx01, 0, 0]])
    assert skeletons_of(ROTATIONS, samples) == [(cx01,), (cx01,)]
    found = neighbours(ROTATIONS, (cx01,), ROTATIONS.allowed())
    inserted = {(a, b) for a in (cx01, cx02, cx12) for b in (cx01, cx02, cx12) if cx01 in (a, b)}
    assert set(found) == {(), (cx02,), (cx12,)} | inserted and len(found) == 3 + 5
    only_01 = ROTATIONS.allowed(coupling=[(0, 1)])
    assert set(neighbours(ROTATIONS, (cx01,), only_01)) == {(), (cx01, cx01)}
