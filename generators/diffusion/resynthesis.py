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

Skeletons, their slots and their fitting are :mod:`qas.numerical_synthesis`'s (Levenberg-Marquardt with analytic
derivatives over ``u3`` slots, a parameterisation the placement vocabulary of :mod:`.refine` does not have).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from qas.circuit import Circuit
from qas.numerical_synthesis import Skeleton, all_pairs, fit_skeletons
from qas.translate import translate

FIT_EXACT = 1e-10  # a shorter skeleton replaces the answer only when it fits at least this well
RESTARTS = (2, 8)  # random starts per skeleton; the second count only when no deletion fits with the first
ITERATIONS = 40  # Levenberg-Marquardt steps (exact fits reach ~1e-15 within 40 on validation deletions)
MAX_ROWS = 400  # no new fitting round starts after this many skeleton fits (restarts count; see the module doc)

PAIRS = all_pairs(3)  # the CNOT pairs of 3 qubits (control first; a CNOT's direction is free)


def skeleton_of(circuit: Circuit) -> Skeleton:
    """The CNOT pairs of a circuit whose multi-qubit gates are all ``cx`` (directions dropped)."""
    return tuple(tuple(sorted(o.qubits)) for o in circuit.operations if len(o.qubits) > 1)


def fit(
    target: np.ndarray, skeletons: list[Skeleton], *, restarts: int = RESTARTS[0], seed: int = 0, first: bool = False
) -> tuple[np.ndarray, list[Circuit]]:
    """:func:`qas.numerical_synthesis.fit_skeletons` with this search's iteration count: each skeleton's best
    infidelity and circuit."""
    return fit_skeletons(target, skeletons, restarts=restarts, iterations=ITERATIONS, seed=seed, first=first)


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
            scores, circuits = fit(target, candidates, restarts=restarts, seed=seed, first=True)
            if scores.min() <= FIT_EXACT:
                shorter = candidates[int(scores.argmin())], circuits[int(scores.argmin())]
                break
        if shorter is None:
            break
        current, found = shorter
    return found


def _rounds(skeleton: Skeleton) -> Iterator[tuple[list[Skeleton], int]]:
    """Skeletons one CNOT shorter than ``skeleton`` to fit, in rounds of growing cost, with their restart counts:
    the deletions from few starts, then from more (a deletion that fits from 1 start in 4 was seen on validation
    targets), then the deletions with another CNOT's pair replaced (a local minimum of deletions alone)."""
    deletions = list(dict.fromkeys(skeleton[:i] + skeleton[i + 1 :] for i in range(len(skeleton))))
    for restarts in RESTARTS:
        yield deletions, restarts
    edited = {
        (*d[:j], other, *d[j + 1 :]): None for d in deletions for j in range(len(d)) for other in PAIRS if other != d[j]
    }
    edited_only = [e for e in edited if e not in set(deletions)]
    if edited_only:  # none for a one-CNOT skeleton
        yield edited_only, RESTARTS[0]
