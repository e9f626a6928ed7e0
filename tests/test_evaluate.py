"""The shared evaluator: fidelities, energies, noise, device checks, batch evaluation and bad input."""

import json
import math
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
from sim_helpers import random_circuit

import qas
from qas import Circuit, GroundState, PauliSum, StatePreparation, UnitarySynthesis, op, sim
from qas.errors import QasError
from qas.evaluate import Score
from qas.noise import NoiseModel, bit_flip, depolarize
from qas.targets import parse_task

BELL = np.array([1, 0, 0, 1]) / math.sqrt(2)
BELL_CIRCUIT = Circuit(2, (op("h", 0), op("cx", 0, 1)))
H2_2Q = PauliSum(2, ((-1.0524, "II"), (0.3979, "ZI"), (-0.3979, "IZ"), (-0.0113, "ZZ"), (0.1809, "XX")))
ANSATZ = Circuit(2, (op("ry", 0, params=[0]), op("ry", 1, params=[0]), op("cx", 0, 1), op("ry", 0, params=[0])))


@dataclass
class LinearDevice:
    """Fits circuits whose two-qubit gates act on neighbouring qubits only."""

    def fits(self, circuit: Circuit) -> bool:
        return all(abs(o.qubits[0] - o.qubits[-1]) == 1 for o in circuit if len(o.qubits) == 2)


def test_state_preparation_fidelity_and_metrics() -> None:
    score = qas.evaluate(BELL_CIRCUIT, StatePreparation(BELL, name="bell"))
    assert score.task == "state" and score.task_name == "bell"
    assert score.fidelity == pytest.approx(1.0, abs=1e-12)
    assert score.metrics == BELL_CIRCUIT.metrics() and score.fits_device is None
    half = qas.evaluate(Circuit(2, (op("h", 0),)), StatePreparation(BELL))
    assert half.fidelity == pytest.approx(0.25, abs=1e-12)  # |<Bell|+0>|^2


def test_unitary_fidelity_ignores_global_phase_and_matches_process_fidelity_when_noiseless() -> None:
    rz = Circuit(1, (op("rz", 0, params=[0.7]),))
    p = qas.get_gate("p").matrix(0.7)  # equals rz(0.7) up to a global phase
    assert qas.evaluate(rz, UnitarySynthesis(p)).fidelity == pytest.approx(1.0, abs=1e-12)
    c = random_circuit(2, 10, np.random.default_rng(0))
    target = random_circuit(2, 10, np.random.default_rng(1)).unitary()
    noiseless = qas.evaluate(c, UnitarySynthesis(target)).fidelity
    tiny_noise = NoiseModel(after_one_qubit=depolarize(0.0))
    assert qas.evaluate(c, UnitarySynthesis(target, noise=tiny_noise)).fidelity == pytest.approx(noiseless, abs=1e-10)


def test_noise_lowers_fidelity_by_the_expected_amount() -> None:
    # One depolarising channel of strength p after the H (on |+>): X leaves |+> alone, Y and Z turn it into |->, which
    # the CNOT maps to an orthogonal Bell state. So the fidelity is 1 - 2p/3.
    p = 0.09
    noise = NoiseModel(after_one_qubit=depolarize(p))
    state_score = qas.evaluate(BELL_CIRCUIT, StatePreparation(BELL, noise=noise))
    assert state_score.fidelity == pytest.approx(1 - 2 * p / 3, abs=1e-12)
    # The process fidelity of a single depolarised qubit identity against I is 1 - p.
    identity = Circuit(1, (op("i", 0),))
    unitary_score = qas.evaluate(identity, UnitarySynthesis(np.eye(2), noise=noise))
    assert unitary_score.fidelity == pytest.approx(1 - p, abs=1e-12)


