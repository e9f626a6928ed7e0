"""Sampling constraints (gate set, coupling map, inpainting) and angle refinement of the diffusion generator."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from qas.circuit import Circuit, op
from qas.encoding import CircuitEncoding
from qas.generators.diffusion.model import Denoiser, DenoiserConfig
from qas.generators.diffusion.placements import PlacementVocabulary, infidelities
from qas.generators.diffusion.refine import _removal_infidelities, prune, refine, repair
from qas.generators.diffusion.sample import rank, sample

torch.set_num_threads(1)

GATES = ("h", "cx", "z", "x", "ccx", "swap", "rz")


@pytest.fixture(scope="module")
def setup() -> tuple[Denoiser, PlacementVocabulary]:
    # An untrained model: whatever it prefers, the constraints must hold exactly.
    torch.manual_seed(0)
    vocab = PlacementVocabulary(CircuitEncoding(GATES, 3, 8))
    config = DenoiserConfig(len(vocab), len(GATES), 3, 8, vocab.max_params, d_model=32, layers=1, heads=2)
    return Denoiser(config).eval(), vocab


TARGET = Circuit(3, (op("h", 0), op("cx", 0, 1), op("cx", 1, 2))).unitary()


@pytest.mark.parametrize("guidance", [1.0, 3.0])
def test_samples_respect_a_coupling_map_and_gate_set(setup, guidance) -> None:
    model, vocab = setup
    drawn = sample(
        model, vocab, TARGET, samples=64, gates=["h", "cx", "ccx", "swap"], coupling=[(0, 1), (1, 2)],
        guidance=guidance, seed=1,
    )  # fmt: skip
    circuits = [c for c, _ in rank(vocab, drawn)]
    assert len(circuits) > 10  # distinct samples
    ops = [o for c in circuits for o in c]
    assert ops and {o.gate for o in ops} <= {"h", "cx", "swap"}  # ccx needs the uncoupled pair (0, 2)
    assert all(set(o.qubits) != {0, 2} for o in ops)


def test_inpainting_keeps_fixed_steps(setup) -> None:
    model, vocab = setup
    fixed = {0: op("h", 0), 3: op("rz", 2, params=[0.7]), 7: op("ccx", 1, 2, 0)}
    drawn = sample(model, vocab, TARGET, samples=16, fixed=fixed, seed=2)
    for b in range(16):
        circuit = vocab.to_circuit(drawn.placements[b].numpy(), drawn.angles[b].numpy())
        steps = [o for o, p in zip(circuit, drawn.placements[b][drawn.placements[b] != 0], strict=True) if p]
        assert steps[0] == fixed[0]
        kept = [o for o in circuit if o.gate == "rz" and o.qubits == (2,)]
        assert any(abs(o.params[0] - 0.7) < 1e-6 for o in kept)
        assert circuit.operations[-1] == fixed[7]


def test_smaller_target_uses_only_its_qubits(setup) -> None:
    model, vocab = setup
    cnot = Circuit(2, (op("cx", 0, 1),)).unitary()
    drawn = sample(model, vocab, cnot, samples=32, seed=3)
    for c, infidelity in rank(vocab, drawn):
        assert all(max(o.qubits) < 2 for o in c)
        assert 0 <= infidelity <= 1


def test_sampled_scores_are_the_circuits_infidelities(setup) -> None:
    model, vocab = setup
    drawn = sample(model, vocab, TARGET, samples=8, seed=4)
    for b in range(8):
        circuit = vocab.to_circuit(drawn.placements[b].numpy(), drawn.angles[b].numpy())
        overlap = np.trace(TARGET.conj().T @ circuit.unitary()) / 8
        assert float(drawn.infidelity[b]) == pytest.approx(1 - abs(overlap) ** 2, abs=1e-5)


def test_refinement_turns_the_right_structure_exact() -> None:
    vocab = PlacementVocabulary(CircuitEncoding(("h", "cx", "rx", "ry", "rz"), 3, 8))
    truth = Circuit(
        3,
        (
            op("ry", 0, params=[1.1]),
            op("cx", 0, 1),
            op("rz", 1, params=[-2.0]),
            op("rx", 2, params=[0.4]),
            op("cx", 1, 2),
        ),
    )
    target = truth.unitary()
    placements, angles = vocab.encode(truth)
    noisy = torch.as_tensor(angles)[None] + torch.tensor([0.6, 0.0, -0.5, 0.8, 0.0, 0, 0, 0])[None, :, None]
    result = refine(vocab, target, torch.as_tensor(placements)[None], noisy, seed=0)
    assert float(result.before[0]) > 0.05
    assert float(result.after[0]) < 1e-10
    fitted = vocab.to_circuit(placements, result.angles[0].numpy())
    assert 1 - abs(np.trace(target.conj().T @ fitted.unitary()) / 8) ** 2 < 1e-10


def test_jacobians_match_finite_differences() -> None:
    # Rotations take the closed form, u3 the autograd path; padding and cx have no angles.
    vocab = PlacementVocabulary(CircuitEncoding(("cx", "rz", "ry", "u3"), 3, 6))
    placements = torch.tensor([[1, 8, 0, 12, 15, 3], [13, 2, 9, 5, 0, 14]])
    angles = torch.rand(2, 6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    unitary, jacobian = vocab.unitaries_and_jacobians(placements, angles)
    assert (unitary - vocab.unitaries(placements, angles, dtype=torch.complex128)).abs().max() < 1e-12
    step = 1e-6
    for t, p in itertools.product(range(6), range(3)):
        up, down = angles.clone(), angles.clone()
        up[:, t, p] += step
        down[:, t, p] -= step
        numeric = (
            vocab.unitaries(placements, up, dtype=torch.complex128)
            - vocab.unitaries(placements, down, dtype=torch.complex128)
        ) / (2 * step)
        assert (numeric - jacobian[:, t, p]).abs().max() < 1e-8


def test_prune_drops_redundant_gates() -> None:
    vocab = PlacementVocabulary(CircuitEncoding(("h", "cx", "x"), 3, 6))
    redundant = Circuit(3, (op("h", 0), op("cx", 0, 1), op("x", 2), op("x", 2), op("cx", 1, 2), op("cx", 1, 2)))
    target = Circuit(3, (op("h", 0), op("cx", 0, 1))).unitary()
    placements, angles = vocab.encode(redundant)
    pruned, score = prune(vocab, target, torch.as_tensor(placements), torch.as_tensor(angles), 1e-9)
    assert score < 1e-12
    assert vocab.to_circuit(pruned.numpy()) == Circuit(3, (op("h", 0), op("cx", 0, 1)))


def test_removal_scores_equal_simulating_each_removal(setup) -> None:
    _, vocab = setup
    rng = np.random.default_rng(3)
    placements = torch.as_tensor(rng.integers(1, len(vocab), size=7))
    angles = torch.as_tensor(rng.uniform(-np.pi, np.pi, (7, vocab.max_params)))
    target = torch.as_tensor(TARGET)
    single, pair = _removal_infidelities(vocab, target, placements, angles)
    for removed in [(i,) for i in range(7)] + list(itertools.combinations(range(7), 2)):
        kept = [t for t in range(7) if t not in removed]
        direct = infidelities(
            target, vocab.unitaries(placements[None, kept], angles[None, kept], dtype=torch.complex128)
        )
        assert float(single[removed] if len(removed) == 1 else pair[removed]) == pytest.approx(
            float(direct[0]), abs=1e-12
        )


def test_repair_fixes_a_structure_two_edits_away() -> None:
    vocab = PlacementVocabulary(CircuitEncoding(("h", "cx", "z", "x", "ccx", "swap"), 3, 6))
    target = Circuit(3, (op("h", 0), op("cx", 0, 1), op("ccx", 0, 1, 2), op("x", 2))).unitary()
    # A wrong gate (z instead of h) and a missing one (the final x).
    wrong = Circuit(3, (op("z", 0), op("cx", 0, 1), op("ccx", 0, 1, 2)))
    placements, angles = vocab.encode(wrong)
    no_x = vocab.allowed(["h", "cx", "z", "ccx", "swap"])
    fixed, _, score = repair(vocab, target, torch.as_tensor(placements), torch.as_tensor(angles), allowed=no_x)
    assert score > 1e-3  # x is not allowed, so no exact repair exists
    fixed, _, score = repair(vocab, target, torch.as_tensor(placements), torch.as_tensor(angles))
    assert score < 1e-12
    assert np.allclose(abs(np.trace(target.conj().T @ vocab.to_circuit(fixed.numpy()).unitary())), 8)


def test_repair_inserts_a_missing_rotation_at_its_best_angle() -> None:
    vocab = PlacementVocabulary(CircuitEncoding(("h", "cx", "rx", "ry", "rz"), 3, 6))
    target = Circuit(3, (op("ry", 0, params=[0.3]), op("cx", 0, 1), op("rz", 1, params=[1.2]))).unitary()
    placements, angles = vocab.encode(Circuit(3, (op("ry", 0, params=[0.3]), op("cx", 0, 1))))
    fixed, fitted, score = repair(vocab, target, torch.as_tensor(placements), torch.as_tensor(angles))
    assert score < 1e-12
    repaired = vocab.to_circuit(fixed.numpy(), fitted.numpy())
    assert [o.gate for o in repaired] == ["ry", "cx", "rz"]
    assert repaired.operations[2].params[0] == pytest.approx(1.2, abs=1e-6)
