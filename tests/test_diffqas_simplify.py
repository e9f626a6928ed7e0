"""Tidying derived circuits: exact rotation merging and loss-bounded pruning."""

from __future__ import annotations

import math

import numpy as np

from qas.circuit import Circuit, op
from qas.generators.diffqas.simplify import merge_rotations, prune
from qas.tasks import StatePreparation


def test_repeated_rotations_merge_exactly() -> None:
    circuit = Circuit(
        2,
        (op("ry", 1, params=[0.3]), op("ry", 1, params=[0.4]), op("rz", 0, params=[1.0]), op("cx", 1, 0),
         op("rz", 0, params=[0.5]), op("rx", 1, params=[0.2])),
    )  # fmt: skip
    merged = merge_rotations(circuit)
    # The cx between the two rz on qubit 0 stops that merge.
    assert merged.operations == (
        op("ry", 1, params=[0.7]),
        op("rz", 0, params=[1.0]),
        op("cx", 1, 0),
        op("rz", 0, params=[0.5]),
        op("rx", 1, params=[0.2]),
    )
    np.testing.assert_allclose(merged.unitary(), circuit.unitary(), atol=1e-12)


def test_prune_drops_gates_bell_does_not_need() -> None:
    bell = StatePreparation(np.array([1, 0, 0, 1]) / np.sqrt(2))
    circuit = Circuit(
        2,
        (op("rz", 0, params=[0.0]), op("ry", 0, params=[math.pi / 2]), op("cx", 1, 0), op("cx", 0, 1),
         op("rx", 1, params=[1e-9])),
    )  # fmt: skip
    assert prune(circuit, bell).operations == (op("ry", 0, params=[math.pi / 2]), op("cx", 0, 1))
