"""CNOT skeletons and their fit: a fixed sequence of CNOTs with a general one-qubit gate in every slot, its angles
fitted to a target unitary or state by Levenberg-Marquardt (:mod:`qas.least_squares`), many skeletons and random
starts as one batch. :mod:`qas.numerical_synthesis` decides which skeletons to fit.

A slot is a ``u3`` on each qubit at the start and on both qubits after each CNOT (the "CNOT unit" of Madden &
Simonetto 2022): any circuit with that sequence of CNOT pairs equals the skeleton with some slot values (a one-qubit
gate commutes forward to its qubit's next slot), and a CNOT's direction is free (H on both qubits reverses it), so a
skeleton is a sequence of qubit pairs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch

from qas.circuit import Circuit, Operation, op
from qas.least_squares import best_of_restarts, levenberg_marquardt, phase_residuals
from qas.linalg import embedding_permutation, wrap_angle
from qas.sim import torch_backend as tb
from qas.translate import translate

Skeleton = tuple[tuple[int, int], ...]  # the CNOTs' (control, target) pairs, in order

FIT_EXACT = 1e-12  # infidelity below which a fit counts as exact (converged fits reach ~1e-15)
RESTARTS = 8  # random starts per skeleton, fitted as one batch; the fit stops when one converges
ITERATIONS = 100  # Levenberg-Marquardt steps per fit

_DTYPE = torch.complex128
_ONE = torch.tensor([[0, 0], [0, 1]], dtype=_DTYPE)  # |1><1|: d u3 / d phi = i |1><1| u3, d u3 / d lambda = i u3 |1><1|


def parameter_bound(n_qubits: int, *, state: bool = False) -> int:
    """The fewest CNOTs that parameter counting allows for a generic ``n_qubits`` unitary (``ceil((4^n - 3n - 1) /
    4)``: 3, 14, 61 for 2-4 qubits) or state (``ceil((2^(n+1) - 2n - 2) / 4)``): the target's real degrees of
    freedom, less those of the first slots (3 per qubit on a unitary, 2 on |0>), over the 4 each CNOT unit adds."""
    if state:
        return max(0, math.ceil((2 ** (n_qubits + 1) - 2 * n_qubits - 2) / 4))
    return max(0, math.ceil((4**n_qubits - 3 * n_qubits - 1) / 4))


def all_pairs(n_qubits: int) -> list[tuple[int, int]]:
    """Every pair of qubits, in order: (0, 1), (0, 2), ..., (n - 2, n - 1)."""
    return list(itertools.combinations(range(n_qubits), 2))


def line_pairs(n_qubits: int) -> list[tuple[int, int]]:
    """Neighbours on a line, (0, 1), (1, 2), ...: a skeleton over them runs without SWAPs on any device with a path
    of ``n_qubits`` qubits."""
    return [(q, q + 1) for q in range(n_qubits - 1)]


def sequential_skeleton(pairs: Sequence[tuple[int, int]], cnots: int) -> Skeleton:
    """``cnots`` CNOTs cycling through ``pairs`` in order."""
    return tuple(pairs[i % len(pairs)] for i in range(cnots))


def skeleton_circuit(n_qubits: int, skeleton: Skeleton, angles: torch.Tensor | np.ndarray) -> Circuit:
    """The skeleton with slot angles ``(n + 2k, 3)`` as ``u3`` and ``cx`` gates, the angles wrapped into (-pi, pi]
    (which changes the circuit by a global phase at most)."""
    values = [[wrap_angle(a) for a in slot] for slot in np.asarray(angles, dtype=float).tolist()]
    ops: list[Operation] = [op("u3", q, params=values[q]) for q in range(n_qubits)]
    for j, (a, b) in enumerate(skeleton):
        slot = n_qubits + 2 * j
        ops += [op("cx", a, b), op("u3", a, params=values[slot]), op("u3", b, params=values[slot + 1])]
    return Circuit(n_qubits, tuple(ops))


def _u3_derivatives(angles: torch.Tensor) -> torch.Tensor:
    """``(..., 3)`` angles -> ``(..., 3, 2, 2)``: the u3 matrix differentiated by each angle."""
    u = tb.gate_matrices("u3", angles, dtype=_DTYPE)
    shifted = angles.clone()
    shifted[..., 0] += math.pi  # u3(theta + pi, phi, lambda) = 2 d u3 / d theta
    return torch.stack([tb.gate_matrices("u3", shifted, dtype=_DTYPE) / 2, 1j * _ONE @ u, 1j * u @ _ONE], dim=-3)


Maps = tuple[torch.Tensor, torch.Tensor]  # index maps (R, T, d) of T gates on R rows, and their inverses


@lru_cache(maxsize=32)
def _permutations(n_qubits: int, skeletons: tuple[Skeleton, ...]) -> tuple[Maps, Maps]:
    """:func:`qas.linalg.embedding_permutation` index maps, with their inverses: for the initial slots
    ``(R, n, 2**n)`` and the CNOT units ``(R, k, 2**n)`` of equal-length skeletons (one per row). Cached: a fit runs
    the same skeletons at every iteration."""
    slots = np.array([[embedding_permutation((q,), n_qubits) for q in range(n_qubits)]] * len(skeletons))
    units = np.array([[embedding_permutation(pair, n_qubits) for pair in s] for s in skeletons])
    units = units.reshape(len(skeletons), -1, 2**n_qubits)  # (R, 0, 2**n) for skeletons without CNOTs
    return _with_inverse(slots), _with_inverse(units)


def _with_inverse(permutations: np.ndarray) -> Maps:
    return torch.as_tensor(permutations), torch.as_tensor(np.argsort(permutations, axis=-1))


def _apply_local(gates: torch.Tensor, maps: Maps, states: torch.Tensor) -> torch.Tensor:
    """Gates ``(R, T, c, m, m)`` (c of them per step) on the state rows ``(R, T, C, d)`` of each step, on the qubits
    whose index maps ``(R, T, d)`` are given: ``(R, T, c, C, d)``. The gate qubits are moved to the top bits, the
    gate multiplies a ``(m, d / m)`` view, and the bits move back: ``c m d`` products per state, where the full
    ``(d, d)`` matrices would take ``c d**2`` and their memory (94 MB a step at six qubits)."""
    rows, steps, count, m = gates.shape[:4]
    permutations, inverse = maps
    moved = torch.gather(states, -1, inverse[:, :, None].expand(states.shape))
    applied = gates[:, :, :, None] @ moved.reshape(rows, steps, 1, states.shape[2], m, -1)
    applied = applied.reshape(rows, steps, count, *states.shape[2:])
    return torch.gather(applied, -1, permutations[:, :, None, None].expand(applied.shape))


def _kron(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Batched (broadcast) Kronecker product of ``(..., m, m)`` and ``(..., k, k)`` matrices."""
    product = a[..., :, None, :, None] * b[..., None, :, None, :]
    size = a.shape[-1] * b.shape[-1]
    return product.reshape(*product.shape[:-4], size, size)


