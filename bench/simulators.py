"""Simulator backends side by side, measured in one run: ``.venv/bin/python bench/simulators.py``.

Prints calls per second (higher is better) or seconds per state (lower is better), with ratios against qsim and cirq
measured in the same run, for

1. a whole 20-gate random circuit on 2, 3 and 5 qubits -> final state (numpy, qsim, cirq, torch);
2. one more gate on a cached state: the environments' incremental step (numpy, torch, qsim, cirq);
3. 1024 states at once: heterogeneous one-gate steps and whole different circuits (numpy, torch);
4. the numpy/qsim crossover: a 10-layer circuit on 6-14 qubits (backs ``qas.sim.AUTO_QSIM_MIN_QUBITS``);
5. a 20-layer circuit on 16 and 20 qubits (qsim on 1 thread and on every core, cirq, numpy);
6. scoring 512 different circuits: ``qas.evaluate_many`` against a loop of ``qas.evaluate`` (backs
   ``qas.evaluate.BATCHED_UNITARY_MAX_QUBITS``).

These figures back the choices in :mod:`qas.sim` and the environments' use of the numpy kernel. Small-circuit cells
are the median of 3 timed repeats of at least ``--min-time`` seconds; large-circuit cells the median of 3 calls after
a warm-up at 16 qubits and a single cold call at 20. The run takes 1-3 minutes. On a shared machine, compare the
ratios (measured in the same run), not the absolute figures.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from qas import Circuit, Operation, StatePreparation, UnitarySynthesis, evaluate, evaluate_many, op
from qas.sim import available_cores, cirq_backend, qsim_backend, statevector, torch_backend

SMALL_SIZES = (2, 3, 5)
CROSSOVER_SIZES = (6, 8, 10, 12, 14)
LARGE_SIZES = (16, 20)
BATCH = 1024


def random_circuit(n: int, gates: int, rng: np.random.Generator) -> Circuit:
    """Random gates from {h, cx, rx, ry, rz}, as in peer-measurements.md."""
    ops = []
    for _ in range(gates):
        kind = str(rng.choice(["h", "rx", "ry", "rz", "cx"]))
        if kind == "cx":
            a, b = rng.choice(n, 2, replace=False)
            ops.append(op("cx", int(a), int(b)))
        else:
            ops.append(op(kind, int(rng.integers(n)), params=[float(rng.uniform(-3, 3))] if kind != "h" else []))
    return Circuit(n, tuple(ops))


def layered_circuit(n: int, layers: int, rng: np.random.Generator) -> Circuit:
    """Each layer: a random rotation or H on every qubit, then a CNOT brickwork with alternating offset."""
    ops: list[Operation] = []
    for layer in range(layers):
        for q in range(n):
            kind = str(rng.choice(["h", "rx", "ry", "rz"]))
            ops.append(op(kind, q, params=[float(rng.uniform(-3, 3))] if kind != "h" else []))
        ops.extend(op("cx", q, q + 1) for q in range(layer % 2, n - 1, 2))
    return Circuit(n, tuple(ops))


def rate(fn: Callable[[], object], min_time: float, repeats: int = 3) -> float:
    """Median calls per second over ``repeats`` timed runs of at least ``min_time`` seconds (after one warm-up)."""
    fn()
    rates = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < min_time:
            fn()
            calls += 1
        rates.append(calls / elapsed)
    return statistics.median(rates)


def seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds per call over ``repeats`` calls, after one warm-up call when ``repeats`` > 1."""
    if repeats > 1:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def print_table(
    title: str,
    unit: str,
    rows: dict[str, list[float]],
    columns: list[str],
    higher_is_better: bool,
    peers: tuple[str, ...] = ("qsim", "cirq"),
) -> None:
    """One table: a value per (row, column) and, per column, each row's speed relative to each peer row present."""
    print(f"\n## {title} ({unit})\n")
    peers = tuple(p for p in peers if p in rows)
    header = ["backend", *columns] + [f"x {p} @ {c}" for p in peers for c in columns]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, values in rows.items():
        cells = [f"{v:,.0f}" if higher_is_better else f"{v:.4f}" for v in values]
        for p in peers:
            # A speed-up factor either way: >1 means this row is faster than the peer.
            cells += [
                f"{(v / ref if higher_is_better else ref / v):.2f}" for v, ref in zip(values, rows[p], strict=True)
            ]
        print(f"| {name} | " + " | ".join(cells) + " |")


def bench_whole_circuits(rng: np.random.Generator, min_time: float) -> None:
    circuits = {n: random_circuit(n, 20, rng) for n in SMALL_SIZES}
    rows = {
        "numpy": [rate(lambda c=c: statevector.final_state(c), min_time) for c in circuits.values()],
        "torch (complex64, 1 thread)": [
            rate(lambda c=c: torch_backend.circuit_state(c), min_time) for c in circuits.values()
        ],
        "qsim": [rate(lambda c=c: qsim_backend.final_state(c, cpu_threads=1), min_time) for c in circuits.values()],
        "cirq": [rate(lambda c=c: cirq_backend.final_state(c), min_time) for c in circuits.values()],
    }
    print_table("Whole 20-gate circuit -> final state", "calls/s", rows, [f"n={n}" for n in SMALL_SIZES], True)


