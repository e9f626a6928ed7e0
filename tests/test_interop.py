"""Round trips between qas circuits and Cirq, networkx graphs and JSON."""

from __future__ import annotations

import math

import cirq
import networkx as nx
import numpy as np
import pytest

from qas import GATES, Circuit, op
from qas.errors import InvalidCircuitError
from qas.graph import from_graph, to_graph
from qas.linalg import unitary_fidelity


def every_gate_circuit(seed: int = 0) -> Circuit:
    """One operation of every registry gate with random angles, on 3 qubits."""
    rng = np.random.default_rng(seed)
    ops = [op(name, *range(g.num_qubits), params=rng.uniform(-3, 3, g.num_params)) for name, g in GATES.items()]
    return Circuit(3, (*ops, op("cx", 2, 0), op("rz", 1, params=[math.pi / 4])))


def test_to_cirq_has_the_same_unitary_including_phase() -> None:
    circuit = every_gate_circuit()
    np.testing.assert_allclose(cirq.unitary(circuit.to_cirq()), circuit.unitary(), atol=1e-12)


def test_cirq_round_trip_keeps_every_registry_gate() -> None:
    circuit = every_gate_circuit()
    back = Circuit.from_cirq(circuit.to_cirq())
    assert [(o.gate, o.qubits) for o in back] == [(o.gate, o.qubits) for o in circuit]
    np.testing.assert_allclose(back.unitary(), circuit.unitary(), atol=1e-12)


def test_from_cirq_maps_powers_to_the_exact_registry_gate() -> None:
    q = cirq.LineQubit.range(2)
    cirq_circuit = cirq.Circuit(
        cirq.rz(0.3)(q[0]),
        cirq.Z(q[0]) ** 0.3,
        cirq.S(q[0]),
        cirq.T(q[1]) ** -1,
        cirq.Z(q[1]),
        cirq.X(q[0]) ** 0.5,
        cirq.CZ(*q) ** 0.5,
        cirq.SQRT_ISWAP(*q),
        strategy=cirq.InsertStrategy.NEW,
    )
    converted = Circuit.from_cirq(cirq_circuit)
    assert [o.gate for o in converted] == ["rz", "p", "s", "tdg", "z", "sx", "cp", "sqrt_iswap"]
    assert converted.operations[1].params == pytest.approx((0.3 * math.pi,))
    np.testing.assert_allclose(converted.unitary(), cirq.unitary(cirq_circuit), atol=1e-12)


def test_from_cirq_decomposes_gates_outside_the_registry() -> None:
    q = cirq.LineQubit.range(3)
    cirq_circuit = cirq.Circuit(
        cirq.H(q[0]) ** 0.5, cirq.CCZ(*q), cirq.ISWAP(q[0], q[1]), cirq.FSimGate(0.3, 0.2)(q[1], q[2]), cirq.measure(*q)
    )
    converted = Circuit.from_cirq(cirq_circuit)
    assert converted.n_qubits == 3
    assert unitary_fidelity(cirq.unitary(cirq.drop_terminal_measurements(cirq_circuit)), converted.unitary()) > 1 - 1e-9


def test_from_cirq_numbers_grid_qubits_in_sorted_order() -> None:
    a, b = cirq.GridQubit(1, 1), cirq.GridQubit(0, 3)
    converted = Circuit.from_cirq(cirq.Circuit(cirq.CNOT(a, b)))
    assert converted == Circuit(2, (op("cx", 1, 0),))


def test_from_cirq_rejects_symbols_and_mid_circuit_measurement() -> None:
    import sympy

    q = cirq.LineQubit(0)
    with pytest.raises(InvalidCircuitError, match="symbolic"):
        Circuit.from_cirq(cirq.Circuit(cirq.rx(sympy.Symbol("t"))(q)))
    with pytest.raises(InvalidCircuitError, match="mid-circuit"):
        Circuit.from_cirq(cirq.Circuit(cirq.measure(q), cirq.X(q)))


def test_graph_is_a_dag_with_edges_along_wires_and_round_trips() -> None:
    circuit = Circuit(3, (op("h", 0), op("cx", 0, 1), op("cx", 0, 1), op("rz", 2, params=[0.4]), op("cx", 1, 2)))
    graph = to_graph(circuit)
    assert nx.is_directed_acyclic_graph(graph)
    assert graph.number_of_nodes() == 5
    # Two edges between the consecutive CNOTs, one per shared wire.
    assert sorted(wire for _, _, wire in graph.out_edges(1, data="qubit")) == [0, 1]
    assert {(u, v) for u, v in graph.edges()} == {(0, 1), (1, 2), (2, 4), (3, 4)}
    assert from_graph(graph) == circuit


def test_json_round_trip() -> None:
    circuit = every_gate_circuit(1)
    assert Circuit.from_json(circuit.to_json()) == circuit


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"n_qubits": "two", "operations": []}',
            "malformed circuit JSON: invalid literal for int() with base 10: 'two'",
        ),
        (
            '{"n_qubits": 1, "operations": [{"gate": "rx", "qubits": [0], "params": ["a"]}]}',
            "malformed circuit JSON: could not convert string to float: 'a'",
        ),
        ('{"n_qubits": 1, "operations": [{"qubits": [0]}]}', "malformed circuit JSON: missing field 'gate'"),
        ('{"n_qubits": 1, "operations": [{"gate": "rx", "qubits": [0]}]}', "gate 'rx' takes 1 parameter(s), got 0"),
        ("[1, 2]", "malformed circuit JSON: expected an object with n_qubits and operations"),
    ],
)
def test_malformed_json_is_one_error_naming_the_problem(text: str, message: str) -> None:
    # Values of the wrong type were a bare ValueError, which the CLI showed as a traceback.
    with pytest.raises(InvalidCircuitError) as raised:
        Circuit.from_json(text)
    assert str(raised.value) == message


def test_qubit_indices_must_be_integers() -> None:
    # int() would have truncated 0.5 to qubit 0; an angle passed where a qubit goes gets a hint.
    with pytest.raises(InvalidCircuitError) as raised:
        op("rx", 0, 0.3)
    assert str(raised.value) == "gate 'rx': qubit indices must be integers, got [0, 0.3] (pass angles as params=[...])"
    with pytest.raises(InvalidCircuitError, match=r"^gate 'h': qubit indices must be integers, got \[0\.5\]$"):
        op("h", 0.5)
    assert op("cx", np.int64(0), 1).qubits == (0, 1)
