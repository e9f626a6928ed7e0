"""Numerical synthesis: which CNOT skeletons to fit to a target unitary or state (:mod:`qas.skeletons` fits them), and
in what order.

Analytic decompositions spend more CNOTs than a generic target needs: the quantum Shannon decomposition writes a
Haar-random three-qubit unitary in 19 CNOTs and a four-qubit one in 95 (Qiskit's block-ZXZ version), and
Plesch-Brukner state preparation takes 24 for a five-qubit state, where counting parameters allows 14, 61 and 13
(Shende, Markov & Bullock 2004). A skeleton of about that many CNOTs, each followed by a general gate on both its
qubits (the "CNOT unit" of Madden & Simonetto 2022), has as many parameters as the target has degrees of freedom, and
fitting them reaches machine precision from a few random starts. This is BQSKit's instantiation; BQSKit's LEAP finds
the 14-CNOT circuits for three-qubit unitaries in 5-9 s (``shared/notes/peer-measurements.md``), this fits them in 0.2
s (1.5 s with the search below the bound).

The searched skeletons cycle through every pair, (0, 1), (0, 2), ..., (n - 2, n - 1), then again (Madden & Simonetto's
"sequential" structure), or through the neighbours on a line for hardware; both fitted Haar-random unitaries at the
bound, and states at one CNOT above it (five-qubit states: 14 CNOTs over every pair, 14 or 15 along a line).

A controlled unitary of four or five qubits is demultiplexed into two fitted unitaries on the other qubits (a controlled
Haar-random three-qubit unitary: 36 CNOTs, where the bound is 61 and the Shannon decomposition takes 52).

Structured targets need fewer CNOTs than the bound (a Toffoli 6, a Fredkin 7, a Heisenberg step on three qubits 6),
and which ones cannot be counted; for three-qubit unitaries :func:`search_below_bound` looks for them, bottom-up
through every short skeleton and top-down by removing CNOTs from the bound (:func:`remove_cnots`).
``docs/numerical-synthesis.md`` records the measurements behind these choices.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator, Sequence

import numpy as np

from qas.circuit import Circuit
from qas.errors import QasError
from qas.phase_polynomial import is_diagonal
from qas.shannon import demultiplexed, rotation_cnots, shannon_decomposition
from qas.skeletons import (
    FIT_EXACT,
    RESTARTS,
    Skeleton,
    all_pairs,
    fit_skeletons,
    line_pairs,
    parameter_bound,
    sequential_skeleton,
)
from qas.synthesis import synthesize_unitary
from qas.tensor_factors import across_cut

# CNOT counts tried above the first: every Haar-random target fitted at the first count (unitaries at the bound,
# states one above it); a failed fit costs a full ITERATIONS (4 s for a four-qubit unitary), so the search is short.
EXTRA_CNOTS = 2
# The largest targets fitted as one skeleton: its parameters grow as the target's degrees of freedom (4**n for
# unitaries, 2**n for states), and so does a fit's time: 4 s for a four-qubit unitary (61 CNOTs), 5 s for a six-qubit
# state (30), 41 s for a seven-qubit state (61), on one core.
MAX_SKELETON_QUBITS = 4
MAX_STATE_QUBITS = 6
# Larger unitaries are split by the Shannon decomposition into four-qubit blocks fitted one by one: 292 CNOTs for five
# qubits (Qiskit: 423) in 14 s; six would take 16 blocks, about a minute.
MAX_UNITARY_QUBITS = 5

# Unitaries of up to this many qubits are also searched below the bound (:func:`search_below_bound`), where only
# structured targets (a Toffoli, a Trotter step) have circuits: 2-3 s more for a three-qubit target where nothing
# shorter exists. At four qubits a removal step from the bound refits some 60 skeletons of 60 CNOTs (about a minute,
# from a 61-CNOT fit's 4 s for 8 starts), and a bottom-up beam took 29 s for a 9-CNOT target.
MAX_SEARCH_QUBITS = 3
# Bottom-up, every skeleton of a CNOT count is fitted while there are at most this many (three qubits: up to 4 CNOTs,
# 1.1 s in all for a generic target, see :func:`cnots_on_each_qubit`; on a line of three, up to 6), from 4 random
# starts each: one start fits a random 4-CNOT circuit's own skeleton in 3-6 of 10 tries, and with 2 starts the search
# missed one of 3 such targets.
EXHAUSTIVE_SKELETONS = 81
EXHAUSTIVE_RESTARTS = 4
# Top-down, CNOTs are removed (:func:`remove_cnots`) from the bound's sequential skeletons over this many orders of the
# pairs, where the removals lead depending on the start. On 23 structured three-qubit validation targets, removal
# alone reached 10.4 CNOTs on average from 1 order, 10.1 from 3 and 10.0 from 6 (twice the time); after the bottom-up
# search, 3 orders reach 9.0 in 3.6 s per target.
REMOVAL_STARTS = 3
# The removal's fits from the bound: many and mostly failing, so short (30 steps and 2 starts reached the CNOT counts
# of 40 steps and a second round from 8 starts, which took 7.6 s per target against 3.3 s).
REMOVAL_RESTARTS = (2,)
REMOVAL_ITERATIONS = 30
REMOVAL_ROWS = 400  # skeleton fits (restarts count) per removal search
# Below the bound fits land in local minima more often: for three-qubit unitaries 32 starts halved the infidelity
# that 8 reach at 12 CNOTs (Haar-random: 2.5e-3 -> 1.0e-3, 0.3 -> 1.2 s a fit); on four qubits 24 starts found no
# better fit than 8 at 58 CNOTs (1.4e-4), so larger targets keep RESTARTS.
APPROXIMATE_RESTARTS = 32
# Largest entry between a qubit's values read as zero by :func:`multiplexing_qubit` (as for diagonals,
# :mod:`qas.phase_polynomial`: a matrix saved in single precision carries ~1e-8).
MULTIPLEXOR_ATOL = 5e-8


def handles(n_qubits: int, *, state: bool) -> bool:
    """Whether a target of ``n_qubits`` is within the sizes fitted here (``MAX_*_QUBITS``)."""
    return n_qubits <= (MAX_STATE_QUBITS if state else MAX_UNITARY_QUBITS)


def check_size(n_qubits: int, *, state: bool) -> None:
    """A :class:`QasError` unless numerical synthesis :func:`handles` a target of ``n_qubits``."""
    if not handles(n_qubits, state=state):
        kind, limit = ("states", MAX_STATE_QUBITS) if state else ("unitaries", MAX_UNITARY_QUBITS)
        raise QasError(f"numerical synthesis handles {kind} of at most {limit} qubits, the target has {n_qubits}")


def numerical_synthesis(
    target: np.ndarray,
    *,
    fewer_than: int,
    pairs: Sequence[tuple[int, int]] | None = None,
    tolerance: float = FIT_EXACT,
    seed: int = 0,
) -> Circuit | None:
    """The ``u3``/``cx`` circuit with the fewest CNOTs below ``fewer_than`` whose sequential skeleton over ``pairs``
    (default :func:`~qas.skeletons.all_pairs`) fits ``target`` (a unitary or a state) within ``tolerance``, trying
    CNOT counts upward from :func:`~qas.skeletons.parameter_bound` (``EXTRA_CNOTS`` more at most); ``None`` when none
    fits (a target that an analytic decomposition already writes in fewer CNOTs than the bound, for one). A unitary
    above ``MAX_SKELETON_QUBITS`` is written by :func:`qas.shannon.shannon_decomposition` with fitted four-qubit
    blocks (``pairs`` plays no part), each within its share of ``tolerance`` (:func:`leaf_tolerance`).

    A ``tolerance`` above ``FIT_EXACT`` asks for approximate synthesis: the search then goes on below the shortest
    exact circuit to the fewest CNOTs whose fit is within it (:func:`approximate_synthesis`; a Haar-random
    three-qubit unitary takes 12 CNOTs within 1e-3, a four-qubit one about 56).

    A unitary of four or five qubits that multiplexes on a qubit (a controlled gate; not a diagonal) is written as its
    demultiplexing instead (:func:`_demultiplexed`): two fitted unitaries of one qubit fewer around a multiplexed Rz.

    A state's search starts one CNOT above the bound: the bound itself fitted no Haar-random state of 3 to 6 qubits
    (3 targets each, 8 starts), one more fitted every one, and three qubits are known to need three CNOTs (Znidaric,
    Giraud & Georgeot 2008, where the bound is two); skipping it halves the time at six qubits (12 s to 5 s).
    """
    n = int(np.log2(target.shape[0]))
    state = target.ndim == 1
    check_size(n, state=state)
    # Structure above three qubits. Not for a diagonal: it multiplexes on every qubit, but its phase polynomial is
    # shorter (2^n - 2 CNOTs at most, where two generic diagonals around the multiplexed Rz take 3 2^(n-1) - 4), and
    # line blocks that cannot beat it cost a second.
    structured = not state and n > MAX_SEARCH_QUBITS and not is_diagonal(target)
    if structured and (control := multiplexing_qubit(target)) is not None:
        circuit = _demultiplexed(target, control, fewer_than, tolerance)
        return circuit if circuit is not None and circuit.cnot_count < fewer_than else None
    pairs = all_pairs(n) if pairs is None else pairs
    if structured:
        # Neither the bound's fit nor the Shannon route (48 CNOTs in rotations alone) writes fewer than these.
        blocks = line_block_synthesis(target, fewer_than, pairs, tolerance=tolerance, seed=seed)
        if blocks is not None:
            return blocks
    if not state and n > MAX_SKELETON_QUBITS:
        if fewer_than <= rotation_cnots(n, MAX_SKELETON_QUBITS):
            return None  # a 30-CNOT five-qubit phase oracle: the fitted blocks took 47 s to lose to it
        leaves = 4 ** (n - MAX_SKELETON_QUBITS)
        leaf = functools.partial(_block, tolerance=max(FIT_EXACT, leaf_tolerance(tolerance, leaves)))
        circuit = shannon_decomposition(target, leaf, MAX_SKELETON_QUBITS)
        return circuit if circuit.cnot_count < fewer_than else None
    found: Circuit | None = None
    first = parameter_bound(n, state=state) + (1 if state and n >= 3 else 0)
    for cnots in range(first, min(fewer_than, first + EXTRA_CNOTS + 1)):
        scores, circuits = fit_skeletons(target, [sequential_skeleton(pairs, cnots)], seed=seed, first=True)
        if scores[0] <= tolerance:
            found = circuits[0]
            break
    # Two-qubit exact synthesis (the KAK decomposition) already takes the fewest CNOTs, 0 to 3.
    if not state and 2 < n <= MAX_SEARCH_QUBITS:
        below = fewer_than if found is None else found.cnot_count
        found = search_below_bound(target, below, pairs, tolerance=tolerance, seed=seed) or found
    if tolerance > FIT_EXACT:
        below = fewer_than if found is None else found.cnot_count
        found = approximate_synthesis(target, below, pairs, tolerance=tolerance, seed=seed) or found
    return found


def approximate_synthesis(
    target: np.ndarray, fewer_than: int, pairs: Sequence[tuple[int, int]], *, tolerance: float, seed: int = 0
) -> Circuit | None:
    """The circuit of the shortest sequential skeleton below ``fewer_than`` CNOTs (a count known to fit) that fits
    ``target`` within ``tolerance``; ``None`` when one CNOT fewer already misses it.

    Below the bound a generic target has no exact circuit, but the best fit's infidelity grows smoothly as CNOTs go
    (Haar-random, 8 starts: three qubits 1e-5..2e-4 at 13 CNOTs, 5e-4..3e-3 at 12, 5e-3..1e-2 at 11; four qubits
    ~2e-6 at 60, ~1e-4 at 58, 1.3e-3 at 55, ~1e-2 at 50), so the count is searched as if monotone: in steps of one,
    two, four, ... CNOTs down until a fit misses, then by bisection. A four-qubit target takes ~5 fits of ~5 s each.
    """
    small = target.ndim == 2 and target.shape[0] <= 2**MAX_SEARCH_QUBITS
    restarts = APPROXIMATE_RESTARTS if small else RESTARTS
    failing, fitting, found, step = -1, fewer_than, None, 1  # the counts known to miss and to fit
    while fitting - failing > 1:
        cnots = max(fitting - step, 0) if failing < 0 else (failing + fitting) // 2
        scores, circuits = fit_skeletons(target, [sequential_skeleton(pairs, cnots)], restarts=restarts, seed=seed)
        if scores[0] <= tolerance:
            fitting, found = cnots, circuits[0]
        else:
            failing = cnots
        step *= 2
    return found


def multiplexing_qubit(unitary: np.ndarray) -> int | None:
    """The first qubit whose value ``unitary`` keeps (it applies one unitary to the others for each value of it: a
    controlled gate, or a multiplexor), or None."""
    # Across the cut, the qubit's (output, input) rows (0, 1) and (1, 0) are the entries between its values.
    n = int(np.log2(unitary.shape[0]))
    return next((q for q in range(n) if np.max(np.abs(across_cut(unitary, (q,))[1:3])) <= MULTIPLEXOR_ATOL), None)


def _demultiplexed(target: np.ndarray, control: int, fewer_than: int, tolerance: float) -> Circuit | None:
    """A multiplexor on ``control`` as its two blocks' demultiplexing (:func:`qas.shannon.demultiplexed`: two fitted
    unitaries on the other qubits around a multiplexed Rz of ``2^(n-1)`` CNOTs): 36 CNOTs for a four-qubit one where
    a fit of the whole takes 61 and the Shannon decomposition 52; None where that Rz alone reaches ``fewer_than``."""
    n = int(np.log2(target.shape[0]))
    if fewer_than <= 2 ** (n - 1):
        return None
    if n - 1 > MAX_SEARCH_QUBITS and fewer_than <= 2 ** (n - 1) + 2 * parameter_bound(n - 1):
        # Leaves above three qubits are not searched below the bound, and a demultiplexing's leaves (eigenvector
        # bases of the blocks) are generic even for a structured gate: CCCCX spent 15 s to lose to exact's 64.
        return None
    others = [q for q in range(n) if q != control]
    order = [control, *others]
    blocks = target.reshape([2] * (2 * n)).transpose(order + [n + q for q in order]).reshape(2, 2 ** (n - 1), 2, -1)
    leaf = functools.partial(_block, tolerance=max(FIT_EXACT, leaf_tolerance(tolerance, 2)))
    ops = demultiplexed(blocks[0, :, 0], blocks[1, :, 1], control, others, leaf, n - 1)
    return Circuit(n, tuple(ops))


def leaf_tolerance(tolerance: float, leaves: int) -> float:
    """The infidelity each of ``leaves`` factors may have for their product to be within ``tolerance``: the angle
    ``arcsin(sqrt(1 - F))`` between unitaries is a metric unchanged by multiplying both by a unitary, so the product's
    angle is at most the sum of the factors' (exact factors, such as multiplexed rotations, add nothing)."""
    return math.sin(math.asin(math.sqrt(tolerance)) / leaves) ** 2


