"""OpenQASM 2/3 round trips, the reader's coverage of the standard libraries, and its error messages."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from test_interop import every_gate_circuit

from qas import GATES, Circuit, op
from qas.errors import QasmError
from qas.linalg import unitary_fidelity
from qas.qasm import _DEFINITIONS, from_qasm, to_qasm


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_round_trip_keeps_gates_and_unitary(version: str) -> None:
    circuit = every_gate_circuit()
    back = from_qasm(to_qasm(circuit, version))
    assert [(o.gate, o.qubits) for o in back] == [(o.gate, o.qubits) for o in circuit]
    np.testing.assert_allclose(back.unitary(), circuit.unitary(), atol=1e-12)


def test_output_is_readable_standard_qasm() -> None:
    circuit = Circuit(2, (op("h", 0), op("cx", 0, 1), op("rz", 1, params=[-3 * math.pi / 4]), op("p", 0, params=[0.1])))
    assert to_qasm(circuit, "3.0") == (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\n'
        "h q[0];\ncx q[0], q[1];\nrz(-3*pi/4) q[1];\np(0.1) q[0];\n"
    )
    assert "u1(0.1) q[0];" in to_qasm(circuit, "2.0")
    # Rounding residue of synthesis reads as the multiple of pi it stands for, 0 included.
    residue = Circuit(1, (op("u3", 0, params=[math.pi / 2 + 2e-16, 2.220446049250313e-16, -1e-15]),))
    assert "u3(pi/2, 0, 0) q[0];" in to_qasm(residue, "3.0")


@pytest.mark.parametrize("name", sorted(_DEFINITIONS))
def test_header_definitions_implement_their_gate(name: str) -> None:
    """The ``gate`` bodies written for other tools equal the registry gate up to a global phase."""
    spec = GATES[name]
    params = np.random.default_rng(3).uniform(-1, 1, spec.num_params)
    renamed = _DEFINITIONS[name].replace(f"gate {name}", f"gate my_{name}")
    args = f"({', '.join(repr(float(p)) for p in params)})" if spec.num_params else ""
    wires = ", ".join(f"q[{i}]" for i in range(spec.num_qubits))
    text = f'OPENQASM 2.0;\ninclude "qelib1.inc";\n{renamed}\nqreg q[{spec.num_qubits}];\nmy_{name}{args} {wires};\n'
    assert unitary_fidelity(spec.matrix(*params), from_qasm(text).unitary()) == pytest.approx(1, abs=1e-12)


def test_reads_standard_library_gates_exactly() -> None:
    text = """OPENQASM 3.0;
    include "stdgates.inc";
    qubit[2] q;
    cy q[0], q[1];
    crz(0.7) q[1], q[0];
    """
    y = np.array([[0, -1j], [1j, 0]])
    cy = np.block([[np.eye(2), np.zeros((2, 2))], [np.zeros((2, 2)), y]])
    crz_reversed = np.diag([1, np.exp(-0.35j), 1, np.exp(0.35j)])
    np.testing.assert_allclose(from_qasm(text).unitary(), crz_reversed @ cy, atol=1e-12)


@pytest.mark.parametrize(("name", "n_controls", "target"), [("c3x", 3, "x"), ("c3sqrtx", 3, "sx"), ("c4x", 4, "x")])
def test_reads_qiskit_multi_controlled_gates_exactly(name: str, n_controls: int, target: str) -> None:
    """Qiskit's qelib1 extensions: X or sqrt(X) on the last qubit when every control is 1, phase included."""
    wires = ", ".join(f"q[{i}]" for i in range(n_controls + 1))
    circuit = from_qasm(f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{n_controls + 1}];\n{name} {wires};\n')
    expected = np.eye(2 ** (n_controls + 1), dtype=complex)
    expected[-2:, -2:] = GATES[target].matrix()
    np.testing.assert_allclose(circuit.unitary(), expected, atol=1e-12)


def test_reads_relative_phase_toffoli_and_u0() -> None:
    """rccx is a Toffoli up to phases on the basis states, those of Qiskit's RCCXGate; u0 is an idle."""
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\nrccx q[0], q[1], q[2];\nu0(1) q[1];\n'
    unitary = from_qasm(text).unitary()
    toffoli = GATES["ccx"].matrix()
    np.testing.assert_allclose(np.abs(unitary), toffoli, atol=1e-12)
    np.testing.assert_allclose(np.diag(unitary @ toffoli.T), [1, 1, 1, 1, 1, -1, -1j, 1j], atol=1e-12)


def test_a_gate_on_no_qubits_is_a_global_phase_and_dropped() -> None:
    # What Qiskit's qasm3.dumps writes for a GlobalPhaseGate.
    text = "OPENQASM 3.0;\ngate global_phase(p0) {\n}\nqubit[1] q;\nh q[0];\nglobal_phase(0.3) ;\n"
    assert from_qasm(text) == Circuit(1, (op("h", 0),))
    with pytest.raises(QasmError, match="line 4: gate 'h' applied to no qubits"):
        from_qasm("OPENQASM 3.0;\nqubit[1] q;\ngate g { }\nh ;\n")


