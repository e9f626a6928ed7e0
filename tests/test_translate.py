"""Translation into a gate set: same unitary, only the set's gates, and the one-qubit passes' gate counts."""

from __future__ import annotations

import math

import pytest
from test_interop import every_gate_circuit

import qas
from qas import Circuit, GateChoice, GateSet, Operation, get_gate_set, op
from qas.errors import QasError
from qas.linalg import unitary_fidelity
from qas.translate import translate

GHZ3 = Circuit(3, (op("h", 0), op("cx", 0, 1), op("cx", 1, 2)))


@pytest.mark.parametrize(
    "gates", ["ibm-native", "google-native", "crlqas", ["u3", "cx"], ["phased_xz", "sqrt_iswap"], ["rz", "rx", "cz"]]
)
@pytest.mark.parametrize("optimize", [False, True])
def test_translate_keeps_the_unitary_and_uses_only_the_requested_gates(gates: str | list[str], optimize: bool) -> None:
    circuit = every_gate_circuit()
    translated = translate(circuit, gates, optimize=optimize)
    assert {o.gate for o in translated} <= set(get_gate_set(gates).gate_names)
    assert unitary_fidelity(circuit.unitary(), translated.unitary()) == pytest.approx(1, abs=1e-10)


def test_translate_rewrites_only_one_qubit_runs_unless_asked_to_optimize() -> None:
    circuit = Circuit(2, (op("h", 1), op("cx", 0, 1), op("cx", 0, 1), op("t", 0), op("s", 0)))
    fast = translate(circuit, ["u3", "cx"])
    assert [o.gate for o in fast] == ["u3", "cx", "cx", "u3"]
    assert unitary_fidelity(circuit.unitary(), fast.unitary()) == pytest.approx(1, abs=1e-12)
    # The optimiser sees that the two CNOTs cancel.
    assert translate(circuit, ["u3", "cx"], optimize=True).cnot_count == 0


def test_one_qubit_runs_merge_through_gates_they_commute_with() -> None:
    # X on a CNOT's target and Z rotations on its control pass through it and merge (or cancel).
    assert translate(Circuit(2, (op("x", 1), op("cx", 0, 1), op("x", 1))), ["u3", "cx"]).operations == (op("cx", 0, 1),)
    control = Circuit(2, (op("rz", 0, params=[0.2]), op("cx", 0, 1), op("rz", 0, params=[0.3])))
    merged = translate(control, ["u3", "cx"])
    assert [o.gate for o in merged] == ["cx", "u3"]
    assert unitary_fidelity(control.unitary(), merged.unitary()) == pytest.approx(1, abs=1e-12)
    # H does not commute with a CNOT's target: a CZ keeps its Hadamards.
    cz = translate(Circuit(2, (op("h", 1), op("cx", 0, 1), op("h", 1))), ["u3", "cx"])
    assert [o.gate for o in cz] == ["u3", "cx", "u3"]
    # Merged only where that costs no more gates: with h in the set, H Rz(0.3) takes 3 (rz, sx, rz), apart 2.
    kept = translate(
        Circuit(2, (op("rz", 0, params=[0.3]), op("cx", 0, 1), op("h", 0), op("t", 1))), ["rz", "sx", "h", "cx"]
    )
    assert [o.gate for o in kept] == ["rz", "cx", "h", "rz"]


def test_a_z_rotation_moves_across_a_cnots_control_into_the_next_run() -> None:
    def u3(q: int, *angles: float) -> Operation:
        return op("u3", q, params=list(angles))

    on_control = Circuit(2, (u3(0, 0.4, 0.5, 0.6), op("cx", 0, 1), u3(0, 0.7, 0.8, 0.9)))
    on_target = Circuit(2, (u3(1, 0.4, 0.5, 0.6), op("cx", 0, 1), u3(1, 0.7, 0.8, 0.9)))
    # Two general runs on IBM's basis are 5 gates each (rz sx rz sx rz); the control's first run sheds its last rz.
    for circuit, gates in [(on_control, 10), (on_target, 11)]:
        translated = translate(circuit, "ibm-native")
        assert len(translated.operations) == gates
        assert unitary_fidelity(circuit.unitary(), translated.unitary()) == pytest.approx(1, abs=1e-12)
    assert [o.gate for o in translate(on_control, ["rz", "ry", "cx"])] == ["rz", "ry", "cx", "rz", "ry", "rz"]


def test_a_half_turn_is_one_rz_and_one_x_rotation() -> None:
    y = Circuit(1, (op("y", 0),))
    for gates, half_turn in [("ibm-native", "x"), (["rz", "sx", "cx"], "sx"), (["rz", "rx", "cz"], "rx")]:
        translated = translate(y, gates)
        assert [o.gate for o in translated][:2] == ["rz", half_turn]  # was rz, sx, sx, rz on IBM's basis
        assert unitary_fidelity(y.unitary(), translated.unitary()) == pytest.approx(1, abs=1e-12)
    assert [o.gate for o in translate(y, ["rz", "ry", "cz"])] == ["ry"]


def test_a_cnot_between_hadamards_turns_around() -> None:
    h_both = (op("h", 0), op("h", 1))
    turned = translate(Circuit(2, (*h_both, op("cx", 0, 1), *h_both)), ["u3", "cx"])
    assert turned.operations == (op("cx", 1, 0),)
    # Exact synthesis of a CNOT came out as u3 cx u3 (X on the target on both sides) before runs merged.
    assert qas.compile("cnot", method="exact").circuit.operations == (op("cx", 0, 1),)
    swap = qas.compile("swap", method="exact").circuit  # 3 CNOTs, with 8 one-qubit gates before
    assert (swap.cnot_count, len(swap.operations)) == (3, 3)


@pytest.mark.parametrize(("gate", "cnots"), [("ccx", 6), ("cswap", 8)])
def test_translate_writes_three_qubit_gates_with_the_textbook_cnot_counts(gate: str, cnots: int) -> None:
    circuit = Circuit(3, (op(gate, 2, 0, 1),))
    translated = translate(circuit, "ibm-native")
    assert translated.cnot_count == cnots
    assert unitary_fidelity(circuit.unitary(), translated.unitary()) == pytest.approx(1, abs=1e-12)


def test_translate_uses_fixed_angle_choices_only_with_their_angle() -> None:
    rz_quarter = GateSet("t", (GateChoice("rz", (math.pi / 4,)), GateChoice("u3"), GateChoice("cx")))
    assert translate(Circuit(1, (op("t", 0),)), rz_quarter) == Circuit(1, (op("rz", 0, params=[math.pi / 4]),))
    translated = translate(Circuit(1, (op("rz", 0, params=[0.3]),)), rz_quarter)
    assert [o.gate for o in translated] == ["u3"]


def test_translate_leaves_native_circuits_alone_and_refuses_non_universal_sets() -> None:
    assert translate(GHZ3, ["h", "cx"]) is GHZ3
    with pytest.raises(QasError, match="cannot translate to gates"):
        translate(Circuit(1, (op("rx", 0, params=[0.3]),)), ["h", "t", "cx"])
