"""Routing onto coupling graphs: the layout search, Qiskit's Sabre, SWAPs as CNOTs, and the Cirq ranking fallback."""

from __future__ import annotations

import sys

import cirq
import networkx as nx
import numpy as np
import pytest

from qas import Circuit, op, to_device
from qas.cirq_interop import from_cirq
from qas.devices import DEVICES
from qas.export import _verify
from qas.linalg import unitary_fidelity
from qas.routing import _route_from, _RouteCQC, _swaps_as_cnots, route, route_with_cirq, route_with_sabre

HEAVY_HEX = DEVICES["ibm-heavy-hex"]


def random_cnots(n_qubits: int, count: int, seed: int) -> Circuit:
    rng = np.random.default_rng(seed)
    return Circuit(n_qubits, tuple(op("cx", *map(int, rng.choice(n_qubits, 2, replace=False))) for _ in range(count)))


def on_couplings(circuit: Circuit, graph: nx.Graph) -> bool:
    return all(graph.has_edge(*o.qubits) for o in circuit.operations if len(o.qubits) == 2)


def test_swaps_become_cnots_and_one_cancels_a_cnot_just_before() -> None:
    after_cnot = Circuit(2, (op("cx", 0, 1), op("swap", 1, 0)))
    assert _swaps_as_cnots(after_cnot).operations == (op("cx", 1, 0), op("cx", 0, 1))
    assert unitary_fidelity(after_cnot.unitary(), _swaps_as_cnots(after_cnot).unitary()) == pytest.approx(1)
    # A gate between them on one of the qubits keeps all three.
    apart = Circuit(2, (op("cx", 0, 1), op("h", 0), op("swap", 0, 1)))
    assert [o.gate for o in _swaps_as_cnots(apart)] == ["cx", "h", "cx", "cx", "cx"]
    assert unitary_fidelity(apart.unitary(), _swaps_as_cnots(apart).unitary()) == pytest.approx(1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_layout_search_needs_fewer_swaps_than_cirqs_line_layout(seed: int) -> None:
    circuit = random_cnots(8, 24, seed)
    searched = route_with_cirq(circuit, HEAVY_HEX.graph, seed=seed)
    line_only = route_with_cirq(circuit, HEAVY_HEX.graph, trials=0)
    assert searched.swaps < line_only.swaps
    assert on_couplings(searched.circuit, HEAVY_HEX.graph)
    # Three CNOTs per SWAP at most, fewer where one cancels.
    assert circuit.cnot_count < searched.circuit.cnot_count <= circuit.cnot_count + 3 * searched.swaps
    verified = _verify(circuit, searched.circuit, searched.initial_mapping, searched.final_mapping, seed=0)
    assert verified is True


def test_sabre_routes_every_gate_onto_couplings_and_route_keeps_the_fewer_swaps() -> None:
    circuit = Circuit(10, (op("h", 0), *random_cnots(10, 40, 3).operations, op("rz", 5, params=[0.3])))
    sabre = route_with_sabre(circuit, HEAVY_HEX.graph)
    cirq_routed = route_with_cirq(circuit, HEAVY_HEX.graph)
    assert sabre is not None and on_couplings(sabre.circuit, HEAVY_HEX.graph)
    assert _verify(circuit, sabre.circuit, sabre.initial_mapping, sabre.final_mapping, seed=0) is True
    # The rotation comes back with its angle, on the physical qubit logical qubit 5 holds at the end.
    assert op("rz", sabre.final_mapping[5], params=[0.3]) in sabre.circuit.operations
    assert sabre.swaps < cirq_routed.swaps  # Sabre: 34 SWAPs, the layout search over Cirq's router: 37
    assert route(circuit, HEAVY_HEX.graph) == sabre


def test_without_qiskit_routing_is_cirqs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "qiskit", None)  # makes `import qiskit` fail
    circuit = random_cnots(6, 12, 4)
    assert route_with_sabre(circuit, HEAVY_HEX.graph) is None
    assert route(circuit, HEAVY_HEX.graph) == route_with_cirq(circuit, HEAVY_HEX.graph)


def test_a_start_where_cirqs_swap_ranking_has_no_candidates_still_routes() -> None:
    # Found by the layout search: Cirq 1.7's RouteCQC raises IndexError from this start (its ranking of SWAP pairs
    # is empty); the fallback takes the shortest path instead.
    pairs = [(4, 6), (5, 9), (7, 5), (5, 8), (8, 9), (3, 8), (7, 8), (1, 2), (1, 8), (2, 8)]
    start = {0: 19, 1: 25, 2: 8, 3: 11, 4: 26, 5: 22, 6: 24, 7: 20, 8: 16, 9: 14}
    circuit = Circuit(10, tuple(op("cx", a, b) for a, b in pairs))
    physical = cirq.LineQubit.range(HEAVY_HEX.n_qubits)
    router = _RouteCQC(nx.relabel_nodes(HEAVY_HEX.graph, dict(enumerate(physical))))
    routing = _route_from(router, circuit.to_cirq(), {cirq.LineQubit(q): physical[p] for q, p in start.items()})
    placed = from_cirq(routing.routed, qubits=physical)
    assert on_couplings(placed, HEAVY_HEX.graph)
    initial = tuple(start[q] for q in range(10))
    final = tuple(routing.end[cirq.LineQubit(q)].x for q in range(10))
    assert _verify(circuit, placed, initial, final, seed=0) is True


def test_an_idle_qubit_is_placed_too() -> None:
    # Qubit 1 has no gate; routing needs a place for it (to_device raised KeyError on it before).
    result = to_device(Circuit(4, (op("cx", 0, 3), op("cx", 0, 2), op("cx", 2, 3))), HEAVY_HEX)
    assert result.verified is True
    assert len(set(result.initial_mapping)) == 4