def search_below_bound(
    target: np.ndarray,
    fewer_than: int,
    pairs: Sequence[tuple[int, int]],
    *,
    tolerance: float = FIT_EXACT,
    seed: int = 0,
) -> Circuit | None:
    """A circuit for the unitary ``target`` with fewer than ``fewer_than`` CNOTs, all on ``pairs``, that fits within
    ``tolerance``, found among skeletons below the parameter bound, where only structured targets fit; ``None`` when
    the search finds none.

    Which CNOTs a short circuit needs cannot be read off its prefixes: a skeleton's best fit says little about
    whether it extends to an exact one (a random 4-CNOT circuit's own first two CNOTs fit it to 0.58, other pairs to
    0.23), so growing the best prefixes (a beam search, tried first) found 6 CNOTs for it and 10-11 for 6-CNOT ones.
    The search works from both ends instead. Bottom-up it fits every skeleton of each count while there are few
    (:data:`EXHAUSTIVE_SKELETONS`), which finds the shortest circuits outright. Unless that tried every count below
    ``fewer_than``, top-down it removes CNOTs (:func:`remove_cnots`) from the bound's sequential skeleton over
    :data:`REMOVAL_STARTS` orders of the pairs, keeping the fewest.
    """
    n = int(np.log2(target.shape[0]))
    shortest, settled = _shortest_skeleton(target, min(fewer_than, parameter_bound(n)), pairs, tolerance, seed)
    if settled:
        return shortest
    best: Circuit | None = None
    for order in itertools.islice(itertools.permutations(pairs), REMOVAL_STARTS):
        start = sequential_skeleton(order, parameter_bound(n))
        circuit = trim_skeleton(target, start, pairs, moves_first=False, tolerance=tolerance, seed=seed)
        if circuit is not None and circuit.cnot_count < (fewer_than if best is None else best.cnot_count):
            best = circuit
    return best


