"""The diffusion generator's data layer: placements, the batched simulator, dataset generation and loading."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from qas.circuit import Circuit, op
from qas.encoding import CircuitEncoding
from qas.errors import InputFileError, QasError, UnknownGateError
from qas.generators.diffusion.dataset import CircuitDataset, DatasetConfig, canonical_phase, generate, random_circuits
from qas.generators.diffusion.placements import PAD, PlacementVocabulary, infidelities

torch.set_num_threads(1)

CLIFFORD = ("h", "cx", "z", "x", "ccx", "swap")
PARAM = ("h", "cx", "rx", "ry", "rz")


def vocab_for(gates: tuple[str, ...]) -> PlacementVocabulary:
    return PlacementVocabulary(CircuitEncoding(gates, 3, 12))


def test_vocabulary_counts_every_gate_placement_once() -> None:
    vocab = vocab_for(CLIFFORD)
    # h, z, x: 3 each; cx: 6 ordered pairs; swap: 3 pairs; ccx: 3 choices of target (controls are symmetric).
    assert len(vocab) == 1 + 3 + 6 + 3 + 3 + 3 + 3
    assert vocab.placements[0].gate == "h" and vocab.placements[3].qubits == (0, 1)


@pytest.mark.parametrize("gates", [CLIFFORD, PARAM])
def test_batched_simulator_matches_numpy_kernel(gates: tuple[str, ...]) -> None:
    vocab = vocab_for(gates)
    placements, angles = random_circuits(vocab, 16, 1, 12, np.random.default_rng(3))
    unitaries = vocab.unitaries(torch.as_tensor(placements), torch.as_tensor(angles).double(), dtype=torch.complex128)
    for b in range(16):
        circuit = vocab.to_circuit(placements[b], angles[b])
        np.testing.assert_allclose(unitaries[b].numpy(), circuit.unitary(), atol=1e-6)
        assert vocab.to_circuit(*vocab.encode(circuit)) == circuit


def test_tokens_round_trip_through_the_shared_encoding() -> None:
    vocab = vocab_for(CLIFFORD)
    circuit = Circuit(3, (op("ccx", 0, 2, 1), op("cx", 1, 0), op("swap", 0, 2), op("h", 1)))
    encoded = vocab.encoding.encode(circuit)
    placements = vocab.from_tokens(encoded.tokens)
    assert (placements[4:] == PAD).all()
    np.testing.assert_array_equal(vocab.to_tokens(placements), encoded.tokens)
    assert vocab.to_circuit(placements) == circuit
    bad = encoded.tokens.copy()
    bad[0, 0] = -2  # a control of cx without its target
    with pytest.raises(QasError, match="not a valid operation"):
        vocab.from_tokens(bad)


def test_allowed_mask_respects_gates_and_coupling() -> None:
    vocab = vocab_for(CLIFFORD)
    mask = vocab.allowed(["h", "cx", "ccx"], coupling=[(0, 1), (1, 2)])
    kept = {(p.gate, p.qubits) for p, ok in zip(vocab.placements, mask[1:], strict=True) if ok}
    assert kept == {
        ("h", (0,)),
        ("h", (1,)),
        ("h", (2,)),
        ("cx", (0, 1)),
        ("cx", (1, 0)),
        ("cx", (1, 2)),
        ("cx", (2, 1)),
    }
    with pytest.raises(QasError, match="not in this model's vocabulary"):
        vocab.allowed(["rz"])


def test_canonical_phase_removes_global_phase() -> None:
    u = torch.as_tensor(Circuit(3, (op("h", 0), op("cx", 0, 1), op("rz", 2, params=[0.4]))).unitary())[None]
    phased = u * np.exp(1.234j)
    np.testing.assert_allclose(canonical_phase(phased).numpy(), canonical_phase(u).numpy(), atol=1e-12)
    assert float(infidelities(u, phased)[0]) < 1e-12


def test_dataset_is_reproducible_deduplicated_and_balanced(tmp_path) -> None:
    config = DatasetConfig(gates=CLIFFORD, size=3000, shard_size=1000, seed=7)
    first = generate(config, tmp_path / "a")
    second = generate(config, tmp_path / "b")
    assert first["circuits"] == second["circuits"] and first["length_counts"] == second["length_counts"]
    for name in first["shards"]:
        a, b = np.load(tmp_path / "a" / name), np.load(tmp_path / "b" / name)
        np.testing.assert_array_equal(a["tokens"], b["tokens"])
    data = CircuitDataset.load(tmp_path / "a")
    assert len(data) == first["circuits"] == len(set(map(tuple, data.placements.tolist())))
    counts = np.array(first["length_counts"][1:])
    assert counts.max() <= np.median(counts[counts > 0]) + 1  # every length capped at the median bucket
    vocab = vocab_for(CLIFFORD)
    for i in range(5):  # stored unitaries are the circuits' own, phase-fixed
        circuit = vocab.to_circuit(data.placements[i].numpy())
        stored = data.unitaries[i, 0].numpy() + 1j * data.unitaries[i, 1].numpy()
        expected = canonical_phase(torch.as_tensor(circuit.unitary())[None])[0].numpy()
        np.testing.assert_allclose(stored, expected, atol=2e-3)  # stored as float16
    assert json.loads((tmp_path / "a" / "dataset.json").read_text())["config"]["seed"] == 7


def test_circuits_are_in_canonical_order(tmp_path) -> None:
    generate(DatasetConfig(gates=PARAM, size=500, seed=1), tmp_path)
    data = CircuitDataset.load(tmp_path)
    vocab = vocab_for(PARAM)
    for i in range(20):
        circuit = vocab.to_circuit(data.placements[i].numpy(), data.angles[i].numpy())
        assert [(o.gate, o.qubits) for o in circuit.canonical()] == [(o.gate, o.qubits) for o in circuit]


def test_bad_dataset_settings_raise() -> None:
    with pytest.raises(UnknownGateError):
        DatasetConfig(gates=("h", "cnot_typo"))
    with pytest.raises(QasError, match="min_gates"):
        DatasetConfig(min_gates=5, max_gates=2)
    with pytest.raises(InputFileError, match="qas dataset"):
        CircuitDataset.load("/nonexistent/folder")
    with pytest.raises(QasError, match=r"seed must be an integer in \[0, 2\*\*32 - 1\], got -1"):
        DatasetConfig(seed=-1)


def test_a_damaged_dataset_file_is_one_error_naming_it(tmp_path) -> None:
    summary = generate(DatasetConfig(gates=CLIFFORD, size=200, seed=1), tmp_path)
    shard = tmp_path / summary["shards"][0]
    intact = shard.read_bytes()
    for damage, message in [(b"", "No data left in file"), (intact[:100], "File is not a zip file")]:
        shard.write_bytes(damage)
        with pytest.raises(InputFileError, match=f"cannot read saved file {shard}: {message}"):
            CircuitDataset.load(tmp_path)
    shard.write_bytes(intact)
    (tmp_path / "dataset.json").write_text('{"config": {"gatez": ["h"]}, "shards": []}')
    with pytest.raises(InputFileError, match=r"dataset\.json: no entry 'gates'"):
        CircuitDataset.load(tmp_path)
