"""Every kind of bad input gives one clear error: a QasError (ValueError) in Python, one line and exit 2 at the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import qas
import qas.envs  # registers the environments
from qas import Circuit, op
from qas.cli import main
from qas.errors import QasError

GHZ3 = Circuit(3, (op("h", 0), op("cx", 0, 1), op("cx", 1, 2)))


def _files(tmp: Path) -> dict[str, Path]:
    """Bad (and a few good) input files, by name."""
    arrays = {
        "ones.npy": np.ones((4, 4)),
        "eye3.npy": np.eye(3),
        "nan.npy": np.full((2, 2), np.nan),
        "unnormalised.npy": np.array([1.0, 1.0, 0, 0, 0, 0, 0, 0]),
        "inf_state.npy": np.array([np.inf, 0, 0, 0, 0, 0, 0, 0]),
    }
    for name, array in arrays.items():
        np.save(tmp / name, array)
    texts = {
        "ghz.qasm": GHZ3.to_qasm(),
        "foo_gate.json": json.dumps({"n_qubits": 2, "operations": [{"gate": "foo", "qubits": [0]}]}),
        "out_of_range.json": json.dumps({"n_qubits": 2, "operations": [{"gate": "cx", "qubits": [0, 5]}]}),
        "inf_param.json": '{"n_qubits": 1, "operations": [{"gate": "rx", "qubits": [0], "params": [Infinity]}]}',
        "out_of_range.qasm": 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[2];\n',
        "malformed.qasm": "OPENQASM 2.0;\nqreg q[2];\ncx q[0] q[1];\n",
        "unknown_gate.qasm": "OPENQASM 2.0;\nqreg q[2];\nfrobnicate q[0];\n",
        "nan_param.qasm": "OPENQASM 2.0;\nqreg q[1];\nrx(0/0) q[0];\n",
        "broken_device.yaml": "gates: [rz, sx\nedges: [[0, 1]]\n",
        "circuit.txt": "h 0\n",
        "text_coefficient.json": json.dumps({"terms": {"ZZ": "x"}}),
        "list_coefficient.json": json.dumps({"terms": {"ZZ": [1]}}),
        "text_energy.json": json.dumps({"terms": {"ZZ": 1.0}, "exact_energy": "abc"}),
        "nan_energy.json": '{"terms": {"ZZ": 1.0}, "exact_energy": NaN}',
        "list_hamiltonian.json": "[1, 2]",
    }
    for name, text in texts.items():
        (tmp / name).write_text(text)
    binary = ["binary.qasm", "binary.json", "binary.yaml", "binary.npy"]
    for name in binary:
        (tmp / name).write_bytes(b"\xff\xfe\x00\x81")
    (tmp / "empty.npy").write_bytes(b"")
    return {name: tmp / name for name in [*arrays, *texts, *binary, "empty.npy"]}


CASES = [
    ("non-unitary matrix", ["compile", "{ones.npy}"], "target is not unitary"),
    ("wrongly sized matrix", ["compile", "{eye3.npy}"], "target size 3 is not a power of two"),
    ("NaN in a matrix", ["compile", "{nan.npy}"], "target contains NaN or inf"),
    ("state not normalised", ["evaluate", "{ghz.qasm}", "-t", "state:{unnormalised.npy}"], "not normalised"),
    ("inf in a state", ["evaluate", "{ghz.qasm}", "-t", "state:{inf_state.npy}"], "NaN or inf"),
    ("inf parameter", ["evaluate", "{inf_param.json}", "-t", "state:bell"], "non-finite parameter"),
    ("NaN parameter in QASM", ["draw", "{nan_param.qasm}"], "line 3: cannot evaluate '0/0'"),
    ("unknown gate in JSON", ["draw", "{foo_gate.json}"], "unknown gate 'foo'"),
    ("unknown gate in QASM", ["draw", "{unknown_gate.qasm}"], "line 3: unknown gate 'frobnicate'"),
    ("unknown gate in --gates", ["compile", "cnot", "--gates", "cx,hh"], "unknown gate 'hh'. Did you mean 'h'?"),
    ("qubit out of range (JSON)", ["draw", "{out_of_range.json}"], "qubit index 5 out of range for a 2-qubit circuit"),
    ("qubit out of range (QASM)", ["draw", "{out_of_range.qasm}"], "line 4: qubit index 2 out of range"),
    ("malformed QASM", ["draw", "{malformed.qasm}"], "line 3: malformed qubit argument 'q[0] q[1]'"),
    ("unknown device", ["export", "{ghz.qasm}", "-d", "ibm-lne"], "unknown device 'ibm-lne'. Did you mean 'ibm-line'?"),
    ("malformed device file", ["export", "{ghz.qasm}", "-d", "{broken_device.yaml}"], "is not valid YAML"),
    ("missing file", ["evaluate", "{ghz.qasm}.missing.qasm", "-t", "state:bell"], "does not exist"),
    ("unreadable file", ["draw", "{binary.qasm}"], "cannot read circuit file"),
    ("binary Hamiltonian", ["evaluate", "{ghz.qasm}", "-t", "ground-state:{binary.json}"], "cannot read Hamiltonian"),
    ("binary device file", ["export", "{ghz.qasm}", "-d", "{binary.yaml}"], "cannot read device file"),
    ("binary config", ["search", "--task", "state:bell", "--config", "{binary.yaml}"], "cannot read config"),
    (
        "binary circuit prefix",
        ["generate", "--unitary", "cnot", "--prefix", "{binary.json}"],
        "cannot read circuit file",
    ),
    (
        "text coefficient",
        ["evaluate", "{ghz.qasm}", "-t", "ground-state:{text_coefficient.json}"],
        "coefficient of ZZ must be a finite real number, got 'x'",
    ),
    (
        "list coefficient",
        ["evaluate", "{ghz.qasm}", "-t", "ground-state:{list_coefficient.json}"],
        "coefficient of ZZ must be a finite real number, got [1]",
    ),
    (
        "text exact energy",
        ["evaluate", "{ghz.qasm}", "-t", "ground-state:{text_energy.json}"],
        "exact_energy in ",
    ),
    (
        "NaN exact energy",
        ["evaluate", "{ghz.qasm}", "-t", "ground-state:{nan_energy.json}"],
        "a finite number, got nan",
    ),
    (
        "Hamiltonian not a mapping",
        ["evaluate", "{ghz.qasm}", "-t", "ground-state:{list_hamiltonian.json}"],
        "must map Pauli strings to coefficients, got a JSON list",
    ),
    ("unsupported file type", ["draw", "{circuit.txt}"], "use a .qasm (OpenQASM 2/3) or .json (qas) file"),
    ("missing target file", ["compile", "nowhere.npy"], "target file nowhere.npy does not exist"),
    ("not a .npy file", ["compile", "{binary.npy}"], "binary.npy: not a .npy file (no NumPy header)"),
    ("empty target file", ["compile", "{empty.npy}"], "empty.npy: No data left in file"),  # was a silent exit 130
    ("unknown target", ["compile", "tofoli"], "tofoli"),
    ("malformed task", ["evaluate", "{ghz.qasm}", "-t", "ghz3"], "must look like KIND:TARGET"),
    ("qubit count mismatch", ["evaluate", "{ghz.qasm}", "-t", "state:bell"], "qubit"),
    ("unknown export format", ["export", "{ghz.qasm}", "-d", "ibm-line", "-f", "pdf"], "unknown format 'pdf'"),
    ("bad noise", ["evaluate", "{ghz.qasm}", "-t", "state:ghz3", "--noise", "loud:0.1"], "bad noise item 'loud:0.1'"),
    ("unknown compile method", ["compile", "cnot", "--method", "magic"], "unknown compile method 'magic'"),
    ("negative seed", ["generate", "--unitary", "cnot", "--seed", "-1"], "seed must be an integer in [0, 2**32 - 1]"),
    ("missing option", ["evaluate", "{ghz.qasm}"], "Missing option '--task'"),
    (
        "dataset too large for memory",
        ["dataset", "--gates", "h,cx", "--qubits", "2", "--size", "99999999999999", "--out", "{ghz.qasm}.dataset"],
        "out of memory: Unable to allocate",
    ),
    (
        "output folder missing",
        ["compile", "cnot", "-o", "/nonexistent-dir/c.qasm"],
        "cannot open '/nonexistent-dir/c.qasm': No such file or directory",
    ),
]


@pytest.mark.parametrize(("argv", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cli_gives_one_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    files = {name: str(path) for name, path in _files(tmp_path).items()}
    assert main([re.sub(r"\{([^}]+)\}", lambda m: files[m.group(1)], arg) for arg in argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert message in lines[0] and lines[0].count("cannot read") <= 1  # said once, not wrapped twice
    assert "Traceback" not in captured.err + captured.out


PYTHON_CASES: list[tuple[str, Callable[[], object]]] = [
    ("non-unitary", lambda: qas.compile(np.ones((2, 2)))),
    ("not normalised", lambda: qas.StatePreparation(np.array([1.0, 1.0]))),
    ("NaN", lambda: qas.UnitarySynthesis(np.full((2, 2), np.nan))),
    ("unknown gate", lambda: op("foo", 0)),
    ("qubit out of range", lambda: Circuit(2, (op("cx", 0, 2),))),
    ("malformed QASM", lambda: Circuit.from_qasm("OPENQASM 2.0;\nqreg q[1];\nh q[0]")),
    ("unknown device", lambda: qas.to_device(GHZ3, "nowhere")),
    ("unreadable device file", lambda: qas.load_device("/nonexistent/device.yaml")),
    ("tolerance not a number", lambda: qas.compile(np.eye(2), tolerance="x")),
    ("gates not names", lambda: qas.compile(np.eye(2), gates=5)),
    ("generator samples 0 under auto", lambda: qas.compile("toffoli", samples=0)),  # fell back to exact, silently
    ("generator weights missing under auto", lambda: qas.compile("toffoli", weights="/nonexistent")),
    ("NaN min_energy", lambda: gym.make("qas/GroundState-v0", min_energy=float("nan"))),
    ("threshold not a number", lambda: gym.make("qas/StatePreparation-v0", threshold="x")),
]


@pytest.mark.parametrize("call", [c[1] for c in PYTHON_CASES], ids=[c[0] for c in PYTHON_CASES])
def test_python_raises_a_qas_error_that_is_a_value_error(call: Callable[[], object]) -> None:
    with pytest.raises(QasError) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert str(info.value)


@pytest.mark.parametrize(
    ("raised", "message"),
    [
        (MemoryError(), "error: out of memory (the request is too large)"),  # e.g. qas search --layers 10**14
        (
            RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: you tried to "
                         "allocate 4000000000000000 bytes. Error code 12 (Cannot allocate memory)"),
            "error: out of memory: you tried to allocate 4000000000000000 bytes",
        ),
    ],
)  # fmt: skip
def test_running_out_of_memory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, raised: Exception, message: str
) -> None:
    """torch's CPU allocator fails with a RuntimeError, and a MemoryError may carry no message: both are one line."""

    def allocate(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr("qas.cli.evaluate_circuit", allocate)
    (tmp_path / "ghz.qasm").write_text(GHZ3.to_qasm())
    assert main(["evaluate", str(tmp_path / "ghz.qasm"), "-t", "state:ghz3"]) == 2
    assert capsys.readouterr().err.strip().startswith(message)


def test_other_runtime_errors_are_not_hidden_as_out_of_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("qas.cli.evaluate_circuit", broken)
    (tmp_path / "ghz.qasm").write_text(GHZ3.to_qasm())
    with pytest.raises(RuntimeError, match="a bug"):
        main(["evaluate", str(tmp_path / "ghz.qasm"), "-t", "state:ghz3"])
