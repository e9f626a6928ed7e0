"""qas.compile: exact synthesis in any universal gate set, device layout, and the auto fallback over plugins."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cirq
import numpy as np
import pytest
import sympy

import qas
from qas import Circuit, CompileResult, GateSet, op
from qas.errors import ConfigError, InputFileError, InvalidUnitaryError, QasError
from qas.linalg import unitary_fidelity
from qas.synthesis import qiskit_clifford_synthesis

compile_module = sys.modules["qas.compile"]
CNOT = Circuit(2, (op("cx", 0, 1),)).unitary()


@pytest.mark.parametrize("n_qubits", [1, 2, 3, 4])
def test_exact_compiles_haar_random_unitaries(n_qubits: int) -> None:
    target = cirq.testing.random_unitary(2**n_qubits, random_state=n_qubits)
    result = qas.compile(target, method="exact")
    assert result.method == "exact"
    assert result.infidelity < 1e-10
    assert unitary_fidelity(target, result.circuit.unitary()) > 1 - 1e-10
    assert {o.gate for o in result.circuit} <= {"u3", "cx"}
    # The analytic bounds: 3 CNOTs for two qubits, 20 for three; the Shannon decomposition takes ~100 at four.
    assert result.circuit.cnot_count <= {1: 0, 2: 3, 3: 20, 4: 100}[n_qubits]


def test_exact_falls_back_to_cirqs_shannon_decomposition_without_qiskit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "qiskit", None)  # makes `import qiskit` fail
    target = cirq.testing.random_unitary(16, random_state=5)
    result = qas.compile(target, method="exact")
    assert result.infidelity < 1e-10 and result.circuit.cnot_count == 100  # Cirq's QSD count at 4 qubits


def test_exact_keeps_the_shorter_of_cirqs_and_qiskits_synthesis_up_to_three_qubits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Haar-random 3 qubits: Qiskit's decomposition takes 19 CNOTs, Cirq's 20; Toffoli: Cirq's 7, Qiskit's 8.
    target = cirq.testing.random_unitary(8, random_state=3)
    assert qas.compile(target, method="exact").circuit.cnot_count == 19
    assert qas.compile("toffoli", method="exact").circuit.cnot_count == 7
    monkeypatch.setitem(sys.modules, "qiskit", None)  # without Qiskit, Cirq's alone
    assert qas.compile(target, method="exact").circuit.cnot_count == 20


def test_two_qubit_exact_takes_qiskits_circuit_in_the_basis_and_is_deterministic() -> None:
    pytest.importorskip("qiskit")
    target = cirq.testing.random_unitary(4, random_state=11)
    first, again = (qas.compile(target, method="exact", gates="ibm-native").circuit for _ in range(2))
    assert first == again  # IBM's set has cx and ecr; Qiskit, given both, picked either from call to call
    # 3 CNOTs and 25 rz/sx (Qiskit's basis-aware KAK); its u3/cx circuit translated takes 30 gates, Cirq's 36.
    assert (first.cnot_count, len(first.operations)) == (3, 28)


def random_clifford_circuit(n_qubits: int, cnots: int, seed: int) -> Circuit:
    rng = np.random.default_rng(seed)
    ops = []
    for _ in range(cnots):
        a, b = (int(q) for q in rng.choice(n_qubits, 2, replace=False))
        ops += [op(str(rng.choice(["h", "s", "sdg", "x"])), a), op("cx", a, b)]
    return Circuit(n_qubits, tuple(ops))


def test_exact_writes_a_clifford_from_its_tableau() -> None:
    pytest.importorskip("qiskit")
    # A six-qubit Clifford of 60 CNOTs: the Shannon decomposition of its matrix takes ~1800, Qiskit's Clifford
    # synthesis 17 (a SWAP among them, 3 CNOTs once translated).
    target = random_clifford_circuit(6, 60, seed=0).unitary()
    result = qas.compile(target, method="exact")
    assert result.circuit.cnot_count == 18 and result.infidelity < 1e-12
    assert qas.compile(target, method="exact").circuit == result.circuit  # deterministic


def test_without_qiskit_a_clifford_has_no_tableau_circuits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "qiskit", None)  # makes `import qiskit` fail
    target = random_clifford_circuit(3, 10, seed=1).unitary()
    assert qiskit_clifford_synthesis(target) == []
    assert qas.compile(target, method="exact").infidelity < 1e-12  # Cirq's decomposition still writes it


def test_exact_writes_the_requested_gate_set() -> None:
    target = cirq.testing.random_unitary(4, random_state=7)
    result = qas.compile(target, method="exact", gates="google-native")
    assert {o.gate for o in result.circuit} <= {"phased_xz", "cz", "sqrt_iswap"}
    assert result.infidelity < 1e-10


def test_compile_for_a_device_lays_out_and_verifies() -> None:
    target = cirq.testing.random_unitary(8, random_state=3)
    result = qas.compile(target, method="exact", device="ibm-line")
    assert {o.gate for o in result.circuit} <= {"rz", "sx", "x", "cx"}
    assert result.export is not None and result.export.verified is True
    assert "OPENQASM 3.0" in result.to_qasm() and "qubit[7] q;" in result.to_qasm()
    data = result.to_dict()
    assert data["device"]["verified"] is True and data["fidelity"] > 1 - 1e-10 and data["cnot_count"] > 0


def _fake_methods(monkeypatch: pytest.MonkeyPatch, **methods: Any) -> None:
    monkeypatch.setattr(compile_module, "plugins", lambda group: methods if group == "qas.compilers" else {})


def test_auto_keeps_a_generator_circuit_within_tolerance(monkeypatch: pytest.MonkeyPatch) -> None:
    def generator(
        target: np.ndarray, *, gates: GateSet, device: Any, tolerance: float, **options: Any
    ) -> CompileResult:
        assert tolerance == 1e-6
        assert options == {"samples": 4}
        return CompileResult.from_circuit(Circuit(2, (op("cx", 0, 1),)), target, "fake")

    _fake_methods(monkeypatch, fake=generator)
    result = qas.compile(CNOT, samples=4)
    assert result.method == "fake" and result.circuit.gate_count == 1
    assert result.attempts == (("fake", 0.0),)


def test_auto_keeps_numerical_synthesis_where_it_is_shorter_than_a_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    # A generator's exact but padded Toffoli (two CNOTs that cancel): auto takes it, then finds the Toffoli's 6.
    def padded(target: np.ndarray, **_: Any) -> CompileResult:
        circuit = Circuit(3, (op("ccx", 0, 1, 2), op("cx", 0, 1), op("cx", 0, 1)))
        return CompileResult.from_circuit(circuit, target, "padded")

    _fake_methods(monkeypatch, padded=padded)
    result = qas.compile("toffoli")
    assert result.method == "numerical" and result.circuit.cnot_count == 6 and result.infidelity < 1e-12
    assert [m for m, _ in result.attempts] == ["padded", "numerical"]


def test_auto_falls_back_to_exact_when_generators_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    def wrong(target: np.ndarray, **_: Any) -> CompileResult:
        return CompileResult.from_circuit(Circuit(2, (op("h", 0),)), target, "wrong")

    def broken(target: np.ndarray, **_: Any) -> CompileResult:
        raise QasError("model supports 3 qubits only")

    _fake_methods(monkeypatch, wrong=wrong, broken=broken)
    result = qas.compile(CNOT)
    assert result.method == "exact" and result.infidelity < 1e-10
    assert [m for m, _ in result.attempts] == ["wrong", "broken", "exact"]
    assert result.attempts[0][1] == pytest.approx(1 - 2 / 16)  # |Tr(CNOT^dagger (H x I))|^2 = 2
    assert result.attempts[1][1] == "error: model supports 3 qubits only"


@pytest.mark.parametrize(
    "error", [ConfigError("samples must be an integer of at least 1, got 0"), InputFileError("no weights at 'w'")]
)
def test_auto_raises_a_bad_option_instead_of_falling_back(monkeypatch: pytest.MonkeyPatch, error: QasError) -> None:
    # Falling back to exact would answer, and the caller would never learn that their option was ignored.
    def refusing(target: np.ndarray, **_: Any) -> CompileResult:
        raise error

    _fake_methods(monkeypatch, refusing=refusing)
    with pytest.raises(type(error)) as raised:
        qas.compile(CNOT)
    assert raised.value is error


def test_an_option_the_method_does_not_take_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def generator(target: np.ndarray, *, gates: GateSet, device: Any, tolerance: float, samples: int = 8) -> Any:
        raise AssertionError("not called: the options are checked first")

    _fake_methods(monkeypatch, fake=generator)
    message = "unknown option(s) ['sample'] for compile method 'fake'; known: ['samples']"
    for method in ("fake", "auto"):
        with pytest.raises(QasError) as raised:
            qas.compile(CNOT, method=method, sample=4)
        assert str(raised.value) == message


def test_a_generator_circuit_is_rewritten_into_the_requested_gates(monkeypatch: pytest.MonkeyPatch) -> None:
    def generator(target: np.ndarray, **_: Any) -> CompileResult:
        return CompileResult.from_circuit(Circuit(2, (op("cx", 0, 1),)), target, "fake")

    _fake_methods(monkeypatch, fake=generator)
    result = qas.compile(CNOT, gates=["phased_xz", "cz"])
    assert result.method == "fake" and {o.gate for o in result.circuit} == {"phased_xz", "cz"}
    assert result.infidelity < 1e-10


def test_target_from_npy_file(tmp_path: Path) -> None:
    np.save(tmp_path / "u.npy", CNOT)
    assert qas.compile(str(tmp_path / "u.npy"), method="exact").infidelity < 1e-10


def test_a_circuit_is_re_synthesised_in_other_gates() -> None:
    circuit = Circuit(3, (op("h", 0), op("cx", 0, 1), op("cx", 1, 2), op("t", 2)))
    result = qas.compile(circuit, method="exact", gates="google-native")
    assert {o.gate for o in result.circuit} <= {"phased_xz", "cz"}
    assert unitary_fidelity(circuit.unitary(), result.circuit.unitary()) > 1 - 1e-10


def test_cirq_circuits_gates_and_operations_are_unitary_targets() -> None:
    a, b = cirq.LineQubit.range(2)
    assert qas.evaluate(qas.compile(cirq.CCX, method="exact").circuit, "unitary:toffoli").fidelity == pytest.approx(
        1, abs=1e-10
    )
    # Cirq's qubit order is qas's: the first (sorted) qubit is the most significant.
    reversed_cnot = Circuit(2, (op("cx", 1, 0),)).unitary()
    for target in (cirq.CNOT(b, a), cirq.Circuit(cirq.CNOT(b, a))):
        assert unitary_fidelity(reversed_cnot, qas.compile(target, method="exact").circuit.unitary()) > 1 - 1e-10
    with pytest.raises(InvalidUnitaryError, match="the Cirq Rx has no unitary"):
        qas.compile(cirq.rx(sympy.Symbol("t")))
    with pytest.raises(InvalidUnitaryError, match="a 11-qubit circuit is too large"):
        qas.compile(cirq.Circuit(cirq.H.on_each(cirq.LineQubit.range(11))))


@pytest.mark.parametrize("rounded", [lambda u: u.astype(np.complex64), lambda u: np.round(u, 7)])
def test_a_unitary_saved_in_single_precision_or_rounded_compiles(rounded: Callable[[np.ndarray], np.ndarray]) -> None:
    # Unitary to ~1e-7: within qas' tolerance, but Cirq's synthesis (1e-8) refused it with a ValueError.
    target = cirq.testing.random_unitary(8, random_state=5)
    result = qas.compile(rounded(target), method="exact")
    assert unitary_fidelity(target, result.circuit.unitary()) > 1 - 1e-6


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        (np.ones((2, 2)), InvalidUnitaryError, "not unitary"),
        (np.eye(3), InvalidUnitaryError, "not a power of two"),
        (np.full((2, 2), np.nan), InvalidUnitaryError, "NaN or inf"),
        (np.eye(4)[:, :2], InvalidUnitaryError, "square matrix"),
        ("missing.npy", InputFileError, "does not exist"),
    ],
)
def test_bad_targets(target: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        qas.compile(target)


def test_bad_method_options_and_gates() -> None:
    with pytest.raises(QasError, match="unknown compile method 'magic'"):
        qas.compile(CNOT, method="magic")
    with pytest.raises(QasError, match="exact method takes no options, got steps"):
        qas.compile(CNOT, method="exact", steps=3)
    with pytest.raises(QasError, match="cannot translate to gates"):
        qas.compile(cirq.testing.random_unitary(2, random_state=1), gates=["h", "t", "cx"], method="exact")


def test_a_numpy_tolerance_is_a_number() -> None:
    # np.float32 is no Python float: it was refused as "must be a number".
    assert qas.compile(CNOT, tolerance=np.float32(1e-6)).infidelity < 1e-6


@pytest.mark.parametrize("tolerance", [float("nan"), -1e-3, 1.0])
def test_a_tolerance_outside_zero_to_one_is_refused(tolerance: float) -> None:
    with pytest.raises(QasError, match=r"tolerance is an infidelity and must be a number in \[0, 1\), got"):
        qas.compile(CNOT, tolerance=tolerance)


def random_cnot_circuit(n_qubits: int, cnots: int, seed: int) -> Circuit:
    rng = np.random.default_rng(seed)
    ops = []
    for _ in range(cnots):
        a, b = (int(q) for q in rng.choice(n_qubits, 2, replace=False))
        ops += [op("ry", a, params=[float(rng.uniform(-np.pi, np.pi))]), op("cx", a, b)]
    return Circuit(n_qubits, tuple(ops))


def test_a_circuit_target_is_never_lengthened(tmp_path: Path) -> None:
    # Ten CNOTs on four qubits: exact synthesis of its unitary takes 93, numerical 61; the circuit itself wins, and
    # auto does not fit (10 is below numerical synthesis's first count, 61).
    circuit = random_cnot_circuit(4, 10, 0)
    result = qas.compile(circuit, gates="ibm-native")
    assert result.method == "input" and result.circuit.cnot_count <= 10 and result.infidelity < 1e-12
    assert [name for name, _ in result.attempts] == ["diffusion", "exact", "input"]
    path = tmp_path / "c.qasm"
    path.write_text(circuit.to_qasm("2.0"))
    assert qas.compile(str(path), gates="ibm-native").circuit == result.circuit
    # Thirty CNOTs on three qubits: synthesis is shorter than the circuit translated. The circuit is real (ry and cx
    # only), which the search below the bound of 14 finds room in.
    long = qas.compile(random_cnot_circuit(3, 30, 1), method="numerical", gates="ibm-native")
    assert long.method == "numerical" and long.circuit.cnot_count == 13
