"""Named targets and the KIND:TARGET task syntax."""

import importlib.util
import json
import math
from pathlib import Path

import cirq
import numpy as np
import pytest

from qas import Circuit, GroundState, StatePreparation, UnitarySynthesis, op
from qas.errors import (
    InputFileError,
    InvalidHamiltonianError,
    InvalidStateError,
    InvalidUnitaryError,
    UnknownTargetError,
)
from qas.noise import NoiseModel, depolarize
from qas.targets import parse_task


def test_named_states() -> None:
    bell = parse_task("state:bell")
    assert isinstance(bell, StatePreparation) and bell.name == "bell"
    np.testing.assert_allclose(bell.target, Circuit(2, (op("h", 0), op("cx", 0, 1))).final_state(), atol=1e-12)
    ghz4 = parse_task("state:ghz4").target
    assert ghz4.shape == (16,) and ghz4[0] == ghz4[15] == pytest.approx(1 / math.sqrt(2))
    w3 = parse_task("state:W3").target
    np.testing.assert_allclose(np.flatnonzero(w3), [1, 2, 4])
    assert np.allclose(np.abs(w3[[1, 2, 4]]) ** 2, 1 / 3)


def test_named_unitaries_match_cirq() -> None:
    q = cirq.LineQubit.range(3)
    assert isinstance(parse_task("unitary:toffoli"), UnitarySynthesis)
    np.testing.assert_allclose(parse_task("unitary:toffoli").target, cirq.unitary(cirq.CCX), atol=1e-12)
    np.testing.assert_allclose(parse_task("unitary:fredkin").target, cirq.unitary(cirq.CSWAP), atol=1e-12)
    np.testing.assert_allclose(parse_task("unitary:cnot").target, cirq.unitary(cirq.CNOT), atol=1e-12)
    for n in (2, 3):
        qft = cirq.unitary(cirq.Circuit(cirq.qft(*q[:n])))
        np.testing.assert_allclose(parse_task(f"unitary:qft{n}").target, qft, atol=1e-12)


def test_noise_is_attached() -> None:
    noise = NoiseModel(after_two_qubit=depolarize(0.01, 2))
    assert parse_task("unitary:cnot", noise=noise).noise is noise


def test_files(tmp_path: Path) -> None:
    psi = np.array([0.6, 0, 0, 0.8j])
    np.save(tmp_path / "target.npy", psi)
    np.savetxt(tmp_path / "target.txt", psi)
    for name in ("target.npy", "target.txt"):
        task = parse_task(f"state:{tmp_path / name}")
        np.testing.assert_allclose(task.target, psi)
        assert task.name == "target"
    np.save(tmp_path / "u.npy", cirq.unitary(cirq.SWAP))
    np.testing.assert_allclose(parse_task(f"unitary:{tmp_path / 'u.npy'}").target, cirq.unitary(cirq.SWAP))
    (tmp_path / "h.json").write_text(json.dumps({"terms": {"ZZ": 1.0, "XI": 0.5}, "exact_energy": -1.25}))
    task = parse_task(f"ground-state:{tmp_path / 'h.json'}")
    assert isinstance(task, GroundState) and task.exact_energy == -1.25 and task.n_qubits == 2
    (tmp_path / "h2.json").write_text(json.dumps({"ZZ": 1.0, "XI": 0.5}))
    assert parse_task(f"ground-state:{tmp_path / 'h2.json'}").exact_energy == pytest.approx(-math.sqrt(1.25))


