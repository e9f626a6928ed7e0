"""Translation of a circuit into a gate set, same unitary: the first step of hardware export.

:func:`translate` writes a circuit in a gate set's entangling gate and one-qubit basis. With ``optimize`` each
two-qubit block is re-synthesised with Cirq's KAK where fewer entangling gates do it (Cirq's
``SqrtIswapTargetGateset`` optimiser for sqrt-iSWAP sets); then the one-qubit runs are merged, moved through the gates
they commute with, and each written in the set's basis (a ZYZ Euler decomposition turned into rz/sx, rz/rx, rz/ry,
u3 or PhasedXZ form).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from qas.circuit import Circuit, Operation, op
from qas.cirq_interop import from_cirq
from qas.errors import QasError
from qas.gate_sets import GateChoice, GateSet, get_gate_set
from qas.gates import GATES
from qas.linalg import wrap_angle

if TYPE_CHECKING:
    import cirq

# Entangling gates translate() can target, in order of preference, and the one-qubit bases it can write.
_ENTANGLERS = ("cz", "cx", "sqrt_iswap")
_ONE_QUBIT_BASES = ("phased_xz", "u3", "rz+sx", "rz+ry", "rz+rx")
# Angles (radians) below this are dropped.
_ANGLE_ATOL = 1e-10


def translate(circuit: Circuit, gates: str | Sequence[str] | GateSet, *, optimize: bool = False) -> Circuit:
    """Rewrite ``circuit`` into ``gates`` (a preset name, a list of names or a :class:`GateSet`), same unitary.

    Without ``optimize``, a circuit that already uses only those gates is returned unchanged, and one whose
    multi-qubit gates are allowed only has its one-qubit runs rewritten. With it, each two-qubit block is also
    re-synthesised where fewer entangling gates do it (slower). Rewriting needs
    an entangling gate among cx, cz, sqrt_iswap (when the circuit entangles) and a one-qubit basis among phased_xz,
    u3, rz+sx, rz+ry, rz+rx; fixed one-qubit gates of the set (x, h, ...) are used where a merged one-qubit unitary
    equals one of them. The result equals the input up to a global phase.
    """
    import cirq

    gate_set = get_gate_set(gates)
    if not optimize and all(_in_gate_set(o, gate_set) for o in circuit.operations):
        return circuit
    circuit = _expand_three_qubit_gates(circuit, gate_set)
    # Gates placed with any angle; a choice with fixed angles (Kuo et al.'s rz(pi/4)) can only stand in as a whole.
    names = {c.gate for c in gate_set.choices if c.fixed_params is None}
    entangler = next((g for g in _ENTANGLERS if g in names), None)
    basis = _one_qubit_basis(names)
    if basis is None or (entangler is None and circuit.two_qubit_count > 0):
        raise QasError(
            f"cannot translate to gates {sorted(names)}: exact translation needs a one-qubit basis among "
            f"{', '.join(_ONE_QUBIT_BASES)} and an entangling gate among {', '.join(_ENTANGLERS)}"
        )
    fixed = [c for c in gate_set.choices if GATES[c.gate].num_qubits == 1 and c.num_free_params == 0]
    if not optimize and all(o.gate in names for o in circuit.operations if len(o.qubits) > 1):
        # Only one-qubit gates need rewriting: merge each run and decompose it, without Cirq's (slower) optimiser.
        return _rewrite_one_qubit_runs(circuit, basis, fixed)
    if entangler == "sqrt_iswap":
        optimized = cirq.optimize_for_target_gateset(circuit.to_cirq(), gateset=cirq.SqrtIswapTargetGateset())
    else:
        optimized = _resynthesize_two_qubit_blocks(circuit.to_cirq())
    resynthesized = from_cirq(optimized, qubits=cirq.LineQubit.range(circuit.n_qubits))
    return _rewrite_one_qubit_runs(_with_entangler(resynthesized, entangler), basis, fixed)


def _resynthesize_two_qubit_blocks(circuit: cirq.Circuit) -> cirq.Circuit:
    """Each two-qubit block (Cirq's merge of connected gates on two qubits) with a two-qubit gate other than CX and
    CZ, or that fewer of them can do, re-synthesised with CZs (Cirq's KAK); other blocks kept.

    ``cirq.optimize_for_target_gateset`` applies the same rule but runs the KAK decomposition (~4 ms) on every block
    to compare counts; ``cirq.num_cnots_required`` (~30 us) decides first here, so only the blocks that change pay.
    """
    import cirq

    def rewrite(block: cirq.CircuitOperation) -> cirq.OP_TREE:
        # A SWAP as its 3 CNOTs: the KAK writes it with 8 one-qubit gates around them.
        ops = [d for o in block.mapped_circuit().all_operations() for d in _swap_as_cnots(o)]
        two_qubit = [o for o in ops if len(o.qubits) == 2]
        if not two_qubit:
            return ops
        foreign = any(o.gate not in (cirq.CNOT, cirq.CZ) for o in two_qubit)
        unitary = cirq.unitary(block)
        if not foreign and cirq.num_cnots_required(unitary) >= len(two_qubit):
            return ops
        new = cirq.two_qubit_matrix_to_cz_operations(*block.qubits, unitary, allow_partial_czs=False)
        return new if foreign or sum(len(o.qubits) == 2 for o in new) < len(two_qubit) else ops

    return cirq.merge_k_qubit_unitaries(circuit, k=2, rewriter=rewrite).unfreeze(copy=False)


def _swap_as_cnots(operation: cirq.Operation) -> list[cirq.Operation]:
    import cirq

    if operation.gate != cirq.SWAP:
        return [operation]
    a, b = operation.qubits
    return [cirq.CNOT(a, b), cirq.CNOT(b, a), cirq.CNOT(a, b)]


def _toffoli(a: int, b: int, c: int) -> list[Operation]:
    """Nielsen & Chuang's 6-CNOT Toffoli (Fig. 4.9): Cirq's own decomposition, re-synthesised, needs 8."""
    return [
        op("h", c), op("cx", b, c), op("tdg", c), op("cx", a, c), op("t", c), op("cx", b, c), op("tdg", c),
        op("cx", a, c), op("t", b), op("t", c), op("h", c), op("cx", a, b), op("t", a), op("tdg", b),
        op("cx", a, b),
    ]  # fmt: skip


def _expand_three_qubit_gates(circuit: Circuit, gate_set: GateSet) -> Circuit:
    """Write the set's missing ccx and cswap gates with the fewest known CNOTs (6 and 8) before any re-synthesis."""
    ops: list[Operation] = []
    for o in circuit.operations:
        if o.gate == "ccx" and not _in_gate_set(o, gate_set):
            ops.extend(_toffoli(*o.qubits))
        elif o.gate == "cswap" and not _in_gate_set(o, gate_set):
            a, b, c = o.qubits
            ops.extend([op("cx", c, b), *_toffoli(a, b, c), op("cx", c, b)])
        else:
            ops.append(o)
    return Circuit(circuit.n_qubits, tuple(ops))


def _rewrite_one_qubit_runs(circuit: Circuit, basis: str, fixed: list[GateChoice]) -> Circuit:
    """Merge each run of one-qubit gates into one unitary and write it in ``basis``; keep multi-qubit gates.

    Before writing, CNOTs turn around where that sheds Hadamards (:func:`_orient_cnots`), runs move through the
    multi-qubit gates they commute with to merge with a run on the other side (:func:`_merge_commuting_runs`; exact
    synthesis wrote a CNOT as ``u3 cx u3``, X on the target on both sides), and Z rotations shift between neighbouring
    runs where that saves gates (:func:`_shift_z_rotations`).
    """
    gates: list[Operation] = []
    # runs[q][i] is the merged run on qubit q before its i-th multi-qubit gate; runs[q][-1] the one after its last.
    runs: dict[int, list[np.ndarray]] = {q: [np.eye(2)] for q in range(circuit.n_qubits)}
    places: list[dict[int, int]] = []  # places[i][q]: which of qubit q's multi-qubit gates gates[i] is
    for o in circuit.operations:
        if len(o.qubits) == 1:
            q = o.qubits[0]
            runs[q][-1] = o.matrix() @ runs[q][-1]
        else:
            places.append({q: len(runs[q]) - 1 for q in o.qubits})
            gates.append(o)
            for q in o.qubits:
                runs[q].append(np.eye(2))

    def cost(u: np.ndarray) -> int:
        return len(_one_qubit(u, 0, basis, fixed))

    _orient_cnots(gates, places, runs, cost)
    for q, wire in runs.items():
        on_wire = [g for g in gates if q in g.qubits]
        _merge_commuting_runs(wire, on_wire, q, cost)
        _shift_z_rotations(wire, on_wire, q, cost)
    ops: list[Operation] = []
    position = dict.fromkeys(runs, 0)
    for g in gates:
        for q in g.qubits:
            ops.extend(_one_qubit(runs[q][position[q]], q, basis, fixed))
            position[q] += 1
        ops.append(g)
    for q in sorted(runs):
        ops.extend(_one_qubit(runs[q][-1], q, basis, fixed))
    return Circuit(circuit.n_qubits, tuple(ops))


def _orient_cnots(
    gates: list[Operation],
    places: list[dict[int, int]],
    runs: dict[int, list[np.ndarray]],
    cost: Callable[[np.ndarray], int],
) -> None:
    """Turn CNOTs around where the runs beside them then cost fewer gates, in place.

    CX(a, b) = (H x H) CX(b, a) (H x H): a CNOT with Hadamards in the runs around it (Cirq's CZ-based synthesis
    leaves them, CZ being (I x H) CX (I x H)) sheds them; exact SWAP in u3/cx went from 3 CNOTs and 8 one-qubit gates
    to 3 and 5. The runs on each side count as merged where one of them commutes with the gate, as
    :func:`_merge_commuting_runs` will then merge them.
    """
    h = GATES["h"].matrix()
    for i, gate in enumerate(gates):
        if gate.gate != "cx":
            continue
        turned = op("cx", gate.qubits[1], gate.qubits[0])
        sides = [(q, runs[q], places[i][q]) for q in gate.qubits]
        conjugated = [(h @ wire[k], wire[k + 1] @ h) for _, wire, k in sides]
        now = sum(_pair_cost(wire[k], wire[k + 1], gate, q, cost) for q, wire, k in sides)
        then = sum(
            _pair_cost(before, after, turned, q, cost)
            for (q, _, _), (before, after) in zip(sides, conjugated, strict=True)
        )
        if then < now:
            for (_, wire, k), (before, after) in zip(sides, conjugated, strict=True):
                wire[k], wire[k + 1] = before, after
            gates[i] = turned


def _pair_cost(
    before: np.ndarray, after: np.ndarray, gate: Operation, q: int, cost: Callable[[np.ndarray], int]
) -> int:
    """Gates the runs before and after ``gate`` on qubit ``q`` cost, merged where one of them commutes with it."""
    apart = cost(before) + cost(after)
    if _commutes_on(before, gate, q) or _commutes_on(after, gate, q):
        return min(apart, cost(after @ before))
    return apart


def _merge_commuting_runs(
    runs: list[np.ndarray], gates: list[Operation], q: int, cost: Callable[[np.ndarray], int]
) -> None:
    """Merge runs on one wire (``runs[i]`` before ``gates[i]``) across gates they commute with, in place.

    A run moves forward (then, in a second sweep, backward) over the gates it commutes with on qubit ``q`` to the
    first non-identity run, and merges with it where the merged run costs no more gates than the two apart.
    """
    for forward in (True, False):
        order = range(len(runs)) if forward else range(len(runs) - 1, -1, -1)
        for i in order:
            if _is_identity(runs[i]):
                continue
            j = i
            while 0 <= (j + 1 if forward else j - 1) < len(runs):
                gate = gates[j] if forward else gates[j - 1]
                if not _commutes_on(runs[i], gate, q):
                    break
                j = j + 1 if forward else j - 1
                if _is_identity(runs[j]):
                    continue
                merged = runs[j] @ runs[i] if forward else runs[i] @ runs[j]
                if cost(merged) <= cost(runs[i]) + cost(runs[j]):
                    runs[j], runs[i] = merged, np.eye(2)
                break


def _shift_z_rotations(
    runs: list[np.ndarray], gates: list[Operation], q: int, cost: Callable[[np.ndarray], int]
) -> None:
    """Move a Z rotation between neighbouring runs across a gate Z commutes with on ``q``, where that saves gates.

    A run written as rz sx rz sx rz (IBM's basis) sheds an rz this way into its neighbour, whose own first rz absorbs
    it. The angles tried end one run's ZYZ form or start the other's, in quarter turns (the bases' Euler forms differ
    by those).
    """
    z = GATES["z"].matrix()
    for i, gate in enumerate(gates):
        before, after = runs[i], runs[i + 1]
        if _is_identity(before) or _is_identity(after) or not _commutes_on(z, gate, q):
            continue
        last_angle, _, _ = _zyz(before)
        _, _, first_angle = _zyz(after)
        best = (cost(before) + cost(after), before, after)
        for theta in [base + k * math.pi / 2 for base in (last_angle, -first_angle) for k in range(4)]:
            rz = np.diag([np.exp(-0.5j * theta), np.exp(0.5j * theta)])
            shifted = (rz.conj() @ before, after @ rz)
            total = cost(shifted[0]) + cost(shifted[1])
            if total < best[0]:
                best = (total, *shifted)
        runs[i], runs[i + 1] = best[1], best[2]


def _zyz(u: np.ndarray) -> tuple[float, float, float]:
    """Angles (a, b, c) with ``u`` = Rz(a) Ry(b) Rz(c) up to phase (Rz(c) acts first)."""
    import cirq

    c, b, a = cirq.deconstruct_single_qubit_matrix_into_angles(u)
    return a, b, c


def _is_identity(u: np.ndarray) -> bool:
    """Whether the 2x2 unitary ``u`` is the identity up to a global phase."""
    return abs(abs(np.trace(u)) - 2) < _ANGLE_ATOL


def _commutes_on(u: np.ndarray, gate: Operation, q: int) -> bool:
    """Whether the one-qubit unitary ``u`` on qubit ``q`` commutes with ``gate`` (exactly, not up to phase)."""
    if gate.gate in ("cx", "cz"):
        # The common case, decided from u's entries (0.5 us against 80 us for the products below, which dominated
        # exports): u commutes with CX on the target iff it commutes with X; with CX on the control, and CZ, iff
        # it is diagonal.
        if gate.gate == "cx" and q == gate.qubits[1]:
            return abs(u[0, 0] - u[1, 1]) < _ANGLE_ATOL and abs(u[0, 1] - u[1, 0]) < _ANGLE_ATOL
        return abs(u[0, 1]) < _ANGLE_ATOL and abs(u[1, 0]) < _ANGLE_ATOL
    k, n = gate.qubits.index(q), len(gate.qubits)
    embedded = np.kron(np.kron(np.eye(2**k), u), np.eye(2 ** (n - k - 1)))
    matrix = gate.matrix()
    return bool(np.allclose(matrix @ embedded, embedded @ matrix, atol=_ANGLE_ATOL))


def _in_gate_set(o: Operation, gate_set: GateSet) -> bool:
    return any(
        c.gate == o.gate and (c.fixed_params is None or np.allclose(c.fixed_params, o.params)) for c in gate_set.choices
    )


def _one_qubit_basis(names: set[str]) -> str | None:
    for basis in _ONE_QUBIT_BASES:
        if set(basis.split("+")) <= names:
            return basis
    return None


def _with_entangler(circuit: Circuit, entangler: str) -> Circuit:
    """CZ as H CX H on a CX gate set, CX as H CZ H on a CZ one (the Hadamards merge into the runs around them)."""
    other = {"cx": "cz", "cz": "cx"}.get(entangler)
    ops: list[Operation] = []
    for o in circuit.operations:
        if o.gate == other:
            a, b = o.qubits
            ops.extend([op("h", b), op(entangler, a, b), op("h", b)])
        else:
            ops.append(o)
    return Circuit(circuit.n_qubits, tuple(ops))


def _one_qubit(u: np.ndarray, q: int, basis: str, fixed: list[GateChoice]) -> list[Operation]:
    """``u`` as operations in ``basis`` (or one fixed gate equal to it up to phase), dropping identities."""
    import cirq

    if _is_identity(u):
        return []
    for choice in fixed:
        candidate = Operation(choice.gate, (q,), choice.fixed_params or ())
        if abs(abs(np.vdot(candidate.matrix(), u)) - 2) < _ANGLE_ATOL:
            return [candidate]
    if basis == "phased_xz":
        g = cirq.PhasedXZGate.from_matrix(u)
        return [Operation("phased_xz", (q,), (float(g.x_exponent), float(g.z_exponent), float(g.axis_phase_exponent)))]
    a, b, c = _zyz(u)
    if basis == "u3":
        return [Operation("u3", (q,), (b, wrap_angle(a), wrap_angle(c)))]
    if abs(wrap_angle(b)) < _ANGLE_ATOL:
        return _rz(q, a + c)
    if abs(abs(wrap_angle(b)) - math.pi) < _ANGLE_ATOL:
        # Rz(a) Ry(pi) Rz(c) = Ry(pi) Rz(c - a) = Rx(pi) Rz(c - a - pi) up to phase: one rz and a half turn.
        if basis == "rz+ry":
            return [*_rz(q, c - a), Operation("ry", (q,), (math.pi,))]
        if basis == "rz+rx":
            half_turn = [Operation("rx", (q,), (math.pi,))]
        elif any(choice.gate == "x" for choice in fixed):
            half_turn = [Operation("x", (q,))]
        else:
            half_turn = [Operation("sx", (q,))] * 2
        return [*_rz(q, c - a - math.pi), *half_turn]
    if basis == "rz+ry":
        return [*_rz(q, c), Operation("ry", (q,), (b,)), *_rz(q, a)]
    if basis == "rz+rx":
        # Ry(b) = Rz(pi/2) Rx(b) Rz(-pi/2).
        return [*_rz(q, c - math.pi / 2), Operation("rx", (q,), (b,)), *_rz(q, a + math.pi / 2)]
    if abs(wrap_angle(b) - math.pi / 2) < _ANGLE_ATOL:
        # Ry(pi/2) = Rz(pi/2) SX Rz(-pi/2) up to phase: one sx.
        return [*_rz(q, c - math.pi / 2), Operation("sx", (q,)), *_rz(q, a + math.pi / 2)]
    # Rz(a) Ry(b) Rz(c) = Rz(a + pi) SX Rz(b + pi) SX Rz(c) up to phase (the ZSXZSXZ form IBM compilers emit).
    sx = Operation("sx", (q,))
    return [*_rz(q, c), sx, *_rz(q, b + math.pi), sx, *_rz(q, a + math.pi)]


def _rz(q: int, angle: float) -> list[Operation]:
    angle = wrap_angle(angle)
    return [Operation("rz", (q,), (angle,))] if abs(angle) > _ANGLE_ATOL else []
