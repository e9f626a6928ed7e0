"""Fewer CNOTs for an answer that will be written in general one-qubit gates and CNOTs (``u3, cx``, what hardware
toolchains take and :func:`qas.compile`'s default output).

An answer over {h, cx, z, x, ccx, swap} translated as it is keeps each gate's textbook count (a Toffoli costs 6
CNOTs), but with free one-qubit gates between the CNOTs a unitary often needs fewer: BQSKit's LEAP, which builds such
circuits CNOT by CNOT, used fewer than our Toffoli answers on 39 of 95 benchmark targets. Here the answer's own CNOT
skeleton (exact by construction) is shortened: every deletion of one CNOT gets general one-qubit gates in the slots
around its CNOTs, all deletions are fitted to the target in one batch, and the search goes on from one that fits
exactly. When no deletion fits, the deletions with one other CNOT moved to another qubit pair are fitted (deletions
alone stalled at 7-8 CNOTs on validation targets that have 5-6). The search ends when nothing fits or when
``MAX_ROWS`` skeleton fits have been made. That bound counts work, not seconds, so an answer does not depend on
machine load (a 3 s wall-clock bound did: the Peres gate came out with 6-7 CNOTs in a fresh process, 5 in a warm one).
On validation targets (seed 777, 80, ``qas.compile(U, method="diffusion", gates=("u3", "cx"))``) an unbounded search
fits a median of 60 rows and at most 1,298 (73 s on a loaded machine). Replaying that search's trace, 400 rows keep
the 3 s bound's mean CX (unbounded 4.08, 200 rows 4.21, 100 rows 4.49). Measured with 400 (``bench/compile.py --set
clifford-3q --seed 777 --count 80 --peer-count 80``): 4.12 CX against BQSKit's 4.78 on the 77 both solved (BQSKit
fewer on 1, ours on 32), 1.08 s per target against BQSKit's 2.19 s in the same run; deletions alone gave 4.40.

A slot is a general one-qubit gate (``u3``) on each qubit at the start and on both qubits after each CNOT; any circuit
with that sequence of CNOT pairs equals the skeleton with some slot values (a one-qubit gate commutes forward to its
qubit's next slot), and a CNOT's direction is free (H on both qubits reverses it), so a skeleton is a sequence of
unordered qubit pairs.

Fitting is :func:`.least_squares.levenberg_marquardt` on the residual ``e^{i g} V - U`` with an analytic Jacobian
over the u3 slots (a parameterisation the placement vocabulary of :mod:`.refine` does not have).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from qas.circuit import Circuit, op
from qas.least_squares import best_of_restarts, levenberg_marquardt, phase_residuals
from qas.translate import translate

from .placements import _embed_permutation, infidelities, prefix_suffix_products

FIT_EXACT = 1e-10  # a shorter skeleton replaces the answer only when it fits at least this well
RESTARTS = (2, 8)  # random starts per skeleton; the second count only when no deletion fits with the first
ITERATIONS = 40  # Levenberg-Marquardt steps (exact fits reach ~1e-15 within 40 on validation deletions)
MAX_ROWS = 400  # no new fitting round starts after this many skeleton fits (restarts count; see the module doc)

PAIRS = ((0, 1), (0, 2), (1, 2))  # the CNOT pairs of 3 qubits (control = first)
_CNOT = torch.tensor([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=torch.complex128)
_PERMUTATIONS = torch.stack([torch.as_tensor(_embed_permutation(p, 3)) for p in PAIRS])  # (3, 8)
# |1><1|: d u3 / d phi = i |1><1| u3 and d u3 / d lambda = i u3 |1><1|.
_ONE = torch.tensor([[0, 0], [0, 1]], dtype=torch.complex128)

Skeleton = tuple[int, ...]  # indices into PAIRS


def skeleton_of(circuit: Circuit) -> Skeleton:
    """The CNOT pairs of a circuit whose multi-qubit gates are all ``cx`` (directions dropped)."""
    return tuple(PAIRS.index(tuple(sorted(o.qubits))) for o in circuit.operations if len(o.qubits) > 1)


def _u3(angles: torch.Tensor) -> torch.Tensor:
    """``(..., 3)`` angles -> ``(..., 2, 2)`` u3 matrices."""
    theta, phi, lam = angles.to(torch.complex128).unbind(-1)
    c, s = torch.cos(theta / 2), torch.sin(theta / 2)
    e_phi, e_lam = torch.exp(1j * phi), torch.exp(1j * lam)
    return torch.stack([torch.stack([c, -e_lam * s], -1), torch.stack([e_phi * s, e_phi * e_lam * c], -1)], -2)


def _u3_derivatives(angles: torch.Tensor) -> torch.Tensor:
    """``(..., 3)`` angles -> ``(..., 3, 2, 2)``: the u3 matrix differentiated by each angle."""
    u = _u3(angles)
    shifted = angles.clone()
    shifted[..., 0] += np.pi  # u3(theta + pi, phi, lambda) = 2 d u3 / d theta
    return torch.stack([_u3(shifted) / 2, 1j * _ONE @ u, 1j * u @ _ONE], dim=-3)


def _kron(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Batched (broadcast) Kronecker product of ``(..., m, m)`` and ``(..., k, k)``."""
    product = a[..., :, None, :, None] * b[..., None, :, None, :]
    size = a.shape[-1] * b.shape[-1]
    return product.reshape(*product.shape[:-4], size, size)