def _shortest_skeleton(
    target: np.ndarray, fewer_than: int, pairs: Sequence[tuple[int, int]], tolerance: float, seed: int
) -> tuple[Circuit | None, bool]:
    """The circuit of the first skeleton that fits, trying every skeleton of 0, 1, 2, ... CNOTs (below
    ``fewer_than``) while a count has at most :data:`EXHAUSTIVE_SKELETONS` of them, and whether that settles the
    search: it found one, or tried every count below ``fewer_than`` (asked to beat a 5-CNOT circuit, which ``auto``
    does with a generator's, it need not go on from the bound)."""
    needed = cnots_on_each_qubit(target, tolerance)
    level: list[Skeleton] = [()]
    for _ in range(fewer_than):
        if len(level) > EXHAUSTIVE_SKELETONS:
            return None, False
        possible = [s for s in level if all(sum(q in pair for pair in s) >= k for q, k in enumerate(needed))]
        if possible:
            scores, circuits = fit_skeletons(
                target, possible, restarts=EXHAUSTIVE_RESTARTS, iterations=REMOVAL_ITERATIONS, seed=seed, first=True
            )
            best = int(np.argmin(scores))
            if scores[best] <= tolerance:
                return circuits[best], True
        level = [longer for skeleton in level for longer in _extensions(skeleton, pairs)]
    return None, True