def bench_incremental(rng: np.random.Generator, min_time: float) -> None:
    states = {n: random_circuit(n, 10, rng).final_state() for n in SMALL_SIZES}
    steps = {n: Circuit(n, (op("cx", 0, n - 1),)) for n in SMALL_SIZES}
    torch_states = {n: torch.from_numpy(psi) for n, psi in states.items()}
    cx = torch_backend.gate_matrices("cx", None, dtype=torch.complex128)
    rows = {
        "numpy apply_operation": [
            rate(lambda n=n: statevector.apply_operation(states[n], steps[n].operations[0], n), min_time)
            for n in SMALL_SIZES
        ],
        "torch apply_gate": [
            rate(lambda n=n: torch_backend.apply_gate(torch_states[n], cx, (0, n - 1), n), min_time)
            for n in SMALL_SIZES
        ],
        "qsim": [
            rate(lambda n=n: qsim_backend.final_state(steps[n], states[n], cpu_threads=1), min_time)
            for n in SMALL_SIZES
        ],
        "cirq": [rate(lambda n=n: cirq_backend.final_state(steps[n], states[n]), min_time) for n in SMALL_SIZES],
    }
    print_table("One gate (CNOT 0 -> n-1) on a cached state", "steps/s", rows, [f"n={n}" for n in SMALL_SIZES], True)


def bench_batched(rng: np.random.Generator, min_time: float) -> None:
    rows: dict[str, list[float]] = {
        "numpy apply_operations (1-gate steps)": [],
        "torch apply_operations (1-gate steps)": [],
        "torch batch_states (whole 20-gate circuits)": [],
    }
    for n in SMALL_SIZES:
        states = np.stack([random_circuit(n, 5, rng).final_state() for _ in range(BATCH)])
        steps = [random_circuit(n, 1, rng).operations[0] for _ in range(BATCH)]
        circuits = [random_circuit(n, 20, rng) for _ in range(BATCH)]
        torch_states = torch.from_numpy(states).to(torch.complex64)
        rows["numpy apply_operations (1-gate steps)"].append(
            BATCH * rate(lambda s=states, o=steps, n=n: statevector.apply_operations(s, o, n), min_time)
        )
        rows["torch apply_operations (1-gate steps)"].append(
            BATCH * rate(lambda s=torch_states, o=steps, n=n: torch_backend.apply_operations(s, o, n), min_time)
        )
        rows["torch batch_states (whole 20-gate circuits)"].append(
            BATCH * rate(lambda c=circuits: torch_backend.batch_states(c), min_time)
        )
    print_table(
        f"{BATCH} different states at once", "states/s (steps or circuits)", rows, [f"n={n}" for n in SMALL_SIZES], True
    )


def bench_crossover(rng: np.random.Generator, min_time: float) -> None:
    circuits = [layered_circuit(n, 10, rng) for n in CROSSOVER_SIZES]
    rows = {
        "numpy": [rate(lambda c=c: statevector.final_state(c), min_time) for c in circuits],
        "qsim": [rate(lambda c=c: qsim_backend.final_state(c, cpu_threads=1), min_time) for c in circuits],
    }
    sizes = [f"n={c.n_qubits} ({len(c)} gates)" for c in circuits]
    print_table("numpy/qsim crossover: 10-layer circuit -> final state", "calls/s", rows, sizes, True)


def bench_large(rng: np.random.Generator) -> None:
    circuits = {n: layered_circuit(n, 20, rng) for n in LARGE_SIZES}
    repeats = {16: 3, 20: 1}  # one cold call at 20 qubits: numpy alone takes 10-40 s there
    threads = available_cores()
    rows = {
        "qsim": [
            seconds(lambda c=c: qsim_backend.final_state(c, cpu_threads=1), repeats[n]) for n, c in circuits.items()
        ],
        f"qsim ({threads} threads)": [
            seconds(lambda c=c: qsim_backend.final_state(c, cpu_threads=threads), repeats[n])
            for n, c in circuits.items()
        ],
        "cirq": [seconds(lambda c=c: cirq_backend.final_state(c), repeats[n]) for n, c in circuits.items()],
        "numpy": [seconds(lambda c=c: statevector.final_state(c), repeats[n]) for n, c in circuits.items()],
    }
    sizes = [f"n={n} ({len(c)} gates)" for n, c in circuits.items()]
    print_table("20-layer circuit -> final state", "seconds per state, qsim = 1 thread", rows, sizes, False)


def bench_scoring(rng: np.random.Generator) -> None:
    rows: dict[str, list[float]] = {"evaluate_many": [], "loop": []}
    columns = []
    for kind in ("state", "unitary"):
        for n in (3, 4, 5):
            circuits = [random_circuit(n, 20, rng) for _ in range(256)]
            source = random_circuit(n, 20, rng)
            task = StatePreparation(source.final_state()) if kind == "state" else UnitarySynthesis(source.unitary())
            rows["evaluate_many"].append(len(circuits) / seconds(lambda c=circuits, t=task: evaluate_many(c, t), 3))
            rows["loop"].append(len(circuits) / seconds(lambda c=circuits, t=task: [evaluate(x, t) for x in c], 3))
            columns.append(f"{kind} n={n}")
    title = "Scoring 256 different 20-gate circuits: evaluate_many vs a loop of evaluate"
    print_table(title, "circuits/s", rows, columns, True, peers=("loop",))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per timed repeat (small circuits)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)  # peer-measurements.md: more threads collapse under contention on tiny tensors
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    cores = available_cores()
    print(f"# qas simulators (numpy {np.__version__}, torch {torch.__version__}, {cores} cores)")
    bench_whole_circuits(rng, args.min_time)
    bench_incremental(rng, args.min_time)
    bench_batched(rng, args.min_time)
    bench_crossover(rng, args.min_time)
    bench_large(rng)
    bench_scoring(rng)
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
