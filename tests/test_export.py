"""Devices, translation to native gates, routing with verification, and the output formats."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import cirq
import numpy as np
import pytest
from test_interop import every_gate_circuit

import qas
from qas import Circuit, GateChoice, GateSet, Operation, get_gate_set, op
from qas.devices import DEVICES, Device, load_device
from qas.draw import save, to_png, to_svg, to_text
from qas.errors import QasError, UnknownDeviceError
from qas.export import _verify, export, to_device, to_qiskit, translate
from qas.linalg import unitary_fidelity

GHZ3 = Circuit(3, (op("h", 0), op("cx", 0, 1), op("cx", 1, 2)))
# Entangles qubits far apart on a line: needs routing everywhere except all-to-all.
SPREAD = Circuit(5, (op("h", 0), op("cx", 0, 4), op("cx", 2, 0), op("ccx", 1, 3, 4), op("rz", 4, params=[0.3])))


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
    swap = qas.compile("swap", method="exact").circuit  # 3 CNOTs and 8 one-qubit gates before
    assert (swap.cnot_count, len(swap.operations)) == (3, 8)


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


@pytest.mark.parametrize("name", sorted(DEVICES))
@pytest.mark.parametrize("circuit", [GHZ3, SPREAD], ids=["ghz3", "spread5"])
def test_to_device_is_native_routed_and_verified_on_every_builtin_device(name: str, circuit: Circuit) -> None:
    device = DEVICES[name]
    result = to_device(circuit, name)
    assert result.verified is True
    assert device.fits(result.circuit)
    assert result.circuit.n_qubits == device.n_qubits
    assert sorted(result.final_mapping) == sorted(set(result.final_mapping))


def test_a_circuit_that_fits_keeps_its_layout() -> None:
    result = to_device(GHZ3, "ibm-line")
    assert result.initial_mapping == result.final_mapping == (0, 1, 2)
    assert result.circuit.cnot_count == 2


def test_verification_detects_a_wrong_qubit_permutation() -> None:
    result = to_device(SPREAD, "ibm-line")
    wrong = tuple(reversed(result.final_mapping))
    assert _verify(SPREAD, result.circuit, result.initial_mapping, wrong, seed=0) is False


def test_verification_of_many_qubits_runs_on_qsim_and_still_detects_a_wrong_permutation() -> None:
    # 12 touched qubits: simulated by qsim in single precision (the numpy kernels took 10 s at 20 qubits, qsim 0.2 s).
    rng = np.random.default_rng(0)
    ops = [op("ry", q, params=[rng.uniform(-3, 3)]) for q in range(12)]
    ops += [op("cx", q, (q * 5 + 3) % 12) for q in range(12)]
    circuit = Circuit(12, tuple(ops))
    result = to_device(circuit, "ibm-heavy-hex")
    assert result.verified is True
    wrong = (*result.final_mapping[1:], result.final_mapping[0])
    assert _verify(circuit, result.circuit, result.initial_mapping, wrong, seed=0) is False


def test_user_device_from_yaml_and_json(tmp_path: Path) -> None:
    (tmp_path / "chip.yaml").write_text("name: chip\ngates: [rz, sx, x, cx]\nedges: [[0, 1], [1, 2]]\n")
    chip = load_device(tmp_path / "chip.yaml")
    assert chip == Device("chip", ("rz", "sx", "x", "cx"), ((0, 1), (1, 2)), 3)
    (tmp_path / "chip.json").write_text(json.dumps(chip.to_dict()))
    assert load_device(str(tmp_path / "chip.json")) == chip
    assert to_device(GHZ3, chip).verified is True


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("gates: [rz, sx, cx]\n", "needs the keys 'gates' and 'edges'"),
        ("gates: [rz, foo]\nedges: [[0, 1]]\n", "unknown gate 'foo'"),
        ("gates: [rz]\nedges: [[0, 0]]\n", "edge [0, 0] is not a pair"),
        ("gates: [rz]\nedges: [[0, 1, 2]]\n", "'edges' must be pairs"),
        ("gates: [rz\n", "is not valid YAML"),
        ("gates: [rz]\nedges: []\nn_qubits: -1\n", "n_qubits must be a positive integer, got -1"),
    ],
)
def test_bad_device_files(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(content)
    with pytest.raises(UnknownDeviceError, match=re.escape(message)):
        load_device(tmp_path / "bad.yaml")


def test_routing_onto_a_disconnected_device_is_refused_but_a_circuit_that_fits_is_placed() -> None:
    device = Device("split", ("u3", "cx"), ((0, 1),), 3)  # qubit 2 has no coupling
    with pytest.raises(QasError) as raised:
        to_device(Circuit(3, (op("cx", 0, 2),)), device)  # needs routing (a networkx traceback before)
    assert str(raised.value).startswith("cannot route onto split: its coupling graph falls apart into [[0, 1], [2]];")
    assert to_device(Circuit(2, (op("h", 0), op("cx", 0, 1))), device).verified


def test_a_sqrt_iswap_device_verifies_a_routed_cnot_triangle() -> None:
    # Cirq's sqrt-iSWAP synthesis of a CNOT is accurate to 4e-8: the verification's old 1e-8 said False.
    device = Device("siswap-line", ("phased_xz", "sqrt_iswap"), ((0, 1), (1, 2)), 3)
    result = to_device(Circuit(3, (op("cx", 0, 1), op("cx", 1, 2), op("cx", 0, 2))), device)
    assert result.verified is True and device.fits(result.circuit)


def test_a_native_three_qubit_gate_that_needs_routing_is_written_in_cnots() -> None:
    line_with_toffoli = Device("line-ccx", ("u3", "cx", "ccx"), ((0, 1), (1, 2), (2, 3)), 4)
    result = to_device(Circuit(4, (op("ccx", 0, 1, 3),)), line_with_toffoli)  # a ValueError from Cirq's router before
    assert result.verified is True
    assert {o.gate for o in result.circuit} <= {"u3", "cx"} and line_with_toffoli.fits(result.circuit)
    # One that fits keeps its gate.
    assert to_device(
        Circuit(4, (op("ccx", 0, 1, 2),)), Device("tri", ("u3", "cx", "ccx"), ((0, 1), (1, 2), (0, 2)), 4)
    ).circuit.operations == (op("ccx", 0, 1, 2),)


def test_unknown_device_suggests_a_name() -> None:
    with pytest.raises(UnknownDeviceError, match="Did you mean 'ibm-line'"):
        load_device("ibm-lines")
    with pytest.raises(QasError, match="does not fit on ion-all-to-all"):
        to_device(Circuit(9), "ion-all-to-all")


def test_exported_qasm_states_the_layout_in_comments() -> None:
    result = to_device(Circuit(3, (op("h", 0), op("cx", 0, 2), op("cx", 2, 1), op("cx", 1, 0))), "ibm-line")
    lines = result.to_qasm("3.0").splitlines()
    assert lines[2:4] == [
        f"// initial_mapping = {list(result.initial_mapping)}",
        f"// final_mapping = {list(result.final_mapping)}",
    ]
    assert result.initial_mapping != result.final_mapping  # the triangle needs a SWAP on a line
    assert Circuit.from_qasm(result.to_qasm("2.0")) == result.circuit


def test_text_formats_round_trip() -> None:
    circuit = to_device(SPREAD, "google-grid").circuit
    assert Circuit.from_qasm(export(circuit, "qasm3")) == Circuit.from_qasm(export(circuit, "qasm2"))
    restored = Circuit.from_cirq(cirq.read_json(json_text=export(circuit, "cirq-json")))
    # cirq-json keeps moments, not the order within them, and numbers only the qubits it touches.
    assert restored.canonical().operations == circuit.canonical().operations
    with pytest.raises(QasError, match="unknown export format 'pdf'"):
        export(circuit, "pdf")


def test_qiskit_export_has_the_same_unitary_and_phase() -> None:
    pytest.importorskip("qiskit")
    from qiskit.quantum_info import Operator

    circuit = every_gate_circuit()
    operator = Operator(to_qiskit(circuit).reverse_bits()).data
    np.testing.assert_allclose(operator, circuit.unitary(), atol=1e-10)


def test_drawings(tmp_path: Path) -> None:
    assert "@" in to_text(GHZ3) and "H" in to_text(GHZ3)
    svg = to_svg(SPREAD)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert to_png(GHZ3).startswith(b"\x89PNG")
    assert save(GHZ3, tmp_path / "c.txt").read_text() == to_text(GHZ3) + "\n"
    with pytest.raises(QasError, match=r"use a \.svg, \.png or \.txt"):
        save(GHZ3, tmp_path / "c.pdf")