def cnots_on_each_qubit(unitary: np.ndarray, tolerance: float = FIT_EXACT) -> list[int]:
    """For each qubit, the fewest CNOTs any circuit within ``tolerance`` of ``unitary`` applies to it
    (:func:`cnots_across` that qubit and the rest). A generic three-qubit unitary has rank 4 on every qubit: no
    skeleton of under 3 CNOTs can fit it, nor one that touches a qubit once, which spares the bottom-up search half
    its fits (60 skeletons of the 121 up to 4 CNOTs)."""
    return [cnots_across(unitary, (q,), tolerance) for q in range(int(np.log2(unitary.shape[0])))]


def cnots_across(unitary: np.ndarray, group: Sequence[int], tolerance: float = FIT_EXACT) -> int:
    """The fewest CNOTs between ``group`` and the other qubits in any circuit within ``tolerance`` of ``unitary``:
    ``ceil(log2 r)`` for the operator Schmidt rank ``r`` across that cut. One-qubit gates and gates on one side
    leave the rank as it is and a CNOT across has rank 2, so k CNOTs across allow at most ``2**k`` (and a two-qubit
    gate across at most 4).

    Within a tolerance the rank that counts is the smallest whose dropped Schmidt coefficients ``s_i`` (their squares
    sum to ``d``) allow it: a circuit of rank ``r`` has a fidelity of at most ``sum_{i <= r} s_i^2 / d`` (the best
    rank-``r`` approximation), so the rest must be at most ``tolerance * d``."""
    squares = np.linalg.svd(across_cut(unitary, group), compute_uv=False) ** 2
    dropped = np.cumsum(squares[::-1])[::-1]  # dropped[r]: the sum of the squares from index r on
    rank = next((r for r in range(1, len(squares)) if dropped[r] <= tolerance * unitary.shape[0]), len(squares))
    return math.ceil(math.log2(rank))


