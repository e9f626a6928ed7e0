"""Routing: place a circuit's qubits on a device's coupling graph and insert SWAPs so every gate acts on a coupling.

Cirq's ``RouteCQC`` does the SWAP insertion; what it leaves to its caller is the initial layout, and its default (a
line through the device) is often a poor start. Following SABRE's layout search (Li, Ding & Xie 2019), :func:`route`
routes from several starts, each as it is and refined by one backward-and-forward pass (route the circuit, then its
reverse from where the qubits ended; the reverse's end is a layout that suits the circuit's first gates), and keeps
the routing with the fewest SWAPs. On 20 random 10-qubit, 40-CNOT circuits on the 27-qubit heavy-hex device this cuts
the SWAPs from 60.0 (Cirq's line layout alone) to 39.9 with four random starts besides the line, in 0.23 s per
circuit (``bench/export.py`` shows the effect on CNOT counts against Qiskit).

Where Qiskit is installed its ``SabreLayout`` (layout search and SWAP insertion together, 64 layout and SWAP trials)
routes the circuit too, and the routing with fewer SWAPs is kept: on 20 random 10-qubit, 40-CNOT circuits (with
rotations, as ``bench/export.py`` draws them) Sabre needs 30.4 SWAPs (0.03 s) against these starts' 40.0 (0.12 s),
on 20 six-qubit, 20-CNOT circuits 8.65 against 10.05.

SWAPs come back as CNOTs: three, or two where a CNOT on the same pair comes just before the SWAP.

This module imports Cirq; :mod:`qas.export` imports it only when a circuit needs routing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import cirq
import networkx as nx
import numpy as np

from qas.circuit import Circuit, Operation, op
from qas.cirq_interop import from_cirq

# Random initial layouts tried besides Cirq's line layout.
LAYOUT_TRIALS = 4
# Qiskit SabreLayout's layout and SWAP trials: on the module docstring's 10-qubit circuits for Sabre, 4 trials left
# 36.8 SWAPs, 20 left 32.8 and 64 left 30.4, still in 0.03 s.
SABRE_TRIALS = 64


@dataclass(frozen=True)
class RoutedCircuit:
    """A circuit on a device's physical qubits, every two-qubit gate on a coupling.

    Attributes:
        circuit: on qubits ``0 .. n_physical-1``; inserted SWAPs written as CNOTs.
        initial_mapping: ``initial_mapping[i]`` is the physical qubit logical qubit ``i`` starts on.
        final_mapping: ``final_mapping[i]`` is the physical qubit holding logical qubit ``i`` at the end.
        swaps: the number of SWAPs routing inserted.
    """

    circuit: Circuit
    initial_mapping: tuple[int, ...]
    final_mapping: tuple[int, ...]
    swaps: int


class _RouteCQC(cirq.RouteCQC):
    """``cirq.RouteCQC`` that falls back to its brute-force SWAP choice when a ranking step has no candidates.

    Cirq 1.7 raises IndexError there instead (``sigma[0]`` of an empty list): seen when the one-SWAP ranking ties and
    no two disjoint SWAPs exist, which some initial layouts reach. Returning None is how the other ranking steps say
    "no choice", and routing then takes the shortest path.
    """

    @classmethod
    def _choose_optimal_swap(
        cls,
        mm: cirq.transformers.routing.MappingManager,
        two_qubit_ops_ints: Sequence[Sequence[tuple[int, int]]],
        timestep: int,
        lookahead_radius: int,
        sigma: Sequence[tuple[tuple[int, int], ...]],
    ) -> tuple[tuple[int, int], ...] | None:
        if not sigma:
            return None
        return super()._choose_optimal_swap(mm, two_qubit_ops_ints, timestep, lookahead_radius, sigma)


class _Routing(NamedTuple):
    routed: cirq.Circuit
    start: dict[cirq.Qid, cirq.Qid]  # logical -> physical before the circuit
    end: dict[cirq.Qid, cirq.Qid]  # logical -> physical after it
    swaps: int


def route(circuit: Circuit, graph: nx.Graph, *, seed: int = 0, trials: int = LAYOUT_TRIALS) -> RoutedCircuit:
    """Route ``circuit`` (one- and two-qubit gates) onto the connected coupling ``graph`` on nodes ``0 .. N-1``:
    :func:`route_with_cirq`'s routing, or Qiskit's Sabre's where it is installed and needs fewer SWAPs."""
    routed = route_with_cirq(circuit, graph, seed=seed, trials=trials)
    sabre = route_with_sabre(circuit, graph, seed=seed)
    return sabre if sabre is not None and sabre.swaps < routed.swaps else routed


