"""Exact synthesis and hardware export against Qiskit's transpiler, measured in one run.

``.venv/bin/python bench/export.py [--count 5] [--seed 0] [--tables
unitary,structured,approximate,wide,export,state] [--tolerance 1e-3]``. Three kinds of table, each with mean CNOT
count, mean gate count, mean depth and mean seconds per circuit, and the ratios qas / Qiskit (below 1: qas is smaller
or faster):

1. **unitary synthesis** of Haar-random 2- to 5-qubit unitaries into IBM's basis (rz, sx, x, cx):
   ``qas.compile(U, method="exact" | "numerical", gates="ibm-native")`` against ``qiskit.transpile`` of a
   ``UnitaryGate`` at optimization level 1 and 3, and at 3 qubits BQSKit's ``compile`` at optimization level 1 (LEAP
   synthesis, BQSKit's numerical instantiation; one warm ``Compiler``, its u3/cx output translated like ours);
   and of structured 3-qubit unitaries, which need fewer CNOTs than a generic one's 14 (the Toffoli, Fredkin and
   Peres gates, the 3-qubit QFT, a Trotter step of the Heisenberg chain, and circuits of 3 to 8 CNOTs between random
   pairs with a random ``u3`` on both qubits after each) against the same peers; and **approximate synthesis** of
   Haar-random 3-qubit unitaries within ``--tolerance`` (``qas.compile(..., tolerance=t)``) against BQSKit's with
   ``synthesis_epsilon=1 - sqrt(1 - t)`` (its cost ``1 - |Tr(U^dagger V)| / d``), both checked within it; and
   **tensor products and diagonals** of 4 to 6 qubits (a Toffoli beside two idle qubits, random two-qubit gates on
   interleaved qubits, two Haar-random three-qubit unitaries side by side; QAOA's ring phase separator on 6 qubits, a
   random diagonal and a 5-qubit phase oracle marking 3 states; a random 6-qubit Clifford of 60 CNOTs; a 5-qubit
   circuit of 20 CNOTs with T, S and Rz gates, a permutation and phases; a controlled Haar-random 3-qubit unitary; a
   Heisenberg Trotter step on 4 qubits) against Qiskit, which sees them as generic matrices (``--tables wide``);
2. **export** of random 6- and 10-qubit circuits (20 and 40 CNOTs between random pairs, rotations between them) onto
   the 27-qubit heavy-hex device: ``qas.to_device(c, "ibm-heavy-hex")`` (translation, routing by RouteCQC after a
   layout search or by Qiskit's Sabre, whichever needs fewer SWAPs, and the simulated verification) against
   ``qiskit.transpile`` with the same coupling map at level 1 and 3;
3. **state preparation** of Haar-random 3- to 6-qubit states, and of structured ones (GHZ-5, W-4, W-5, the ring graph
   state of 6 qubits and the ground states of H2, LiH-4 and LiH-6): ``qas.compile(psi, method="exact" |
   "numerical", gates="ibm-native")`` against ``qiskit.transpile`` of a ``StatePreparation`` at level 1 and 3.

Both sides get the same circuits (``qas.export.to_qiskit``). On a shared machine compare the ratios, not the times.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import qiskit
import scipy.linalg
from qiskit.circuit.library import StatePreparation, UnitaryGate
from scipy.stats import unitary_group

import qas
from qas import Circuit, op
from qas.devices import DEVICES
from qas.export import to_qiskit
from qas.gate_sets import get_gate_set
from qas.linalg import unitary_fidelity
from qas.pauli import PauliSum
from qas.qasm import from_qasm
from qas.skeletons import all_pairs, skeleton_circuit
from qas.targets import ghz_state, named_unitary, parse_task, w_state
from qas.translate import translate

IBM_BASIS = ["rz", "sx", "x", "cx"]
TABLES = ("unitary", "structured", "approximate", "wide", "export", "state")


@dataclass(frozen=True)
class Counts:
    cnots: int
    gates: int
    depth: int


@dataclass(frozen=True)
class Row:
    cnots: float
    gates: float
    depth: float
    seconds: float


def measure(items: list, run: Callable[[object], Counts]) -> Row:
    """Mean CNOT count, gate count, depth and wall time of ``run`` over ``items``."""
    counts, times = [], []
    for item in items:
        start = time.perf_counter()
        counts.append(run(item))
        times.append(time.perf_counter() - start)
    return Row(
        statistics.mean(c.cnots for c in counts),
        statistics.mean(c.gates for c in counts),
        statistics.mean(c.depth for c in counts),
        statistics.mean(times),
    )


def qas_counts(circuit: Circuit) -> Counts:
    return Counts(circuit.cnot_count, len(circuit.operations), circuit.depth)


def qiskit_counts(qc: qiskit.QuantumCircuit) -> Counts:
    return Counts(qc.count_ops().get("cx", 0), qc.size(), qc.depth())


def random_circuit(n: int, cnots: int, rng: np.random.Generator) -> Circuit:
    ops = []
    for _ in range(cnots):
        a, b = (int(q) for q in rng.choice(n, 2, replace=False))
        ops += [op("ry", a, params=[rng.uniform(-np.pi, np.pi)]), op("rz", b, params=[rng.uniform(-np.pi, np.pi)])]
        ops.append(op("cx", a, b))
    return Circuit(n, tuple(ops))


def print_table(title: str, rows: dict[str, Row], peer: str) -> None:
    print(f"\n{title}")
    print(
        f"{'method':<28}{'CNOTs':>8}{'gates':>8}{'depth':>8}{'s/circuit':>11}"
        f"{'CNOT ratio':>12}{'gate ratio':>12}{'time ratio':>12}"
    )
    base = rows[peer]
    for name, row in rows.items():
        print(
            f"{name:<28}{row.cnots:>8.1f}{row.gates:>8.1f}{row.depth:>8.1f}{row.seconds:>11.3f}"
            f"{row.cnots / base.cnots:>12.2f}{row.gates / base.gates:>12.2f}{row.seconds / base.seconds:>12.2f}"
        )


def synthesize_bqskit(u: np.ndarray, compiler: object, tolerance: float | None = None) -> Counts:
    from bqskit import compile as bqskit_compile

    # BQSKit's synthesis accepts a Hilbert-Schmidt cost 1 - |Tr(U^dagger V)| / d below the epsilon (measured: at
    # 0.0316 it returned circuits at infidelity 0.054): 1 - sqrt(1 - t) for our infidelity t; 1e-8 its default.
    epsilon = 1e-8 if tolerance is None else 1 - (1 - tolerance) ** 0.5
    out = bqskit_compile(u, optimization_level=1, compiler=compiler, seed=0, synthesis_epsilon=epsilon)
    circuit = translate(from_qasm(out.to("qasm")), get_gate_set("ibm-native"))  # bqskit is big-endian like qas
    assert 1 - unitary_fidelity(u, circuit.unitary()) <= (tolerance or 1e-8), "bqskit's circuit misses its target"
    return qas_counts(circuit)


def compile_qas(target: np.ndarray, method: str, tolerance: float | None = None) -> Counts:
    result = qas.compile(target, method=method, gates="ibm-native", tolerance=tolerance)
    assert tolerance is None or result.infidelity <= tolerance, "qas's circuit misses the tolerance"
    return qas_counts(result.circuit)


def synthesize_qiskit(u: np.ndarray, level: int) -> Counts:
    return transpile_instruction(UnitaryGate(u), level)


def prepare_qiskit(state: np.ndarray, level: int) -> Counts:
    return transpile_instruction(StatePreparation(state), level)


def transpile_instruction(instruction: qiskit.circuit.Instruction, level: int) -> Counts:
    """``instruction`` on all its qubits, transpiled into IBM's basis at ``level``."""
    n = instruction.num_qubits
    qc = qiskit.QuantumCircuit(n)
    # Qiskit reads matrices and amplitudes little-endian: list the qubits reversed for qas's big-endian ones.
    qc.append(instruction, list(reversed(range(n))))
    return qiskit_counts(qiskit.transpile(qc, basis_gates=IBM_BASIS, optimization_level=level))


