"""Entangling skeletons: a sample's multi-qubit gates, in order, with a general one-qubit gate wherever one can matter.

With continuous rotations, a sample often has the right entangling structure and still fails for want of a rotation
in the right place: the model is least reliable about one-qubit gates. Any circuit over one-qubit gates and a given
sequence of multi-qubit gates equals that sequence with a general one-qubit gate on every qubit at the start and on
each qubit of a multi-qubit gate after it (a one-qubit gate on a qubit the next multi-qubit gate does not touch
commutes forward to that qubit's next slot). A general one-qubit gate is an Euler product of rotations about two
different axes (``a(x) b(y) a(z)``), so fitting the angles of this ansatz (:func:`.refine.refine`) decides whether a
skeleton can make the target, and the pruning that follows drops the rotations it does not need. It is BQSKit's
QSearch ansatz with the skeleton proposed by the model instead of searched for.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch

from .placements import PAD, PlacementVocabulary

# Preferred order: rz ry rz when both are allowed. (Two rotations per qubit after a CNOT would do, since the one that
# commutes with it moves back into the previous slot, but that ansatz fitted less reliably: on a 2-CNOT test target
# 2 of 4 seeds stalled at 1e-8 and 6e-7 where the full one reached 4e-10 or better in all 4, with the earlier
# Adam + L-BFGS fitter.)
_EULER_AXES = ("rz", "ry", "rx")

# Gates whose direction the surrounding one-qubit gates can undo (H on both qubits reverses a CNOT): skeletons hold
# them with ascending qubits, so skeletons that differ only in directions are fitted once.
_REVERSIBLE = {"cx", "cz"}

Skeleton = tuple[int, ...]
Rotations = dict[str, dict[int, int]]  # allowed rotation gate -> {qubit: placement}


def rotation_gates(vocab: PlacementVocabulary, allowed: np.ndarray) -> Rotations | None:
    """The allowed single-axis rotations by gate and qubit, when at least two axes are allowed on the same qubits
    (enough for an Euler decomposition ``a b a``); ``None`` otherwise."""
    by_gate: Rotations = {}
    for index, p in enumerate(vocab.placements, start=1):
        if allowed[index] and p.gate in _EULER_AXES:
            by_gate.setdefault(p.gate, {})[p.qubits[0]] = index
    axes = [g for g in _EULER_AXES if g in by_gate]
    if len(axes) < 2 or any(set(by_gate[g]) != set(by_gate[axes[0]]) for g in axes):
        return None
    return by_gate


def _canonical(vocab: PlacementVocabulary) -> dict[int, int]:
    """Multi-qubit placement -> its skeleton form (reversible gates with ascending qubits)."""
    index = {(p.gate, p.qubits): i for i, p in enumerate(vocab.placements, start=1)}
    return {
        i: index.get((p.gate, tuple(sorted(p.qubits))), i) if p.gate in _REVERSIBLE else i
        for i, p in enumerate(vocab.placements, start=1)
        if len(p.qubits) > 1
    }


def skeletons_of(vocab: PlacementVocabulary, samples: np.ndarray) -> list[Skeleton]:
    """The skeleton (multi-qubit placements in order, directions canonical) of each sample ``(S, T)``."""
    canonical = _canonical(vocab)
    return [tuple(canonical[p] for p in row if p in canonical) for row in np.asarray(samples).tolist()]


def neighbours(vocab: PlacementVocabulary, skeleton: Skeleton, allowed: np.ndarray) -> list[Skeleton]:
    """The skeletons one edit away from ``skeleton``: a gate removed, replaced or inserted (allowed gates only)."""
    options = sorted({c for i, c in _canonical(vocab).items() if allowed[i]})
    found: dict[Skeleton, None] = {}
    for i in range(len(skeleton) + 1):
        if i < len(skeleton):
            found[skeleton[:i] + skeleton[i + 1 :]] = None
            found.update({(*skeleton[:i], o, *skeleton[i + 1 :]): None for o in options})
        found.update({(*skeleton[:i], o, *skeleton[i:]): None for o in options})
    found.pop(skeleton, None)
    return list(found)


def by_frequency(skeletons: list[Skeleton]) -> list[Skeleton]:
    """The distinct skeletons, most frequent first (the model's vote for the entangling structure)."""
    return [s for s, _ in Counter(skeletons).most_common()]


def ansatz(vocab: PlacementVocabulary, skeletons: list[Skeleton], rotations: Rotations) -> torch.Tensor:
    """Placements ``(K, T)`` (padded) of each skeleton with Euler rotations on every qubit at the start and on the
    qubits of each gate after it."""
    axes = [g for g in _EULER_AXES if g in rotations]
    euler = [rotations[axes[0]], rotations[axes[1]], rotations[axes[0]]]
    qubits = [()] + [p.qubits for p in vocab.placements]
    rows = []
    for skeleton in skeletons:
        steps = [axis[q] for q in sorted(euler[0]) for axis in euler]
        for gate in skeleton:
            steps.append(gate)
            steps += [axis[q] for q in qubits[gate] if q in euler[0] for axis in euler]
        rows.append(steps)
    width = max(len(s) for s in rows)
    return torch.tensor([s + [PAD] * (width - len(s)) for s in rows], dtype=torch.long)