def _entangling_layers(pairs: torch.Tensor, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """``(K, k, ..., 8, 8)``: slots ``first (x) second`` after a CNOT, on each step's pair, as 3-qubit matrices."""
    block = _kron(_kron(first, second) @ _CNOT, torch.eye(2, dtype=torch.complex128))
    perm = _PERMUTATIONS[pairs].reshape(*pairs.shape, *[1] * (block.dim() - 4), 8)
    rows = torch.gather(block, -2, perm[..., :, None].expand(block.shape))
    return torch.gather(rows, -1, perm[..., None, :].expand(block.shape))


def unitaries_and_jacobians(pairs: torch.Tensor, angles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Skeletons ``(K, k)`` with slot angles ``(K, 3 + 2k, 3)`` (three initial slots, then the control's and the
    target's after each CNOT) -> unitaries ``(K, 8, 8)`` and their derivatives ``(K, 3 (3 + 2k), 8, 8)`` by angle."""
    batch = len(pairs)
    u, du = _u3(angles), _u3_derivatives(angles)
    first = _kron(_kron(u[:, 0], u[:, 1]), u[:, 2])  # (K, 8, 8)
    d_first = torch.stack(
        [_kron(_kron(du[:, 0], u[:, 1, None]), u[:, 2, None]), _kron(_kron(u[:, 0, None], du[:, 1]), u[:, 2, None]),
         _kron(_kron(u[:, 0, None], u[:, 1, None]), du[:, 2])], dim=1,
    ).reshape(batch, 9, 8, 8)  # fmt: skip
    layers = _entangling_layers(pairs, u[:, 3::2], u[:, 4::2])  # (K, k, 8, 8)
    d_layers = torch.cat(
        [
            _entangling_layers(pairs, du[:, 3::2], u[:, 4::2, None]),
            _entangling_layers(pairs, u[:, 3::2, None], du[:, 4::2]),
        ],
        dim=2,
    )  # (K, k, 6, 8, 8)
    steps = torch.cat([first[:, None], layers], dim=1)  # the initial slots, then one step per CNOT layer
    prefix, suffix = prefix_suffix_products(steps)
    derivatives = torch.cat(
        [suffix[:, 0, None] @ d_first, (suffix[:, 1:, None] @ d_layers @ prefix[:, 1:, None]).flatten(1, 2)], dim=1
    )
    return steps[:, -1] @ prefix[:, -1], derivatives


def fit(
    target: np.ndarray, skeletons: list[Skeleton], *, restarts: int = RESTARTS[0], seed: int = 0, first: bool = False
) -> tuple[np.ndarray, torch.Tensor]:
    """Fit the slots of equal-length skeletons to ``target`` from ``restarts`` random starts each: the best
    infidelity ``(K,)`` and slot angles ``(K, 3 + 2k, 3)`` of each. With ``first``, stop as soon as one skeleton
    fits to machine precision (the search needs one, not all)."""
    pairs = torch.tensor(skeletons, dtype=torch.long).reshape(len(skeletons), -1).repeat_interleave(restarts, dim=0)
    rows, slots = pairs.shape[0], 3 + 2 * pairs.shape[1]
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand((rows, 3 * slots + 1), generator=generator, dtype=torch.float64) * 2 * np.pi - np.pi
    u = torch.tensor(target, dtype=torch.complex128)

    def residuals(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return phase_residuals(u, *unitaries_and_jacobians(pairs, x[:, :-1].reshape(rows, slots, 3)), x[:, -1])

    x, _ = levenberg_marquardt(residuals, x, iterations=ITERATIONS, first=first)
    angles = x[:, :-1].reshape(rows, slots, 3)
    v, _ = unitaries_and_jacobians(pairs, angles)
    scores, angles = best_of_restarts(infidelities(u, v), angles, restarts)
    return scores.numpy(), angles


def to_circuit(skeleton: Skeleton, angles: torch.Tensor) -> Circuit:
    """A skeleton with slot angles ``(3 + 2k, 3)`` as ``u3`` and ``cx`` gates."""
    values = angles.tolist()
    ops = [op("u3", q, params=values[q]) for q in range(3)]
    for j, index in enumerate(skeleton):
        a, b = PAIRS[index]
        ops += [op("cx", a, b), op("u3", a, params=values[3 + 2 * j]), op("u3", b, params=values[4 + 2 * j])]
    return Circuit(3, tuple(ops))


def fewer_cnots(target: np.ndarray, circuit: Circuit, *, seed: int = 0) -> Circuit | None:
    """A ``u3``/``cx`` circuit for ``target`` with fewer CNOTs than ``circuit`` written in ``u3``/``cx``, or
    ``None`` when no shorter skeleton near its own fits (see the module docstring). Three-qubit circuits only."""
    if circuit.n_qubits != 3:
        return None
    current = skeleton_of(translate(circuit, ("u3", "cx")))
    found, rows = None, 0
    while current:  # one CNOT fewer per pass, until no round fits a shorter skeleton or the bound stops the rounds
        shorter = None
        for candidates, restarts in _rounds(current):
            if rows >= MAX_ROWS:
                break
            rows += len(candidates) * restarts
            scores, angles = fit(target, candidates, restarts=restarts, seed=seed, first=True)
            if scores.min() <= FIT_EXACT:
                shorter = candidates[int(scores.argmin())], angles[int(scores.argmin())]
                break
        if shorter is None:
            break
        current, found = shorter[0], to_circuit(*shorter)
    return found


def _rounds(skeleton: Skeleton) -> Iterator[tuple[list[Skeleton], int]]:
    """Skeletons one CNOT shorter than ``skeleton`` to fit, in rounds of growing cost, with their restart counts:
    the deletions from few starts, then from more (a deletion that fits from 1 start in 4 was seen on validation
    targets), then the deletions with another CNOT's pair replaced (a local minimum of deletions alone)."""
    deletions = list(dict.fromkeys(skeleton[:i] + skeleton[i + 1 :] for i in range(len(skeleton))))
    for restarts in RESTARTS:
        yield deletions, restarts
    edited = {
        (*d[:j], other, *d[j + 1 :]): None
        for d in deletions
        for j in range(len(d))
        for other in range(3)
        if other != d[j]
    }
    edited_only = [e for e in edited if e not in set(deletions)]
    if edited_only:  # none for a one-CNOT skeleton
        yield edited_only, RESTARTS[0]
