"""A circuit as a networkx DAG: one node per operation, one edge per qubit wire between consecutive operations.

This is the dependency structure of the circuit (what must happen before what), used for analysis, graph encodings
of circuits and drawing. Node ``i`` is ``circuit.operations[i]`` with attributes ``gate``, ``qubits`` and
``params``; an edge ``u -> v`` with key and attribute ``qubit=q`` says that ``v`` is the next operation on wire ``q``
after ``u``. Two operations sharing two wires are joined by two parallel edges, hence a ``MultiDiGraph``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qas.circuit import Circuit, Operation
from qas.errors import InvalidCircuitError

if TYPE_CHECKING:
    import networkx as nx


def to_graph(circuit: Circuit) -> nx.MultiDiGraph:
    """The operation DAG of ``circuit`` (graph attribute ``n_qubits``)."""
    import networkx as nx

    graph = nx.MultiDiGraph(n_qubits=circuit.n_qubits)
    last_on_wire: dict[int, int] = {}
    for i, o in enumerate(circuit.operations):
        graph.add_node(i, gate=o.gate, qubits=o.qubits, params=o.params)
        for q in o.qubits:
            if q in last_on_wire:
                graph.add_edge(last_on_wire[q], i, key=q, qubit=q)
            last_on_wire[q] = i
    return graph


def from_graph(graph: nx.MultiDiGraph) -> Circuit:
    """The circuit of an operation DAG made by :func:`to_graph`: operations in topological order, ties by node id.

    For a graph straight from :func:`to_graph` this is the original circuit; for any other node numbering it is a
    circuit with the same dependency structure (so the same :meth:`Circuit.canonical` form).
    """
    import networkx as nx

    if "n_qubits" not in graph.graph:
        raise InvalidCircuitError("circuit graph lacks the graph attribute 'n_qubits'")
    if not nx.is_directed_acyclic_graph(graph):
        raise InvalidCircuitError("circuit graph has a cycle")
    try:
        ops = [
            Operation(graph.nodes[n]["gate"], graph.nodes[n]["qubits"], graph.nodes[n].get("params", ()))
            for n in nx.lexicographical_topological_sort(graph)
        ]
    except KeyError as err:
        raise InvalidCircuitError(f"circuit graph node lacks attribute {err}") from None
    return Circuit(int(graph.graph["n_qubits"]), tuple(ops))