def line_block_synthesis(
    target: np.ndarray, fewer_than: int, pairs: Sequence[tuple[int, int]], *, tolerance: float, seed: int = 0
) -> Circuit | None:
    """A circuit of one general two-qubit gate (3 CNOTs) on each neighbouring pair of a line, in any order, as a
    Trotter step of a nearest-neighbour Hamiltonian is, with CNOTs then removed where the rest still fits (an Ising
    step's 9 become 6); None when no order fits within ``tolerance`` in fewer than ``fewer_than`` CNOTs.

    Four- and five-qubit unitaries are otherwise fitted from the bound (a Heisenberg step on four qubits took 62
    CNOTs, here 9 in 0.2 s). A target is only tried when every cut of the line allows it: one two-qubit gate across
    the cut after qubit k has operator Schmidt rank 4 at most (:func:`cnots_across` at most 2), which generic targets
    (rank 16 across the middle of four qubits) fail without a fit.
    """
    n = int(np.log2(target.shape[0]))
    bonds = line_pairs(n)
    if 3 * len(bonds) >= fewer_than or any(cnots_across(target, range(k + 1), tolerance) > 2 for k in range(n - 1)):
        return None
    orders = [tuple(pair for bond in order for pair in (bond,) * 3) for order in itertools.permutations(bonds)]
    scores, circuits = fit_skeletons(target, orders, restarts=EXHAUSTIVE_RESTARTS, seed=seed, first=True)
    best = int(np.argmin(scores))
    if scores[best] > tolerance:
        return None
    shorter = trim_skeleton(target, orders[best], pairs, moves_first=False, tolerance=tolerance, seed=seed)
    return shorter or circuits[best]


