"""Devices, export onto them (native gates, routing, verification), and the output formats."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cirq
import numpy as np
import pytest
from test_interop import every_gate_circuit

from qas import Circuit, op
from qas.devices import DEVICES, Device, load_device
from qas.draw import save, to_png, to_svg, to_text
from qas.errors import QasError, UnknownDeviceError
from qas.export import _verify, export, to_device, to_qiskit

GHZ3 = Circuit(3, (op("h", 0), op("cx", 0, 1), op("cx", 1, 2)))
# Entangles qubits far apart on a line: needs routing everywhere except all-to-all.
SPREAD = Circuit(5, (op("h", 0), op("cx", 0, 4), op("cx", 2, 0), op("ccx", 1, 3, 4), op("rz", 4, params=[0.3])))


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
