"""Exact state preparation: a circuit that takes |0...0> to a given state (up to a global phase).

:func:`state_candidates` gives the circuits of these constructions (:func:`qas.compile` keeps the one with the fewest
CNOTs, then gates, once written in the requested gates):

- **Schmidt decomposition** (Plesch & Brukner, PRA 83, 032302, 2011), for any state: split the qubits into halves A
  and B, write the state as ``sum_i s_i |a_i>|b_i>``, prepare ``sum_i s_i |i>`` on A (recursively), copy ``|i>``
  into B with CNOTs, and rotate each half onto its Schmidt basis with a synthesised unitary
  (:func:`qas.synthesis.synthesize_unitary`); a two-qubit half is written in two CNOTs up to a diagonal whose phases
  the other half absorbs. A product state splits into two smaller preparations.
- **Sparse merging** (after Gleinig & Hoefler, DAC 2021), for states with few non-zero amplitudes: run backwards from
  the state, CNOTs making two of its basis states differ in one qubit and a rotation on that qubit, controlled on
  the qubits that single the pair out, merging them into one, until |0...0> is left; the circuit is that undone.
  GHZ states come out in n - 1 CNOTs, H2's ground state in 3. Two variants: the CNOTs as a star or as a chain of
  neighbours (:func:`qas.compile` with a device keeps the construction that routes to the fewest gates).

The two are written here because Qiskit's ``StatePreparation`` (Shende-Bullock-Markov) needs more CNOTs
(``bench/export.py``: Haar-random 3-qubit states 4 against 3, 4 qubits 11 against 8, 6 qubits 57 against 44, GHZ-5
26 against 4). Where Qiskit is installed its circuit is a third candidate, and for a stabilizer state its synthesis
from the stabilizers (:mod:`qas.stabilizer_states`; a ring graph state of 8 qubits: 8 CNOTs, by Schmidt 153).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from qas.circuit import Circuit, Operation, op
from qas.stabilizer_states import stabilizer_circuit
from qas.synthesis import qiskit_transpile, synthesis_cost, synthesize_unitary

# Amplitudes and Schmidt coefficients below this are zero.
_AMPLITUDE_ATOL = 1e-12
# Sparse merging runs for states with at most this many non-zero amplitudes per qubit: its controlled rotations grow
# with the number of amplitudes (a dense 4-qubit state took 755 CNOTs against the Schmidt construction's 9).
_SPARSE_AMPLITUDES_PER_QUBIT = 2


def state_candidates(state: np.ndarray) -> list[Circuit]:
    """Circuits with ``circuit |0...0> = state`` up to a global phase, one per construction that applies, in CNOTs and
    the one-qubit gates the syntheses emit (:func:`qas.compile` translates them); ``state`` is a normalised vector of
    length 2**n (qubit 0 the most significant bit, as everywhere in qas)."""
    n = int(np.log2(state.shape[0]))
    candidates = [Circuit(n, tuple(_schmidt(state, list(range(n)))))]
    if np.count_nonzero(np.abs(state) > _AMPLITUDE_ATOL) <= _SPARSE_AMPLITUDES_PER_QUBIT * n:
        candidates += [_sparse(state, n, chain=False), _sparse(state, n, chain=True)]
    stabilizer = stabilizer_circuit(state)
    qiskit_circuit = qiskit_transpile(lambda library: library.StatePreparation(state))
    return candidates + [c for c in (stabilizer, qiskit_circuit) if c is not None]


def _schmidt(state: np.ndarray, qubits: list[int]) -> list[Operation]:
    """Operations on ``qubits`` preparing ``state`` (its qubit i on ``qubits[i]``) by Schmidt decomposition."""
    n = len(qubits)
    if n == 1:
        return _isometry(state.reshape(2, 1), qubits)
    m = n // 2
    a, b = qubits[:m], qubits[m:]
    u, s, vh = np.linalg.svd(state.reshape(2**m, 2 ** (n - m)))
    rank = int(np.sum(s > _AMPLITUDE_ATOL))
    if rank == 1:  # a product state: two smaller preparations
        return _schmidt(u[:, 0], a) + _schmidt(vh[0], b)
    k = math.ceil(math.log2(rank))  # qubits the Schmidt index needs: the last k of A, copied onto the last k of B
    coefficients = np.zeros(2**k)
    coefficients[:rank] = s[:rank]
    ops = _schmidt(coefficients.astype(complex), a[m - k :])
    ops += [op("cx", a[m - k + j], b[len(b) - k + j]) for j in range(k)]
    halves = [(u[:, :rank], a), (vh[:rank].T, b)]
    rotations = [_isometry(*halves[0]) + _isometry(*halves[1])]
    # Plesch & Brukner's phase freedom: sum_i s_i |a_i>|b_i> is unchanged with d_i |a_i> and |b_i> / d_i. A two-qubit
    # half is two CNOTs up to a diagonal on its input (three in general), and the diagonal's phases move to the other
    # half: 3 qubits 4 -> 3 CNOTs, 4 qubits 9 -> 8.
    for side, (columns, side_qubits) in enumerate(halves):
        if len(side_qubits) == 2:
            phases, two_cnots = _up_to_diagonal(columns, side_qubits)
            other_columns, other_qubits = halves[1 - side]
            other = _isometry(other_columns * phases[:rank], other_qubits)
            rotations.append(two_cnots + other)  # on disjoint qubits: either order
            break
    return ops + min(rotations, key=lambda r: synthesis_cost(Circuit(max(qubits) + 1, tuple(r))))


def _up_to_diagonal(columns: np.ndarray, qubits: list[int]) -> tuple[np.ndarray, list[Operation]]:
    """For a two-qubit isometry, ``(d, ops)``: ``ops`` (at most two CNOTs; Cirq's decomposition up to a diagonal) take
    ``|i>`` to ``columns[:, i] / d[i]``."""
    import cirq

    from qas.cirq_interop import from_cirq

    line = cirq.LineQubit.range(2)
    diagonal, ops = cirq.two_qubit_matrix_to_diagonal_and_cz_operations(*line, _complete(columns, order=None))
    return np.diag(diagonal), _on(from_cirq(cirq.Circuit(ops), qubits=line), qubits)


def _isometry(columns: np.ndarray, qubits: list[int]) -> list[Operation]:
    """Operations on ``qubits`` taking basis state ``|i>`` to ``columns[:, i]`` (orthonormal columns).

    Only those columns are fixed: the unitary synthesised is the completion, of three, whose circuit has the fewest
    CNOTs, then gates. Measured on the Schmidt construction alone: on W-3 the last two take 3 CNOTs against 4 for
    the first; on GHZ-4 the third takes 3 against 5; on W-5 the second 21 against 22 and 23.
    """
    dim, fixed = columns.shape
    if fixed == dim:
        return _on(synthesize_unitary(columns), qubits)
    completions = [
        _complete(columns, order=None),
        _complete(columns, order=range(dim)),
        np.hstack([columns, np.linalg.svd(columns)[0][:, fixed:]]),  # the SVD's own basis of the complement
    ]
    circuits = [synthesize_unitary(u) for u in completions]
    return _on(min(circuits, key=synthesis_cost), qubits)


def _complete(columns: np.ndarray, order: range | None) -> np.ndarray:
    """A unitary whose first columns are ``columns``, completed by Gram-Schmidt over the standard basis: the basis
    vectors in ``order`` where they are not mostly covered by the columns, else (``None``) the least covered first.

    Structured states (columns that are basis vectors) then get permutation-like unitaries, which synthesise shorter
    than arbitrary completions.
    """
    dim = columns.shape[0]
    basis = list(columns.T)
    for j in order or ():
        spanned = np.array(basis).T
        residual = np.eye(dim)[:, j] - spanned @ spanned.conj().T[:, j]
        if len(basis) < dim and np.linalg.norm(residual) > 0.5:
            basis.append(residual / np.linalg.norm(residual))
    while len(basis) < dim:
        spanned = np.array(basis).T
        residuals = np.eye(dim) - spanned @ spanned.conj().T
        norms = np.linalg.norm(residuals, axis=0)
        j = int(np.argmax(norms))
        basis.append(residuals[:, j] / norms[j])
    return np.array(basis).T


def _on(circuit: Circuit, qubits: list[int]) -> list[Operation]:
    """``circuit``'s operations with its qubit i moved to ``qubits[i]``."""
    return [o.moved(qubits) for o in circuit.operations]


def _sparse(state: np.ndarray, n: int, *, chain: bool) -> Circuit:
    """A circuit preparing ``state`` by merging its basis states pairwise (see the module docstring).

    Two basis states differing on qubits d0 < d1 < ... are made to differ on d0 only by CNOTs from d0 to each other
    (a star) or, with ``chain``, from each to the next (d3 -> d4, then d2 -> d3, ...): as many CNOTs, but between
    neighbours, which a line of qubits routes without SWAPs (GHZ-5 on a line: 4 CNOTs against 10 for the star).
    """

    def bit(x: int, q: int) -> int:
        return (x >> (n - 1 - q)) & 1

    amplitudes = {x: complex(a) for x, a in enumerate(state) if abs(a) > _AMPLITUDE_ATOL}
    # Each merge as the operations that undo it: the rotation's inverse, then the CNOTs in reverse order.
    undo: list[list[Operation]] = []
    while len(amplitudes) > 1:
        pairs = [(x, y) for x in amplitudes for y in amplitudes if x < y]
        x, y = min(pairs, key=lambda pair: (pair[0] ^ pair[1]).bit_count())
        first, *rest = differing = [q for q in range(n) if bit(x, q) != bit(y, q)]
        if chain:
            cnots = [op("cx", c, t) for c, t in reversed(list(itertools.pairwise(differing)))]
        else:
            cnots = [op("cx", first, t) for t in rest]
        for cnot in cnots:  # after them x and y differ on ``first`` only
            c, t = cnot.qubits
            amplitudes = {z ^ (bit(z, c) << (n - 1 - t)): a for z, a in amplitudes.items()}
            x, y = (z ^ (bit(z, c) << (n - 1 - t)) for z in (x, y))
        x, y = (x, y) if not bit(x, first) else (y, x)  # x has 0 on ``first``
        controls: list[int] = []
        others = [z for z in amplitudes if z not in (x, y)]
        while others:  # qubits on which x (and y) differ from the other basis states, the most telling first
            q = max(
                (q for q in range(n) if q != first and q not in controls),
                key=lambda q: sum(bit(z, q) != bit(x, q) for z in others),
            )
            controls.append(q)
            others = [z for z in others if bit(z, q) == bit(x, q)]
        a0, a1 = amplitudes.pop(x), amplitudes.pop(y)
        norm = math.hypot(abs(a0), abs(a1))
        merge = np.array([[np.conj(a0), np.conj(a1)], [-a1, a0]]) / norm  # (a0, a1) -> (norm, 0)
        undo.append(_controlled(merge.conj().T, [(q, bit(x, q)) for q in controls], first, n) + cnots[::-1])
        amplitudes[x] = norm
    (last,) = amplitudes
    ops = [op("x", q) for q in range(n) if bit(last, q)]
    for step in reversed(undo):
        ops += step
    return Circuit(n, tuple(ops))


def _controlled(u: np.ndarray, controls: list[tuple[int, int]], target: int, n: int) -> list[Operation]:
    """Operations applying the one-qubit ``u`` to ``target`` where each control qubit holds its value."""
    import cirq

    from qas.cirq_interop import from_cirq

    qubits = cirq.LineQubit.range(n)
    gate = cirq.MatrixGate(u)
    if controls:
        gate = cirq.ControlledGate(gate, num_controls=len(controls), control_values=[v for _, v in controls])
    operation = gate.on(*[qubits[q] for q, _ in controls], qubits[target])
    if len(controls) <= 2:
        # Up to three qubits the exact synthesis beats Cirq's decomposition of controlled gates.
        local = [q for q, _ in controls] + [target]
        return _on(synthesize_unitary(cirq.unitary(operation)), local)
    decomposed = cirq.decompose(operation, keep=lambda o: len(o.qubits) <= 2)
    return list(from_cirq(cirq.Circuit(o for o in decomposed if o.qubits), qubits=qubits).operations)