def compare(title: str, items: list, ours: dict[str, Callable[[object], Counts]], peer: Callable[..., Counts]) -> None:
    """One table: ``ours`` (name: function) against ``peer`` (a function taking ``level``) at levels 1 and 3."""
    rows = {name: measure(items, run) for name, run in ours.items()}
    for level in (1, 3):
        rows[f"qiskit transpile O{level}"] = measure(items, partial(peer, level=level))
    print_table(title, rows, "qiskit transpile O1")


def export_qas(circuit: Circuit) -> Counts:
    placed = qas.to_device(circuit, "ibm-heavy-hex")
    assert placed.verified, "export verification failed"
    return qas_counts(placed.circuit)


def export_qiskit(circuit: Circuit, level: int) -> Counts:
    edges = DEVICES["ibm-heavy-hex"].edges
    coupling = [[a, b] for a, b in edges] + [[b, a] for a, b in edges]
    transpiled = qiskit.transpile(
        to_qiskit(circuit), basis_gates=IBM_BASIS, coupling_map=coupling, optimization_level=level, seed_transpiler=0
    )
    return qiskit_counts(transpiled)


def heisenberg_trotter_step(n: int, time_step: float) -> np.ndarray:
    """One first-order Trotter step of the Heisenberg chain: ``exp(-i t P_a P_b)`` for P in X, Y, Z on each bond."""
    step = np.eye(2**n, dtype=complex)
    for a in range(n - 1):
        for pauli in "XYZ":
            term = PauliSum(n, ((1.0, "I" * a + 2 * pauli + "I" * (n - a - 2)),)).matrix()
            step = (np.cos(time_step) * np.eye(2**n) - 1j * np.sin(time_step) * term) @ step  # (P P)^2 = 1
    return step