def _embed(gates: torch.Tensor, maps: Maps) -> torch.Tensor:
    """Gates ``(R, T, ..., m, m)`` as full matrices ``(R, T, ..., d, d)`` on the qubits whose index maps
    ``(R, T, d)`` are given (see :func:`_permutations`)."""
    permutations = maps[0]
    dimension = permutations.shape[-1]
    full = _kron(gates, torch.eye(dimension // gates.shape[-1], dtype=_DTYPE))
    perm = permutations.reshape(*permutations.shape[:2], *[1] * (gates.dim() - 4), dimension)
    rows = torch.gather(full, -2, perm[..., :, None].expand(full.shape))
    return torch.gather(rows, -1, perm[..., None, :].expand(full.shape))


def values_and_derivatives(
    n_qubits: int, skeletons: Sequence[Skeleton], angles: torch.Tensor, start: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run equal-length skeletons (one per row) with slot angles ``(R, n + 2k, 3)`` on the states ``start``
    ``(C, 2**n)``: the output states ``(R, C, 2**n)`` and their derivatives by every angle ``(R, 3 (n + 2k), C,
    2**n)``.

    The gates are the n initial slots, then each CNOT with the two slots after it as one two-qubit gate (a "CNOT
    unit"), all written as full matrices. The derivative by an angle of gate t is ``S_t G_t' p_t``: the states
    before it, the gate differentiated, then the product ``S_t`` of the gates after it; the states and the products
    are one matrix product per gate each, so a fit step is a few dozen torch calls whatever the batch. (Applying the
    gates through index gathers instead made the diffusion pipeline's three-qubit searches 1.4x slower, and carrying
    every derivative forward through the later gates made a four-qubit unitary take 100 s, not 4.)
    """
    rows, cnots, dimension = angles.shape[0], len(skeletons[0]), 2**n_qubits
    slot_maps, unit_maps = _permutations(n_qubits, tuple(skeletons))
    u, du = tb.gate_matrices("u3", angles, dtype=_DTYPE), _u3_derivatives(angles)
    cx = tb.gate_matrices("cx", None, dtype=_DTYPE)
    first, second = u[:, n_qubits::2], u[:, n_qubits + 1 :: 2]
    d_first, d_second = du[:, n_qubits::2], du[:, n_qubits + 1 :: 2]
    units = _kron(first, second) @ cx  # (R, k, 4, 4)
    d_units = torch.cat([_kron(d_first, second[:, :, None]), _kron(first[:, :, None], d_second)], dim=2) @ cx

    gates = _embed(u[:, :n_qubits], slot_maps)  # (R, n + k, d, d) with the units
    if cnots:
        gates = torch.cat([gates, _embed(units, unit_maps)], dim=1)
    states = [start.expand(rows, *start.shape)]
    after = [torch.eye(dimension, dtype=_DTYPE).expand(rows, -1, -1)]
    for t in range(n_qubits + cnots):
        states.append(states[-1] @ gates[:, t].transpose(-1, -2))
        if t:
            after.append(after[-1] @ gates[:, -t])
    # The state rows before each gate (R, T, C, d) and the products after it (R, T, 1, d, d).
    before, after_t = torch.stack(states[:-1], dim=1), torch.stack(after[::-1], dim=1)[:, :, None]
    # Each gate's derivatives applied to the states before it, then the gates after it: (R, T, c, C, d) each.
    derivatives = [(_apply_local(du[:, :n_qubits], slot_maps, before[:, :n_qubits]) @ after_t[:, :n_qubits].mT)]
    if cnots:
        derivatives.append(_apply_local(d_units, unit_maps, before[:, n_qubits:]) @ after_t[:, n_qubits:].mT)
    return states[-1], torch.cat([d.flatten(1, 2) for d in derivatives], dim=1)


def fit_skeletons(
    target: np.ndarray,
    skeletons: Sequence[Skeleton],
    *,
    restarts: int = RESTARTS,
    iterations: int = ITERATIONS,
    seed: int = 0,
    first: bool = False,
) -> tuple[np.ndarray, list[Circuit]]:
    """Fit the slots of equal-length skeletons to ``target`` (a unitary ``(d, d)`` or a state ``(d,)``) from
    ``restarts`` random starts each: each skeleton's best infidelity ``(K,)`` and its circuit. With ``first``, stop as
    soon as one fit converges to machine precision (a search that needs one, not all)."""
    n = int(np.log2(target.shape[0]))
    state = target.ndim == 1
    rows = [s for s in skeletons for _ in range(restarts)]
    slots = n + 2 * len(skeletons[0])
    generator = torch.Generator().manual_seed(seed)
    x = (torch.rand((len(rows), 3 * slots + 1), generator=generator, dtype=torch.float64) * 2 - 1) * math.pi
    goal = torch.tensor(target, dtype=_DTYPE)  # a copy: targets may be read-only (the named unitaries are)
    # A unitary is the image of every basis state (row j: V|j>, so V is its transpose); a state that of |0...0>.
    start = torch.eye(2**n, dtype=_DTYPE)[:1] if state else torch.eye(2**n, dtype=_DTYPE)

    def outputs(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        values, derivatives = values_and_derivatives(n, rows, x[:, :-1].reshape(len(rows), slots, 3), start)
        if state:
            return values[:, 0], derivatives[:, :, 0]
        return values.transpose(-1, -2), derivatives.transpose(-1, -2)

    def residuals(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return phase_residuals(goal, *outputs(x), x[:, -1])

    x, _ = levenberg_marquardt(residuals, x, iterations=iterations, first=first)
    values, _ = outputs(x)
    fidelities = tb.state_fidelity(values, goal) if state else tb.unitary_fidelity(values, goal)
    scores, angles = best_of_restarts((1 - fidelities).clamp_min(0), x[:, :-1].reshape(-1, slots, 3), restarts)
    if state:
        angles[:, :n, 2] = 0  # u3(t, p, l)|0> does not depend on l, and u3(t, p, 0) takes a gate less in rz/sx
    return scores.numpy(), [skeleton_circuit(n, s, a) for s, a in zip(skeletons, angles, strict=True)]


def cnot_skeleton(circuit: Circuit) -> Skeleton:
    """The qubit pairs of the CNOTs of ``circuit`` written in ``u3``/``cx`` (a Toffoli is six), directions dropped."""
    written = translate(circuit, ("u3", "cx"))
    return tuple(tuple(sorted(o.qubits)) for o in written.operations if len(o.qubits) > 1)