def route_with_cirq(circuit: Circuit, graph: nx.Graph, *, seed: int = 0, trials: int = LAYOUT_TRIALS) -> RoutedCircuit:
    """Cirq's ``RouteCQC`` from its line layout and ``trials`` random connected layouts (drawn with ``seed``), each as
    it is and refined as the module docstring says: the routing with the fewest SWAPs (the first among equals: Cirq's
    line layout as it is comes first)."""
    physical = cirq.LineQubit.range(graph.number_of_nodes())
    device_graph = nx.relabel_nodes(graph, dict(enumerate(physical)))
    router = _RouteCQC(device_graph)
    logical = cirq.LineQubit.range(circuit.n_qubits)
    forward = circuit.to_cirq()
    reverse = cirq.Circuit(reversed(list(forward.all_operations())))
    line = cirq.LineInitialMapper(device_graph).initial_mapping(forward)
    rng = np.random.default_rng(seed)
    starts = [_complete(line, logical, physical)]
    starts += [_random_layout(device_graph, logical, rng) for _ in range(trials)]

    def as_is_and_refined(start: dict[cirq.Qid, cirq.Qid]) -> Iterator[_Routing]:
        first = _route_from(router, forward, start)
        yield first
        yield _route_from(router, forward, _route_from(router, reverse, first.end).end)

    best = min((r for start in starts for r in as_is_and_refined(start)), key=lambda r: r.swaps)
    return RoutedCircuit(
        _swaps_as_cnots(from_cirq(best.routed, qubits=physical)),
        tuple(best.start[q].x for q in logical),
        tuple(best.end[q].x for q in logical),
        best.swaps,
    )


def route_with_sabre(circuit: Circuit, graph: nx.Graph, *, seed: int = 0) -> RoutedCircuit | None:
    """Qiskit's SabreLayout routing of ``circuit``, or None without Qiskit. Each operation goes in as an opaque
    stand-in on the same qubits (routing reads only which qubits a gate acts on), so every gate comes back as it was,
    on its physical qubits."""
    try:
        from qiskit import QuantumCircuit
        from qiskit.circuit import Gate
        from qiskit.transpiler import CouplingMap, PassManager
        from qiskit.transpiler.passes import SabreLayout
    except ImportError:
        return None
    stand_ins = QuantumCircuit(circuit.n_qubits)
    for i, o in enumerate(circuit.operations):
        stand_ins.append(Gate(f"op{i}", len(o.qubits), []), list(o.qubits))
    coupling = CouplingMap([[a, b] for a, b in graph.edges] + [[b, a] for a, b in graph.edges])
    sabre = SabreLayout(coupling, seed=seed, swap_trials=SABRE_TRIALS, layout_trials=SABRE_TRIALS)
    routed = PassManager([sabre]).run(stand_ins)
    ops = []
    for instruction in routed.data:
        qubits = tuple(routed.find_bit(q).index for q in instruction.qubits)
        name = instruction.operation.name
        ops.append(op("swap", *qubits) if name == "swap" else replace(circuit.operations[int(name[2:])], qubits=qubits))
    swaps = sum(1 for o in ops if o.gate == "swap")
    layout = routed.layout
    return RoutedCircuit(
        _swaps_as_cnots(Circuit(graph.number_of_nodes(), tuple(ops))),
        tuple(layout.initial_index_layout(filter_ancillas=True)),
        tuple(layout.final_index_layout(filter_ancillas=True)),
        swaps,
    )


def _route_from(router: _RouteCQC, circuit: cirq.Circuit, start: dict[cirq.Qid, cirq.Qid]) -> _Routing:
    routed, _, moved = router.route_circuit(circuit, initial_mapper=cirq.HardCodedInitialMapper(start))
    swaps = sum(1 for o in routed.all_operations() if isinstance(o.gate, cirq.SwapPowGate))
    return _Routing(routed, start, {q: moved[p] for q, p in start.items()}, swaps)


def _complete(
    layout: dict[cirq.Qid, cirq.Qid], logical: Sequence[cirq.Qid], physical: Sequence[cirq.Qid]
) -> dict[cirq.Qid, cirq.Qid]:
    """``layout`` with the logical qubits it leaves out (idle ones) on the lowest free physical qubits."""
    used = set(layout.values())
    free = iter(p for p in physical if p not in used)
    return {q: layout[q] if q in layout else next(free) for q in logical}


def _random_layout(
    device_graph: nx.Graph, logical: Sequence[cirq.Qid], rng: np.random.Generator
) -> dict[cirq.Qid, cirq.Qid]:
    """The logical qubits, shuffled, on a connected region grown from a random physical qubit by random neighbours."""
    nodes = sorted(device_graph.nodes)
    region = [nodes[rng.integers(len(nodes))]]
    while len(region) < len(logical):
        frontier = sorted({n for p in region for n in device_graph.neighbors(p)} - set(region))
        region.append(frontier[rng.integers(len(frontier))])
    rng.shuffle(region)
    return dict(zip(logical, region, strict=True))


def _swaps_as_cnots(circuit: Circuit) -> Circuit:
    """Each SWAP as three CNOTs, or two where CX(a, b) comes just before it (CX(a, b), SWAP = CX(b, a), CX(a, b))."""
    ops: list[Operation | None] = []
    last: dict[int, int] = {}  # qubit -> index in ops of the last operation on it
    for o in circuit.operations:
        replacement = [o]
        if o.gate == "swap":
            a, b = o.qubits
            i = last.get(a)
            before = ops[i] if i is not None and last.get(b) == i else None
            if before is not None and before.gate == "cx":
                a, b = before.qubits
                ops[i] = None
                replacement = [op("cx", b, a), op("cx", a, b)]
            else:
                replacement = [op("cx", a, b), op("cx", b, a), op("cx", a, b)]
        for r in replacement:
            last.update(dict.fromkeys(r.qubits, len(ops)))
            ops.append(r)
    return Circuit(circuit.n_qubits, tuple(o for o in ops if o is not None))