def structured_unitaries(rng: np.random.Generator) -> list[np.ndarray]:
    """Three-qubit unitaries with fewer CNOTs than a generic one (see the module docstring)."""
    peres = Circuit(3, (op("ccx", 0, 1, 2), op("cx", 0, 1))).unitary()
    gates = [named_unitary(name) for name in ("toffoli", "fredkin", "qft3")] + [peres, heisenberg_trotter_step(3, 0.3)]
    pairs = all_pairs(3)
    circuits = []
    for cnots in (3, 4, 5, 6, 8):
        skeleton = tuple(pairs[int(i)] for i in rng.integers(len(pairs), size=cnots))
        angles = rng.uniform(-np.pi, np.pi, (3 + 2 * cnots, 3))
        circuits.append(skeleton_circuit(3, skeleton, angles).unitary())
    return gates + circuits


def on_qubits(n: int, *factors: tuple[tuple[int, ...], np.ndarray]) -> np.ndarray:
    """The ``n``-qubit unitary that acts as each factor on its qubits (every qubit in exactly one factor)."""
    tensor = np.ones((), dtype=complex)
    outputs, inputs = {}, {}  # qubit -> its output and input axis of the tensor product
    for qubits, matrix in factors:
        for i, q in enumerate(qubits):
            outputs[q], inputs[q] = tensor.ndim + i, tensor.ndim + len(qubits) + i
        tensor = np.multiply.outer(tensor, matrix.reshape([2] * (2 * len(qubits))))
    axes = [outputs[q] for q in range(n)] + [inputs[q] for q in range(n)]
    return tensor.transpose(axes).reshape(2**n, 2**n)


def zz_ring_separator(n: int, gamma: float) -> np.ndarray:
    """QAOA's MaxCut phase separator on a ring, ``exp(-i gamma sum_j Z_j Z_{j+1})``."""
    bits = (np.arange(2**n)[:, None] >> (n - 1 - np.arange(n))) & 1
    z = 1 - 2 * bits
    return np.diag(np.exp(-1j * gamma * sum(z[:, j] * z[:, (j + 1) % n] for j in range(n))))


def wide_structured_unitaries(rng: np.random.Generator) -> list[np.ndarray]:
    """Structured unitaries of 4 to 6 qubits (see the module docstring)."""
    toffoli = named_unitary("toffoli")
    oracle = np.ones(32)
    oracle[rng.choice(32, 3, replace=False)] = -1
    return [
        on_qubits(5, ((0,), np.eye(2)), ((1, 2, 3), toffoli), ((4,), np.eye(2))),
        on_qubits(
            4, ((0, 2), unitary_group.rvs(4, random_state=rng)), ((1, 3), unitary_group.rvs(4, random_state=rng))
        ),
        on_qubits(
            6, ((0, 1, 2), unitary_group.rvs(8, random_state=rng)), ((3, 4, 5), unitary_group.rvs(8, random_state=rng))
        ),
        zz_ring_separator(6, 0.37),
        np.diag(np.exp(1j * rng.uniform(-np.pi, np.pi, 16))),
        np.diag(oracle),
        random_clifford_circuit(6, 60, rng).unitary(),
        random_cnot_phase_circuit(5, 20, rng).unitary(),
        scipy.linalg.block_diag(np.eye(8), unitary_group.rvs(8, random_state=rng)),  # controlled on qubit 0
        heisenberg_trotter_step(4, 0.3),
    ]


def random_cnot_phase_circuit(n: int, cnots: int, rng: np.random.Generator) -> Circuit:
    ops = []
    for _ in range(cnots):
        a, b = (int(q) for q in rng.choice(n, 2, replace=False))
        ops += [op("cx", a, b), op(str(rng.choice(["t", "tdg", "s"])), b), op("rz", a, params=[rng.uniform(-3, 3)])]
    return Circuit(n, tuple(ops))


def random_clifford_circuit(n: int, cnots: int, rng: np.random.Generator) -> Circuit:
    ops = []
    for _ in range(cnots):
        a, b = (int(q) for q in rng.choice(n, 2, replace=False))
        ops += [op(str(rng.choice(["h", "s", "sdg", "x"])), a), op("cx", a, b)]
    return Circuit(n, tuple(ops))


