"""Exact state preparation: every construction prepares its state, the CNOT counts of known states, and ``qas.compile``
of states and Hamiltonians' ground states from Python and the CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from test_cli import run_json

import qas
from qas.cli import main
from qas.errors import InvalidStateError, QasError
from qas.linalg import state_fidelity
from qas.sim import final_state
from qas.state_prep import state_candidates
from qas.targets import ghz_state, parse_task, w_state


def haar_state(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    return psi / np.linalg.norm(psi)


def sparse_state(n: int, amplitudes: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    psi = np.zeros(2**n, dtype=complex)
    psi[rng.choice(2**n, amplitudes, replace=False)] = rng.normal(size=amplitudes) + 1j * rng.normal(size=amplitudes)
    return psi / np.linalg.norm(psi)


STATES = {
    "haar1": haar_state(1, 0),
    "haar3": haar_state(3, 1),
    "haar5": haar_state(5, 2),
    "product": np.kron(haar_state(2, 3), haar_state(2, 4)),
    "sparse5": sparse_state(5, 4, 5),  # merges with no control or one
    "sparse7": sparse_state(7, 12, 6),  # up to three controls (from three, Cirq's decomposition)
    "w4": w_state(4),
}


@pytest.mark.parametrize("name", sorted(STATES))
def test_every_construction_prepares_its_state(name: str) -> None:
    state = STATES[name]
    candidates = state_candidates(state)
    few_amplitudes = np.count_nonzero(state) <= 2 * np.log2(len(state))  # sparse merging runs only then
    assert len(candidates) == 2 + 2 * few_amplitudes  # Schmidt, Qiskit's (installed here), sparse star and chain
    for circuit in candidates:
        assert state_fidelity(state, final_state(circuit)) == pytest.approx(1, abs=1e-10)


@pytest.mark.parametrize(
    ("target", "cnots"),
    [
        ("state:bell", 1),
        ("state:ghz3", 2),  # sparse merging: n - 1 CNOTs
        ("state:ghz5", 4),  # Qiskit's StatePreparation: 26
        ("state:w3", 3),  # Schmidt with a completion of the isometry other than the first tried (4)
        ("ground-state:h2", 3),  # two amplitudes, |1100> and |0011>: 3 CNOTs
    ],
)
def test_known_states_compile_with_their_cnot_counts(target: str, cnots: int) -> None:
    result = qas.compile(target)
    assert result.infidelity < 1e-10 and result.circuit.cnot_count == cnots


def test_schmidt_construction_counts_on_random_states() -> None:
    # Plesch & Brukner's counts: 3 qubits 1 (copy) + 2 (a two-qubit half up to a diagonal, its phases moved to the
    # other half); 4 qubits 1 (two-qubit Schmidt state) + 2 (copies) + 3 + 2. Qiskit's StatePreparation: 4 and 11.
    # A product state is two preparations and no CNOT between them.
    assert qas.compile(haar_state(3, 7), method="exact").circuit.cnot_count == 3
    assert qas.compile(haar_state(4, 7), method="exact").circuit.cnot_count == 8
    product = qas.compile(STATES["product"], method="exact")
    assert product.circuit.cnot_count == 2 and product.infidelity < 1e-10


def test_a_ground_state_reaches_the_exact_energy() -> None:
    task = parse_task("ground-state:lih4")
    result = qas.compile(task, gates="ibm-native")
    assert result.energy == pytest.approx(task.exact_energy, abs=1e-9)
    assert result.exact_energy == task.exact_energy and result.infidelity < 1e-10
    assert {o.gate for o in result.circuit} <= {"rz", "sx", "x", "cx", "ecr"}
    assert result.to_dict()["energy_error"] == result.energy - task.exact_energy


def test_states_in_other_gates_and_on_a_device() -> None:
    w3 = qas.compile(list(w_state(3)), gates="google-native", device="google-grid")  # a vector is a state
    assert {o.gate for o in w3.circuit} <= {"phased_xz", "cz"}
    assert w3.infidelity < 1e-10 and w3.export is not None and w3.export.verified is True
    assert state_fidelity(ghz_state(3), final_state(qas.compile("state:ghz3", method="auto").circuit)) > 1 - 1e-10


def test_on_a_device_the_construction_that_routes_best_wins() -> None:
    # GHZ-5's star of CNOTs from qubit 0 needs SWAPs on a line (10 CNOTs routed); the chain of neighbours needs none.
    for device in ("ibm-line", "ibm-heavy-hex"):
        placed = qas.compile("state:ghz5", device=device).export
        assert placed is not None and placed.verified is True and placed.circuit.two_qubit_count == 4


def test_state_targets_refuse_generators_options_and_too_many_qubits() -> None:
    with pytest.raises(QasError, match="method 'diffusion' compiles unitaries; a state target compiles with auto"):
        qas.compile("state:ghz3", method="diffusion")
    with pytest.raises(QasError, match="the exact and numerical methods take no options, got samples"):
        qas.compile("ground-state:h2", samples=4)
    with pytest.raises(QasError, match="at most 8 qubits, the target has 9"):
        qas.compile(ghz_state(9))
    with pytest.raises(InvalidStateError, match="not normalised: norm = 2"):
        qas.compile([2.0, 0.0])


def test_states_compile_without_qiskit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "qiskit", None)  # makes `import qiskit` fail
    assert len(state_candidates(STATES["haar5"])) == 1
    result = qas.compile(STATES["haar5"], method="exact")
    assert result.infidelity < 1e-10 and result.circuit.cnot_count == 25  # 1 + 2 + 2 + 20 (Cirq's three-qubit unitary)


def test_cli_compiles_ground_states_and_vectors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "compile", "ground-state:h2", "--gates", "ibm-native")
    assert data["energy"] == pytest.approx(-1.1372701746609, abs=1e-9) and data["cnot_count"] == 3
    assert abs(data["energy_error"]) < 1e-9
    np.save(tmp_path / "psi.npy", ghz_state(4))  # a vector in an array file is a state, and so is a column
    np.savetxt(tmp_path / "psi.txt", ghz_state(4).reshape(-1, 1))
    for name in ("psi.npy", "psi.txt"):
        data = run_json(capsys, "compile", str(tmp_path / name))
        assert data["infidelity"] < 1e-10 and data["cnot_count"] == 3 and "energy" not in data
    assert main(["compile", "state:ghz3", "--method", "diffusion"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: method 'diffusion' compiles unitaries; a state target compiles with auto, exact or numerical"
    )
