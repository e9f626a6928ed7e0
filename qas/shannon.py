"""The quantum Shannon decomposition (Shende, Bullock & Markov 2006), recursing down to leaves of a chosen size.

An n-qubit unitary is, by the cosine-sine decomposition on its first qubit, ``U = (L0 + L1) CS (R0 + R1)``: ``CS``
is an Ry on the first qubit multiplexed by the others, and each block-diagonal factor, a unitary on the other qubits
multiplexed by the first, splits into two of them around a multiplexed Rz (``L0 + L1 = (I x V)(D + D^dagger)
(I x W)``). That is four (n-1)-qubit unitaries and three multiplexed rotations of 2^(n-1) CNOTs each. Qiskit and
Cirq recurse down to two qubits; here the recursion stops at leaves that the caller writes (numerical synthesis
writes a four-qubit unitary in 61 CNOTs, where the recursion below it takes 95), so a five-qubit unitary takes
4 x 61 + 3 x 16 = 292 CNOTs against the 423 of Qiskit's decomposition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.linalg

from qas.circuit import Circuit, Operation, op


def shannon_decomposition(unitary: np.ndarray, leaf: Callable[[np.ndarray], Circuit], leaf_qubits: int) -> Circuit:
    """A circuit for ``unitary``: the decomposition recursing until the unitaries have ``leaf_qubits`` qubits, which
    ``leaf`` writes (its circuits' gates are kept; the multiplexed rotations are ``cx``, ``ry`` and ``rz``)."""
    n = int(np.log2(unitary.shape[0]))
    return Circuit(n, tuple(_decompose(unitary, list(range(n)), leaf, leaf_qubits)))


def rotation_cnots(n_qubits: int, leaf_qubits: int) -> int:
    """The CNOTs of the multiplexed rotations in the decomposition of an ``n_qubits`` unitary into leaves of
    ``leaf_qubits``, whatever the unitary: three rotations of ``2^(k-1)`` CNOTs at each of the ``4^(n-k)`` splits of
    a k-qubit unitary. No circuit the decomposition writes is shorter."""
    return sum(4 ** (n_qubits - k) * 3 * 2 ** (k - 1) for k in range(leaf_qubits + 1, n_qubits + 1))


def _decompose(
    unitary: np.ndarray, qubits: list[int], leaf: Callable[[np.ndarray], Circuit], leaf_qubits: int
) -> list[Operation]:
    """Operations for ``unitary`` on ``qubits`` (``qubits[0]`` its most significant)."""
    if len(qubits) <= leaf_qubits:
        return [o.moved(qubits) for o in leaf(unitary).operations]
    half = unitary.shape[0] // 2
    (left0, left1), theta, (right0, right1) = scipy.linalg.cossin(unitary, p=half, q=half, separate=True)
    top, rest = qubits[0], qubits[1:]
    ops = demultiplexed(right0, right1, top, rest, leaf, leaf_qubits)
    # [[C, -S], [S, C]]: Ry(2 theta_j) on the top qubit for each value j of the others.
    ops += multiplexed_rotation("ry", 2 * theta, top, rest)
    ops += demultiplexed(left0, left1, top, rest, leaf, leaf_qubits)
    return ops


def demultiplexed(
    block0: np.ndarray,
    block1: np.ndarray,
    top: int,
    rest: list[int],
    leaf: Callable[[np.ndarray], Circuit],
    leaf_qubits: int,
) -> list[Operation]:
    """Operations for ``block0 + block1`` (``block_b`` on ``rest`` when ``top`` is b): ``block0 = V D W`` and
    ``block1 = V D^dagger W`` with ``V D^2 V^dagger = block0 block1^dagger`` (its Schur form is diagonal: the
    product is unitary), so W, then ``diag(D_j, D_j^*) = Rz(-2 arg D_j)`` on ``top`` multiplexed by ``rest``, then
    V."""
    schur, v = scipy.linalg.schur(block0 @ block1.conj().T, output="complex")
    d = np.sqrt(np.diag(schur))
    w = d[:, None] * (v.conj().T @ block1)
    ops = _decompose(w, rest, leaf, leaf_qubits)
    ops += multiplexed_rotation("rz", -2 * np.angle(d), top, rest)
    return ops + _decompose(v, rest, leaf, leaf_qubits)


def multiplexed_rotation(axis: str, angles: np.ndarray, target: int, controls: Sequence[int]) -> list[Operation]:
    """``R(angles[j])`` on ``target`` for each value j of ``controls`` (``controls[0]`` the most significant bit of
    j), ``R`` being ``ry`` or ``rz``: 2^k rotations and 2^k CNOTs along a Gray code (Mottonen et al. 2004). Before
    rotation i the target has been flipped by the controls whose bits of j are set in ``gray(i)``, so it turns by
    ``sum_i (-1)^(j . gray(i)) alpha_i``; the ``alpha`` that make that ``angles[j]`` come from one Walsh-Hadamard
    matrix product."""
    k = len(controls)
    gray = np.arange(2**k) ^ (np.arange(2**k) >> 1)
    signs = (-1.0) ** np.array([[bin(j & g).count("1") for g in gray] for j in range(2**k)])
    alphas = signs.T @ np.asarray(angles, dtype=float) / 2**k
    ops: list[Operation] = []
    for i, alpha in enumerate(alphas):
        ops.append(op(axis, target, params=[float(alpha)]))
        if k:
            changed = int(gray[i] ^ gray[(i + 1) % 2**k]).bit_length() - 1  # the one bit that flips, from the right
            ops.append(op("cx", controls[k - 1 - changed], target))
    return ops