def test_a_task_takes_noise_written_as_the_cli_writes_it() -> None:
    # The same spec as `--noise`: one depolarising channel after every one-qubit gate (as above, F = 1 - 2p/3).
    for task in (
        StatePreparation(BELL, noise="1q=depolarize:0.09"),
        parse_task("state:bell", noise="1q=depolarize:0.09"),
    ):
        assert task.noise == NoiseModel(after_one_qubit=depolarize(0.09))
        assert qas.evaluate(BELL_CIRCUIT, task).fidelity == pytest.approx(1 - 2 * 0.09 / 3, abs=1e-12)
    assert GroundState(H2_2Q, noise="depolarize:0.01").noise == NoiseModel(depolarize(0.01), depolarize(0.01))
    with pytest.raises(QasError, match=r"^noise must be a qas.NoiseModel or a spec like depolarize:0.01, got 5$"):
        StatePreparation(BELL, noise=5)  # type: ignore[arg-type]


def test_ground_state_is_fitted_and_scored_against_exact_energy() -> None:
    task = GroundState(H2_2Q, name="h2-toy")
    score = qas.evaluate(ANSATZ, task, fit_options={"restarts": 3, "seed": 0})
    assert score.task == "ground-state"
    assert score.energy_error == pytest.approx(0.0, abs=1e-6)
    assert score.energy == pytest.approx(task.exact_energy, abs=1e-6)
    assert H2_2Q.expectation(score.circuit.final_state()) == pytest.approx(score.energy, abs=1e-10)
    unfitted = qas.evaluate(ANSATZ, task, fit=False)
    assert unfitted.energy == pytest.approx(H2_2Q.expectation(ANSATZ.final_state()), abs=1e-12)
    noisy = qas.evaluate(ANSATZ, GroundState(H2_2Q, noise=NoiseModel(after_two_qubit=depolarize(0.1))))
    assert noisy.energy > score.energy + 1e-3


def test_device_check() -> None:
    far = Circuit(3, (op("cx", 0, 2),))
    target = StatePreparation(far.final_state())
    assert qas.evaluate(far, target, device=LinearDevice()).fits_device is False
    assert qas.evaluate(Circuit(3, (op("cx", 0, 1),)), target, device=LinearDevice()).fits_device is True
    with pytest.raises(QasError, match="fits"):
        qas.evaluate(far, target, device=42)  # type: ignore[arg-type]
    # by name: the all-to-all ion trap (native rx, ry, rz, cz) takes cz 0,2; the IBM line does not
    native = Circuit(3, (op("ry", 0, params=[1.0]), op("cz", 0, 2)))
    native_target = StatePreparation(native.final_state())
    assert qas.evaluate(native, native_target, device="ion-all-to-all").fits_device is True
    assert qas.evaluate(native, native_target, device="ibm-line").fits_device is False
    with pytest.raises(QasError, match="unknown device"):
        qas.evaluate(far, target, device="ibm-lin")


@pytest.mark.parametrize("kind", ["state", "unitary"])
def test_evaluate_many_matches_evaluate(kind: str) -> None:
    rng = np.random.default_rng(2)
    circuits = [random_circuit(3, int(rng.integers(1, 15)), rng) for _ in range(30)]
    circuits.append(circuits[0])  # repeated circuits get the same score
    source = random_circuit(3, 12, rng)
    task = StatePreparation(source.final_state()) if kind == "state" else UnitarySynthesis(source.unitary())
    batch = qas.evaluate_many(circuits, task, device=LinearDevice())
    for c, s in zip(circuits, batch, strict=True):
        single = qas.evaluate(c, task, backend="cirq", device=LinearDevice())
        assert s.fidelity == pytest.approx(single.fidelity, abs=1e-9)
        assert s.fits_device == single.fits_device and s.metrics == c.metrics()


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])  # spawning workers costs ~10 s
def test_evaluate_many_ground_state(workers: int) -> None:
    ansatze = [ANSATZ, ANSATZ.append(op("ry", 1, params=[0.0])), Circuit(2, (op("rx", 0, params=[0.1]),))]
    task = GroundState(H2_2Q)
    pooled = qas.evaluate_many(ansatze, task, workers=workers, fit_options={"restarts": 2, "seed": 1})
    serial = [qas.evaluate(c, task, fit_options={"restarts": 2, "seed": 1}) for c in ansatze]
    for a, b in zip(pooled, serial, strict=True):
        assert a.energy == pytest.approx(b.energy, abs=1e-9)