def test_reads_qasm2_features_registers_broadcast_comments_and_user_gates() -> None:
    text = """OPENQASM 2.0;
    include "qelib1.inc";
    // two registers are numbered in order
    qreg a[2];
    qreg b[1];
    creg c[3];
    gate bell(theta) x, y { h x; cx x, y; rz(theta / 2) y; }
    h a;          /* broadcast over the register */
    bell(pi) a[1], b[0];
    barrier a, b;
    measure a -> c;
    """
    circuit = from_qasm(text)
    assert circuit == Circuit(
        3, (op("h", 0), op("h", 1), op("h", 1), op("cx", 1, 2), op("rz", 2, params=[math.pi / 2]))
    )


def test_reads_qasm3_hardware_qubits_and_measurement_assignments() -> None:
    text = "OPENQASM 3.0;\nbit[2] c;\nsx $0;\ncx $0, $3;\nc[0] = measure $0;\n"
    assert from_qasm(text) == Circuit(4, (op("sx", 0), op("cx", 0, 3)))
    # A measured qubit may stay idle while the others go on; the measurement itself is dropped.
    text = "OPENQASM 3.0;\nqubit[2] q;\nh q[0];\nbit c0 = measure q[0];\nx q[1];\nmeasure q[1];\n"
    assert from_qasm(text) == Circuit(2, (op("h", 0), op("x", 1)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("OPENQASM 2.0;\nqreg q[2];\nfoo q[0];\n", "line 3: unknown gate 'foo'"),
        ("OPENQASM 2.0;\nqreg q[2];\nh q[2];\n", "line 3: qubit index 2 out of range for register q"),
        ("OPENQASM 2.0;\nqreg q[2];\ncx q[0];\n", "line 3: gate 'cx' takes 0 parameter"),
        ("OPENQASM 2.0;\nqreg q[2];\nrz(pi/) q[0];\n", "line 3: malformed parameter expression"),
        ("OPENQASM 2.0;\nqreg q[2];\nh q[0]\n", "missing ';'"),
        ("OPENQASM 2.0;\nqreg q[1];\nreset q[0];\n", "line 3: unsupported statement 'reset'"),
        # Dropping a mid-circuit measurement would change the circuit: H, measure, H is not H H = I.
        ("OPENQASM 2.0;\nqreg q[1];\ncreg c[1];\nh q;\nmeasure q -> c;\nh q[0];\n", "line 6: gate 'h' on a measured"),
        ("OPENQASM 3.0;\nqubit[2] q;\nc[1] = measure q[1];\ncx q[0], q[1];\n", "line 4: gate 'cx' on a measured"),
        ("OPENQASM 2.0;\nqreg q[1];\ncreg c[1];\nmeasure r[0] -> c[0];\n", "line 4: unknown qubit register 'r'"),
        ("OPENQASM 2.0;\nh r[0];\n", "line 2: unknown qubit register 'r'"),
        ("OPENQASM 4.0;\n", "line 1: unsupported OpenQASM version"),
        ("OPENQASM 2.0;\nqreg q[1];\nrx(nan) q[0];\n", "unsupported parameter expression 'nan'"),
        ('OPENQASM 2.0;\ninclude "qelib1.inc";\n', "declares no qubits"),
        ("   ", "empty OpenQASM program"),
    ],
)
def test_malformed_qasm_names_the_line_and_problem(text: str, message: str) -> None:
    with pytest.raises(QasmError, match=re.escape(message)):
        from_qasm(text)


def test_unsupported_version_on_output() -> None:
    with pytest.raises(QasmError, match=r"unsupported OpenQASM version '1\.0'"):
        to_qasm(Circuit(1), "1.0")


def test_qiskit_reads_our_qasm2_with_the_same_unitary() -> None:
    qiskit_qasm2 = pytest.importorskip("qiskit.qasm2")
    from qiskit.quantum_info import Operator

    circuit = every_gate_circuit()
    loaded = qiskit_qasm2.loads(to_qasm(circuit, "2.0"))
    # Qiskit orders qubits little-endian; reversing them gives qas's big-endian matrix.
    assert unitary_fidelity(circuit.unitary(), Operator(loaded.reverse_bits()).data) == pytest.approx(1, abs=1e-12)


def test_reads_what_qiskit_writes() -> None:
    """Qiskit's QASM 2 and 3 output of its standard gates reads back with the same unitary (up to global phase)."""
    qiskit = pytest.importorskip("qiskit")
    from qiskit import qasm2, qasm3
    from qiskit.circuit.library import C3SXGate
    from qiskit.quantum_info import Operator

    qc = qiskit.QuantumCircuit(5)
    qc.h(0)
    qc.cy(0, 2)
    qc.ch(1, 0)
    qc.crx(0.4, 2, 0)
    qc.cry(0.2, 0, 1)
    qc.rzz(0.3, 1, 2)
    qc.rxx(0.5, 0, 1)
    qc.sxdg(1)
    qc.u(0.1, 0.2, 0.3, 2)
    qc.cu(0.1, 0.2, 0.3, 0.4, 0, 1)
    qc.csx(2, 1)
    qc.ecr(0, 1)
    qc.iswap(1, 2)
    qc.cswap(0, 1, 2)
    qc.rccx(2, 0, 1)
    qc.rcccx(0, 1, 2, 3)
    qc.mcx([3, 1, 0], 2)
    qc.append(C3SXGate(), [1, 3, 2, 0])
    qc.mcx([0, 1, 2, 3], 4)
    expected = Operator(qc.reverse_bits()).data
    for dumps in (qasm2.dumps, qasm3.dumps):
        assert unitary_fidelity(expected, from_qasm(dumps(qc)).unitary()) == pytest.approx(1, abs=1e-12)