def test_a_circuit_is_a_unitary_target(tmp_path: Path) -> None:
    circuit = Circuit(2, (op("h", 0), op("cx", 0, 1)))
    (tmp_path / "bell.qasm").write_text(circuit.to_qasm("2.0"))
    (tmp_path / "bell.json").write_text(circuit.to_json())
    a, b = cirq.LineQubit.range(2)
    for name in ("bell.qasm", "bell.json"):
        task = parse_task(f"unitary:{tmp_path / name}")
        np.testing.assert_allclose(task.target, cirq.unitary(cirq.Circuit(cirq.H(a), cirq.CNOT(a, b))), atol=1e-12)
        assert task.name == "bell"
    (tmp_path / "wide.qasm").write_text(Circuit(11, (op("h", 10),)).to_qasm())
    with pytest.raises(InvalidUnitaryError, match=r"^a 11-qubit circuit is too large to be a unitary target"):
        parse_task(f"unitary:{tmp_path / 'wide.qasm'}")
    with pytest.raises(InputFileError, match=r"unsupported file type \.qasm; use \.npy, \.txt or \.csv"):
        parse_task(f"state:{tmp_path / 'bell.qasm'}")  # a state target is an amplitude file


@pytest.mark.skipif(importlib.util.find_spec("qas.molecules") is None, reason="qas.molecules has not landed yet")
def test_molecule_names() -> None:
    task = parse_task("ground-state:h2")
    assert isinstance(task, GroundState) and task.name == "h2"
    assert task.exact_energy == pytest.approx(task.hamiltonian.ground_energy(), abs=1e-6)


def test_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(UnknownTargetError, match=r"unknown state target 'gzh3'\. Did you mean 'ghz3'"):
        parse_task("state:gzh3")
    with pytest.raises(UnknownTargetError, match=r"Did you mean 'toffoli'"):
        parse_task("unitary:tofoli")
    with pytest.raises(UnknownTargetError, match=r"unknown task kind 'states'.*Did you mean 'state'"):
        parse_task("states:bell")
    with pytest.raises(UnknownTargetError, match="KIND:TARGET"):
        parse_task("bell")
    with pytest.raises(UnknownTargetError, match="between 2 and 12"):
        parse_task("state:ghz40")
    with pytest.raises(InputFileError, match="does not exist"):
        parse_task(f"state:{tmp_path / 'missing.npy'}")
    (tmp_path / "garbage.txt").write_text("not a number\n")
    with pytest.raises(InputFileError, match="cannot read target file"):
        parse_task(f"state:{tmp_path / 'garbage.txt'}")
    with pytest.raises(InputFileError, match=r"unsupported file type \.mat"):
        parse_task(f"state:{tmp_path / 'x.mat'}")
    np.save(tmp_path / "three.npy", np.ones(3) / math.sqrt(3))
    with pytest.raises(InvalidStateError, match="not a power of two"):
        parse_task(f"state:{tmp_path / 'three.npy'}")
    np.save(tmp_path / "nonunitary.npy", np.ones((4, 4)))
    with pytest.raises(InvalidUnitaryError, match="not unitary"):
        parse_task(f"unitary:{tmp_path / 'nonunitary.npy'}")
    np.save(tmp_path / "nan.npy", np.array([np.nan, 1.0]))
    with pytest.raises(InvalidStateError, match="NaN"):
        parse_task(f"state:{tmp_path / 'nan.npy'}")
    (tmp_path / "bad.json").write_text(json.dumps({"terms": {"ZQ": 1.0}}))
    with pytest.raises(InvalidHamiltonianError, match="bad Pauli string 'ZQ'"):
        parse_task(f"ground-state:{tmp_path / 'bad.json'}")


def test_targets_within_tolerance_are_handed_on_exactly_unitary_and_normalised() -> None:
    unitary = cirq.testing.random_unitary(8, random_state=2)
    single = UnitarySynthesis(unitary.astype(np.complex64)).target
    assert np.max(np.abs(single.conj().T @ single - np.eye(8))) < 1e-12
    assert np.max(np.abs(single - unitary)) < 1e-6  # the nearest unitary: the input up to its rounding
    state = unitary[:, 0].astype(np.complex64)
    assert abs(np.linalg.norm(StatePreparation(state).target) - 1) < 1e-15
    assert np.array_equal(UnitarySynthesis(unitary).target, unitary)  # float64 input is kept as it is