def with_bqskit(
    title: str,
    unitaries: list[np.ndarray],
    ours: dict[str, Callable[[object], Counts]],
    tolerance: float | None = None,
) -> None:
    """:func:`compare` with BQSKit's ``compile`` (approximate within ``tolerance`` when one is given) as a further
    peer where it is installed."""
    if importlib.util.find_spec("bqskit") is None:
        compare(title, unitaries, ours, synthesize_qiskit)
        return
    from bqskit.compiler import Compiler

    with Compiler(num_workers=2) as compiler:
        synthesize_bqskit(unitaries[0], compiler)  # warm-up: the first task pays the runtime's start-up
        name = "bqskit compile O1" if tolerance is None else f"bqskit compile O1 {tolerance:g}"
        peers = {name: partial(synthesize_bqskit, compiler=compiler, tolerance=tolerance)}
        compare(title, unitaries, ours | peers, synthesize_qiskit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5, help="circuits per cell")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tables", default=",".join(TABLES), help=f"which tables, comma-separated: {TABLES}")
    parser.add_argument("--tolerance", type=float, default=1e-3, help="infidelity allowed in the approximate table")
    args = parser.parse_args()
    tables = set(args.tables.split(","))
    if not tables <= set(TABLES):
        parser.error(f"unknown tables {sorted(tables - set(TABLES))}; choose from {TABLES}")
    rng = np.random.default_rng(args.seed)
    qas.compile(np.eye(4), method="exact")  # warm-up: Cirq's imports are paid once, outside the timings

    ours = {f"qas {method}": partial(compile_qas, method=method) for method in ("exact", "numerical")}
    for n in (2, 3, 4, 5) if "unitary" in tables else ():
        unitaries = [unitary_group.rvs(2**n, random_state=rng) for _ in range(args.count)]
        title = f"Unitary synthesis, {n} qubits, Haar-random, {args.count} targets"
        if n == 3:
            with_bqskit(title, unitaries, ours)
        else:
            compare(title, unitaries, ours, synthesize_qiskit)
    if "structured" in tables:
        title = "Unitary synthesis, 3 qubits, structured: Toffoli, Fredkin, QFT3, Peres, Heisenberg step, 3-8 CNOTs"
        # Their own generator: the same targets whichever tables run before.
        with_bqskit(title, structured_unitaries(np.random.default_rng(args.seed)), ours)
    if "wide" in tables:
        title = "Unitary synthesis, 4-6 qubits: 3 products, 3 diagonals, Clifford, CNOT+phase, controlled-U, Trotter"
        # auto, not numerical: numerical synthesis refuses six-qubit unitaries, and auto runs it where it fits.
        methods = {f"qas {method}": partial(compile_qas, method=method) for method in ("exact", "auto")}
        compare(title, wide_structured_unitaries(np.random.default_rng(args.seed)), methods, synthesize_qiskit)
    if "approximate" in tables:
        title = f"Approximate synthesis within {args.tolerance:g}, 3 qubits, Haar-random, {args.count} targets"
        approximate = partial(compile_qas, method="numerical", tolerance=args.tolerance)
        unitaries = [unitary_group.rvs(8, random_state=rng) for _ in range(args.count)]
        with_bqskit(title, unitaries, ours | {f"qas numerical {args.tolerance:g}": approximate}, args.tolerance)

    for n, cnots in ((6, 20), (10, 40)) if "export" in tables else ():
        circuits = [random_circuit(n, cnots, rng) for _ in range(args.count)]
        title = f"Export onto ibm-heavy-hex, {n} qubits x {cnots} CNOTs, {args.count} circuits"
        compare(title, circuits, {"qas to_device (+verify)": export_qas}, export_qiskit)

    if "state" not in tables:
        return
    for n in (3, 4, 5, 6):
        states = [unitary_group.rvs(2**n, random_state=rng)[:, 0] for _ in range(args.count)]
        title = f"State preparation, {n} qubits, Haar-random, {args.count} targets"
        compare(title, states, ours, prepare_qiskit)
    ground_states = [parse_task(f"ground-state:{m}").hamiltonian.ground_state() for m in ("h2", "lih4", "lih6")]
    ring = Circuit(6, (*(op("h", q) for q in range(6)), *(op("cz", q, (q + 1) % 6) for q in range(6))))
    structured = [ghz_state(5), w_state(4), w_state(5), ring.final_state(), *ground_states]
    title = "State preparation, GHZ-5, W-4, W-5, 6-qubit ring graph state, ground states of H2, LiH-4, LiH-6"
    compare(title, structured, ours, prepare_qiskit)


if __name__ == "__main__":
    main()
