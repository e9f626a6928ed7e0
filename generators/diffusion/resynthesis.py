"""Fewer CNOTs for an answer that will be written in general one-qubit gates and CNOTs (``u3, cx``, what hardware
toolchains take and :func:`qas.compile`'s default output).

An answer over {h, cx, z, x, ccx, swap} translated as it is keeps each gate's textbook count (a Toffoli costs 6 CNOTs),
but with free one-qubit gates between the CNOTs a unitary often needs fewer: BQSKit's LEAP, which builds such circuits
CNOT by CNOT, used fewer than our Toffoli answers on 39 of 95 benchmark targets. Here the answer's own CNOT skeleton
(exact by construction) is shortened: every deletion of one CNOT gets general one-qubit gates in the slots around its
CNOTs, all deletions are fitted to the target in one batch, and the search goes on from one that fits exactly. When no
deletion fits, the deletions with one other CNOT moved to another qubit pair are fitted (deletions alone stalled at 7-8
CNOTs on validation targets that have 5-6). The search ends when nothing fits or when the next round would take it past
``MAX_ROWS`` skeleton fits. That bound counts work, not seconds, so an answer does not depend on machine load (a 3 s
wall-clock bound did: the Peres gate came out with 6-7 CNOTs in a fresh process, 5 in a warm one). On validation targets
(seed 777, 80, ``qas.compile(U, method="diffusion", gates=("u3", "cx"))``) an unbounded search fits a median of 60 rows
and at most 1,298 (73 s on a loaded machine). Replaying that search's trace, 400 rows keep the 3 s bound's mean CX
(unbounded 4.08, 200 rows 4.21, 100 rows 4.49). Measured with 400 (``bench/compile.py --set clifford-3q --seed 777
--count 80 --peer-count 80``): 4.12 CX against BQSKit's 4.78 on the 77 both solved (BQSKit fewer on 1, ours on 32), 1.08
s per target against BQSKit's 2.19 s in the same run; deletions alone gave 4.40. With the search moved into the core and
no round started that would pass the bound (session 30): 4.13 CX, BQSKit fewer on 1, ours on 31 (1.20 s against 2.25 s,
with another benchmark running).

The search is :func:`qas.numerical_synthesis.remove_cnots` (which numerical synthesis also runs from the bound),
with this pipeline's settings below.
"""

from __future__ import annotations

import numpy as np

from qas.circuit import Circuit
from qas.numerical_synthesis import remove_cnots
from qas.skeletons import all_pairs, cnot_skeleton

RESTARTS = (2, 8)  # random starts per skeleton; the second count only when no removal fits with the first
ITERATIONS = 40  # Levenberg-Marquardt steps (exact fits reach ~1e-15 within 40 on validation removals)
MAX_ROWS = 400  # skeleton fits (restarts count) per search: no round starts that would pass it (see the module doc)


def fewer_cnots(target: np.ndarray, circuit: Circuit, *, seed: int = 0) -> Circuit | None:
    """A ``u3``/``cx`` circuit for ``target`` with fewer CNOTs than ``circuit`` written in ``u3``/``cx``, or
    ``None`` when no shorter skeleton near its own fits (see the module docstring). Three-qubit circuits only."""
    if circuit.n_qubits != 3:
        return None
    return remove_cnots(
        target,
        cnot_skeleton(circuit),
        all_pairs(3),
        restarts=RESTARTS,
        iterations=ITERATIONS,
        max_rows=MAX_ROWS,
        seed=seed,
    )
