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

_EULER_AXES = ("rz", "ry", "rx")  # preferred order: rz ry rz when both are allowed

Skeleton = tuple[int, ...]


def euler_gates(vocab: PlacementVocabulary, allowed: np.ndarray) -> list[dict[int, int]] | None:
    """The three rotations of an Euler decomposition as ``[{qubit: placement}, ...]`` on the qubits the allowed
    placements reach, using the first two allowed rotation axes (``a b a``); ``None`` if fewer are allowed."""
    by_gate: dict[str, dict[int, int]] = {}
    for index, p in enumerate(vocab.placements, start=1):
        if allowed[index] and p.gate in _EULER_AXES:
            by_gate.setdefault(p.gate, {})[p.qubits[0]] = index
    axes = [g for g in _EULER_AXES if g in by_gate]
    if len(axes) < 2 or set(by_gate[axes[0]]) != set(by_gate[axes[1]]):
        return None
    a, b = by_gate[axes[0]], by_gate[axes[1]]
    return [a, b, a]


def skeletons_of(vocab: PlacementVocabulary, samples: np.ndarray) -> list[Skeleton]:
    """The skeleton (multi-qubit placements in order) of each sample ``(S, T)``."""
    wide = [False] + [len(p.qubits) > 1 for p in vocab.placements]
    return [tuple(p for p in row if wide[p]) for row in np.asarray(samples).tolist()]


def by_frequency(skeletons: list[Skeleton]) -> list[Skeleton]:
    """The distinct skeletons, most frequent first (the model's vote for the entangling structure)."""
    return [s for s, _ in Counter(skeletons).most_common()]


def ansatz(vocab: PlacementVocabulary, skeletons: list[Skeleton], euler: list[dict[int, int]]) -> torch.Tensor:
    """Placements ``(K, T)`` (padded) of each skeleton with Euler rotations at the start and after every gate."""
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