def _extensions(skeleton: Skeleton, pairs: Sequence[tuple[int, int]]) -> list[Skeleton]:
    """The skeletons one CNOT longer, less those that only reorder the last two: CNOT units on disjoint pairs
    commute, so of the two orders only the one with the higher pair last is kept."""
    return [(*skeleton, pair) for pair in pairs if not skeleton or set(pair) & set(skeleton[-1]) or pair > skeleton[-1]]


def remove_cnots(
    target: np.ndarray,
    skeleton: Skeleton,
    pairs: Sequence[tuple[int, int]],
    *,
    restarts: tuple[int, ...],
    iterations: int,
    max_rows: int,
    moves_first: bool = True,
    tolerance: float = FIT_EXACT,
    seed: int = 0,
) -> Circuit | None:
    """The shortest circuit for the unitary ``target`` reached by removing CNOTs from ``skeleton`` (one that fits it,
    such as a circuit's own or one at the bound) while the rest still fits within ``tolerance``; ``None`` when no
    removal fits.

    Each step fits every skeleton one CNOT shorter in one batch, from ``restarts[0]`` random starts each, then from
    the later counts, and when none fits, the removals with one other CNOT moved to another pair of ``pairs``
    (removals alone stall in local minima: 7-8 CNOTs on targets that have 5-6); the search goes on from one that fits.
    Without ``moves_first``, moves come only after a first removal has fitted: for a start that says nothing about the
    target (the bound's sequential skeleton), where no removal fits, the target is taken to need its count (a generic
    three-qubit unitary at 14 on a line, whose moves are 338 fits that never found one); a circuit's own skeleton
    keeps them (two Toffolis with a rotation between lose their first CNOTs to a move).
    (BQSKit's scanning gate removal, batched, with moves). It ends when nothing fits or when the next round would
    take the fits (restarts count) past ``max_rows``: a bound on work, not seconds, so the result does not depend on
    machine load.
    """
    current, found, rows = skeleton, None, 0
    while current:  # one CNOT fewer per pass
        shorter = None
        for candidates, starts in _removal_rounds(current, pairs, restarts, moves=moves_first or found is not None):
            if rows + len(candidates) * starts > max_rows:
                continue
            rows += len(candidates) * starts
            scores, circuits = fit_skeletons(
                target, candidates, restarts=starts, iterations=iterations, seed=seed, first=True
            )
            best = int(np.argmin(scores))
            if scores[best] <= tolerance:
                shorter = candidates[best], circuits[best]
                break
        if shorter is None:
            break
        current, found = shorter
    return found


def trim_skeleton(
    target: np.ndarray,
    skeleton: Skeleton,
    pairs: Sequence[tuple[int, int]],
    *,
    moves_first: bool = True,
    tolerance: float = FIT_EXACT,
    seed: int = 0,
) -> Circuit | None:
    """:func:`remove_cnots` with the removal search's short fits and budget (``REMOVAL_*``)."""
    return remove_cnots(
        target,
        skeleton,
        pairs,
        restarts=REMOVAL_RESTARTS,
        iterations=REMOVAL_ITERATIONS,
        max_rows=REMOVAL_ROWS,
        moves_first=moves_first,
        tolerance=tolerance,
        seed=seed,
    )


def _removal_rounds(
    skeleton: Skeleton, pairs: Sequence[tuple[int, int]], restarts: tuple[int, ...], *, moves: bool
) -> Iterator[tuple[list[Skeleton], int]]:
    """Skeletons one CNOT shorter than ``skeleton`` to fit, in rounds of growing cost, with their restart counts: the
    removals from each count of starts, then with ``moves`` the removals with another CNOT's pair replaced."""
    removals = list(dict.fromkeys(skeleton[:i] + skeleton[i + 1 :] for i in range(len(skeleton))))
    for starts in restarts:
        yield removals, starts
    if not moves:
        return
    moved = {
        (*r[:j], other, *r[j + 1 :]): None for r in removals for j in range(len(r)) for other in pairs if other != r[j]
    }
    known = set(removals)
    moved_only = [m for m in moved if m not in known]
    if moved_only:  # none for a one-CNOT skeleton
        yield moved_only, restarts[0]


def _block(unitary: np.ndarray, *, tolerance: float) -> Circuit:
    """A block of the Shannon decomposition: fitted from the bound up (and below within ``tolerance``), else (rarely)
    written exactly."""
    n = int(np.log2(unitary.shape[0]))
    fitted = numerical_synthesis(unitary, fewer_than=parameter_bound(n) + EXTRA_CNOTS + 1, tolerance=tolerance)
    return fitted if fitted is not None else synthesize_unitary(unitary)