def test_a_task_string_is_the_task_it_names() -> None:
    # As the CLI's --task: "state:bell" is StatePreparation(BELL), "ground-state:h2-2q" the shipped 2-qubit H2.
    assert qas.evaluate(BELL_CIRCUIT, "state:bell") == qas.evaluate(BELL_CIRCUIT, StatePreparation(BELL, name="bell"))
    scores = qas.evaluate_many([ANSATZ, ANSATZ], "ground-state:h2-2q", workers=1)
    assert scores[0].energy_error == pytest.approx(0.0, abs=1e-6) and scores[1] == scores[0]


def test_score_round_trips_through_json() -> None:
    score = qas.evaluate(ANSATZ, GroundState(H2_2Q), device=LinearDevice())
    again = Score.from_dict(json.loads(json.dumps(score.to_dict())))
    assert again == score and again.circuit == score.circuit


def test_bad_inputs() -> None:
    with pytest.raises(QasError, match="circuit has 3 qubits but the task"):
        qas.evaluate(Circuit(3), StatePreparation(BELL))
    with pytest.raises(QasError, match=r"^cannot evaluate a task of type int; expected a qas.tasks.Task or a string$"):
        qas.evaluate(BELL_CIRCUIT, 3)  # type: ignore[arg-type]
    with pytest.raises(QasError, match=r"^unknown state target 'bel'"):
        qas.evaluate(BELL_CIRCUIT, "state:bel")
    with pytest.raises(QasError, match="unknown simulator backend"):
        qas.evaluate(BELL_CIRCUIT, StatePreparation(BELL), backend="gpu")  # type: ignore[arg-type]
    with pytest.raises(QasError, match="not normalised"):
        StatePreparation(np.array([1.0, 1.0, 0.0, 0.0]))


def test_h2_ground_state_end_to_end() -> None:
    """ground-state:h2 (4 qubits, Jordan-Wigner) with a two-layer hardware-efficient ansatz reaches the exact energy."""
    task = parse_task("ground-state:h2")
    rotations = [op("ry", q, params=[0.0]) for q in range(4)]
    ladder = [op("cx", q, q + 1) for q in range(3)]
    ansatz = Circuit(4, tuple(rotations + ladder + rotations + ladder + rotations))
    score = qas.evaluate(ansatz, task, fit_options={"restarts": 4, "seed": 0})
    assert score.task_name == "h2"
    assert score.energy == pytest.approx(-1.1372701746609, abs=1e-6)
    assert abs(score.energy_error) < 1e-6


def test_import_qas_loads_no_simulator_library() -> None:
    """qas.evaluate is bound at import time, so it must not pull in torch, cirq or qsimcirq (slow CLI start)."""
    code = "import sys, qas; print(sorted(m for m in ('torch', 'cirq', 'qsimcirq') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert callable(qas.evaluate) and callable(qas.evaluate_many)


def test_noisy_scores_above_the_exact_limit_use_seeded_trajectories() -> None:
    # One X followed by a bit flip of probability p: the output is the target with probability 1 - p.
    p, n = 0.2, sim.EXACT_DENSITY_MAX_QUBITS + 1
    flips = NoiseModel(after_one_qubit=bit_flip(p))
    circuit = Circuit(n, (op("x", 0),))
    task = StatePreparation(np.eye(2**n)[2 ** (n - 1)], noise=flips)
    score = qas.evaluate(circuit, task)
    # 1000 trajectories: standard error sqrt(p(1-p)/1000) < 0.013; the estimate is seeded, so it repeats exactly.
    assert score.fidelity == pytest.approx(1 - p, abs=0.05) and score.fidelity != 1 - p
    assert qas.evaluate(circuit, task).fidelity == score.fidelity
    # Process fidelity of one depolarised idle qubit among 6 (a 12-qubit doubled circuit) against the identity: 1 - p.
    idle = Circuit(6, (op("i", 0),))
    unitary_task = UnitarySynthesis(np.eye(64), noise=NoiseModel(after_one_qubit=depolarize(p)))
    assert qas.evaluate(idle, unitary_task).fidelity == pytest.approx(1 - p, abs=0.05)
