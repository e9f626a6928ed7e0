"""Tensor factors of a unitary or a state: the finest split of its qubits into groups it acts on (or is prepared on)
independently, with the factor on each group.

A unitary that is a tensor product needs no two-qubit gate between its factors, but the syntheses do not see that:
the quantum Shannon decomposition wrote a random two-qubit gate on each half of four qubits in 95 CNOTs, fitting from
the parameter bound in 62, where each factor takes 3; a three-qubit unitary beside an idle qubit took 52 (as a
four-qubit target it is below the four-qubit bound, so nothing was fitted), and a product of two three-qubit states
on interleaved qubits 30. :func:`qas.compile` therefore compiles each factor on its own.

A group splits off where the operator Schmidt rank across it and the other qubits is one: the target, reshaped to
a matrix whose rows are the group's indices (output and input for a unitary) and whose columns are the others', has
one singular value and the two singular vectors are the factors.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Weight of the dropped Schmidt coefficients, over the total, up to which a split counts as exact: a product
# computed in floating point drops ~1e-30, and 1e-12 is the infidelity numerical synthesis calls exact.
EXACT_SPLIT = 1e-12


@dataclass(frozen=True)
class TensorFactor:
    """A factor of a target: its qubits in the whole (ascending) and the factor, on those qubits in that order."""

    qubits: tuple[int, ...]
    target: np.ndarray


def tensor_factors(target: np.ndarray) -> list[TensorFactor]:
    """The finest tensor factorisation of ``target`` (a unitary ``(d, d)`` or a state ``(d,)``), factors ordered by
    their first qubit; a single factor when it has none. Factors of a unitary are unitary and of a state normalised;
    their product equals ``target`` up to a global phase."""
    remaining = list(range(int(np.log2(target.shape[0]))))
    factors = []
    rest = target
    while len(remaining) > 1:
        split = _first_group(rest)
        if split is None:
            break
        group, rest = split
        factors.append(TensorFactor(tuple(remaining[i] for i in group[0]), group[1]))
        remaining = [q for i, q in enumerate(remaining) if i not in group[0]]
    factors.append(TensorFactor(tuple(remaining), rest))
    return factors


def _first_group(
    target: np.ndarray,
) -> tuple[tuple[tuple[int, ...], np.ndarray], np.ndarray] | None:
    """The smallest group of qubits holding qubit 0 that splits off ``target`` exactly, as ((its qubits, its
    factor), the factor on the other qubits); None when no group does. The smallest is one factor of the finest
    factorisation: groups that split off are closed under intersection."""
    n = int(np.log2(target.shape[0]))
    legs = target.ndim
    for size in range(1, n):
        for others in itertools.combinations(range(1, n), size - 1):
            group = (0, *others)
            matrix = across_cut(target, group)
            squares = np.linalg.svd(matrix, compute_uv=False) ** 2
            if squares[1:].sum() <= EXACT_SPLIT * squares.sum():
                left, _, right = np.linalg.svd(matrix, full_matrices=False)
                return (group, _factor(left[:, 0], size, legs)), _factor(right[0], n - size, legs)
    return None


def across_cut(target: np.ndarray, group: Sequence[int]) -> np.ndarray:
    """``target`` (a unitary or a state) as a matrix whose rows are ``group``'s indices (outputs then inputs for a
    unitary) and whose columns are the other qubits': its singular values are the Schmidt coefficients across the cut
    between them."""
    n = int(np.log2(target.shape[0]))
    legs = target.ndim  # indices per qubit: output and input for a unitary, one for a state
    rest = [q for q in range(n) if q not in group]
    axes = [q + leg * n for leg in range(legs) for q in group] + [q + leg * n for leg in range(legs) for q in rest]
    return target.reshape([2] * (legs * n)).transpose(axes).reshape(2 ** (legs * len(group)), -1)


def _factor(vector: np.ndarray, n_qubits: int, legs: int) -> np.ndarray:
    """A singular vector as a normalised state, or as the nearest unitary (the polar factor: it is one up to a scale
    and the split's rounding)."""
    if legs == 1:
        return vector / np.linalg.norm(vector)
    left, _, right = np.linalg.svd(vector.reshape(2**n_qubits, 2**n_qubits))
    return left @ right
