"""The qas command line, driven through ``qas.cli.main`` (and once through the installed console script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qas import Circuit, CompileResult, op
from qas.cli import main
from qas.errors import QasError
from qas.noise import parse_noise

compile_module = sys.modules["qas.compile"]  # the module; qas.compile is the function

GHZ3 = Circuit(3, (op("h", 0), op("cx", 0, 1), op("cx", 1, 2)))


@pytest.fixture
def ghz_file(tmp_path: Path) -> Path:
    path = tmp_path / "ghz.qasm"
    path.write_text(GHZ3.to_qasm("2.0"))
    return path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "--json prints exactly one line"
    return json.loads(out)


def test_evaluate_json_reports_fidelity_metrics_and_qasm3(ghz_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "evaluate", str(ghz_file), "--task", "state:ghz3")
    assert data["fidelity"] == pytest.approx(1.0)
    assert data["cnot_count"] == 2 and data["depth"] == 3
    assert Circuit.from_qasm(data["circuit"]) == GHZ3


def test_evaluate_with_noise_and_device(ghz_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys, "evaluate", str(ghz_file), "-t", "state:ghz3", "--noise", "2q=depolarize:0.05", "-d", "ion-all-to-all"
    )
    assert 0.8 < data["fidelity"] < 0.99
    assert data["fits_device"] is False  # h is not an ion-native gate


def test_evaluate_reads_qas_json_circuits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cx.json"
    path.write_text(Circuit(2, (op("cx", 0, 1),)).to_json())
    assert run_json(capsys, "evaluate", str(path), "-t", "unitary:cnot")["fidelity"] == pytest.approx(1.0)


def test_export_writes_each_format(ghz_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys, "export", str(ghz_file), "--device", "google-grid", "--format", "qasm3", "-o", str(tmp_path / "g.qasm")
    )
    assert data["verified"] is True and data["device"] == "google-grid"
    exported = Circuit.from_qasm((tmp_path / "g.qasm").read_text())
    assert {o.gate for o in exported} <= {"phased_xz", "cz"}
    assert main(["export", str(ghz_file), "-d", "ibm-line", "-f", "qasm2"]) == 0
    assert capsys.readouterr().out.startswith("OPENQASM 2.0;\n// on ibm-line: logical qubit i starts on")
    assert main(["export", str(ghz_file), "-d", "ibm-line", "-f", "cirq-json"]) == 0
    assert '"cirq_type": "Circuit"' in capsys.readouterr().out


def test_export_qiskit_writes_qpy(ghz_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("qiskit")
    from qiskit import qpy

    assert main(["export", str(ghz_file), "-d", "ibm-line", "-f", "qiskit", "-o", str(tmp_path / "c.qpy")]) == 0
    with (tmp_path / "c.qpy").open("rb") as handle:
        (loaded,) = qpy.load(handle)
    assert loaded.count_ops()["cx"] == 2
    assert loaded.metadata == {"device": "ibm-line", "initial_mapping": [0, 1, 2], "final_mapping": [0, 1, 2]}


def test_draw_writes_svg_png_and_prints_text(
    ghz_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["draw", str(ghz_file), "-o", str(tmp_path / "c.svg")]) == 0
    assert "<svg" in (tmp_path / "c.svg").read_text()
    assert main(["draw", str(ghz_file), "-o", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")
    capsys.readouterr()
    assert main(["draw", str(ghz_file)]) == 0
    assert "0: ───H───@" in capsys.readouterr().out


def test_an_eof_error_in_a_command_is_one_error_line_not_a_silent_abort(
    ghz_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # typer turns an EOFError (a file that ends early, in a reader that does not wrap it) into click's Abort.
    def cut_short(path: object) -> Circuit:
        raise EOFError("Ran out of input")

    monkeypatch.setattr("qas.cli.load_circuit", cut_short)
    assert main(["draw", str(ghz_file)]) == 2
    assert capsys.readouterr().err.strip() == "error: input ended early: Ran out of input"


def test_compile_named_and_file_targets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fredkin = run_json(capsys, "compile", "fredkin", "--method", "exact", "--gates", "ibm-native")
    assert fredkin["infidelity"] < 1e-9 and fredkin["method"] == "exact"
    assert {o.gate for o in Circuit.from_qasm(fredkin["circuit"])} <= {"rz", "sx", "x", "cx", "ecr"}
    np.save(tmp_path / "u.npy", np.kron(np.eye(2), [[0, 1], [1, 0]]))
    data = run_json(
        capsys,
        "compile",
        str(tmp_path / "u.npy"),
        "--method",
        "exact",
        "-d",
        "ion-all-to-all",
        "-o",
        str(tmp_path / "u.qasm"),
    )
    assert data["device"]["verified"] is True
    assert Circuit.from_qasm((tmp_path / "u.qasm").read_text()).n_qubits == 8
    # A circuit file is a target too: its unitary, written again in other gates.
    (tmp_path / "f.qasm").write_text(fredkin["circuit"])
    data = run_json(capsys, "compile", str(tmp_path / "f.qasm"), "--method", "exact", "--gates", "google-native")
    assert data["infidelity"] < 1e-9 and data["n_qubits"] == 3
    assert {o.gate for o in Circuit.from_qasm(data["circuit"])} <= {"phased_xz", "cz"}


def test_compile_exits_1_when_the_result_misses_the_tolerance(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def wrong(target: np.ndarray, **_: object) -> CompileResult:
        return CompileResult.from_circuit(Circuit(2, (op("h", 0),)), target, "wrong")

    monkeypatch.setattr(compile_module, "plugins", lambda group: {"wrong": wrong} if group == "qas.compilers" else {})
    assert main(["compile", "cnot", "--method", "wrong", "--json"]) == 1
    # |Tr(CNOT^dagger (H x I))|^2 = 2 of 16.
    assert json.loads(capsys.readouterr().out)["infidelity"] == pytest.approx(1 - 2 / 16)


def test_info_lists_the_registries(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "info")
    assert data["gates"]["cx"] == {"qubits": 2, "params": 0, "description": "CNOT (control, target)"}
    assert "ibm-heavy-hex" in data["devices"] and "kuo" in data["gate_sets"]
    assert data["compile_methods"][:2] == ["auto", "exact"]
    assert isinstance(data["environments"], list) and isinstance(data["cli_plugins"], list)


def test_parse_noise() -> None:
    model = parse_noise("1q=depolarize:0.001,2q=depolarize:0.01,readout=bit_flip:0.02")
    assert model.after_two_qubit.num_qubits == 2 and model.before_measurement.name == "bit_flip(0.02)"
    shorthand = parse_noise("bit_flip:0.1")
    assert shorthand.after_one_qubit.name == shorthand.after_two_qubit.name == "bit_flip(0.1)"
    with pytest.raises(QasError, match=r"bad noise item 'depolarise:0\.1'"):
        parse_noise("depolarise:0.1")
    with pytest.raises(QasError, match="probability must be in"):
        parse_noise("depolarize:1.5")


def test_demo_runs_end_to_end_through_the_console_script() -> None:
    qas_script = Path(sys.executable).parent / "qas"
    done = subprocess.run(
        [str(qas_script), "demo", "--method", "exact", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["fidelity"] == pytest.approx(1.0) and 0.9 < data["noisy_fidelity"] < 1.0
    assert data["export"]["verified"] is True and data["export"]["device"] == "ibm-heavy-hex"
    assert data["compile"]["infidelity"] < 1e-9 and data["compile"]["device"]["verified"] is True
    assert abs(data["ground_state"]["energy_error"]) < 1e-9 and data["ground_state"]["cnot_count"] == 3


@pytest.mark.parametrize("command", ["info", "evaluate", "export", "draw", "compile", "demo"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"qas {command}" in out
    assert ("--json" in out) == (command != "draw")


def test_top_level_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("info", "evaluate", "export", "draw", "compile", "demo"))


def test_evaluate_ground_state_reports_the_fitted_energy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # H = ZZ + 0.5 XI; the ansatz (ry(t) x I) |01> reaches its ground energy -sqrt(1.25).
    (tmp_path / "h.json").write_text(json.dumps({"terms": {"ZZ": 1.0, "XI": 0.5}}))
    (tmp_path / "ansatz.qasm").write_text("OPENQASM 3.0;\nqubit[2] q;\nx q[1];\nry(0.3) q[0];\n")
    data = run_json(capsys, "evaluate", str(tmp_path / "ansatz.qasm"), "-t", f"ground-state:{tmp_path / 'h.json'}")
    assert data["energy"] == pytest.approx(-(1.25**0.5), abs=1e-6)
    assert data["energy_error"] == pytest.approx(0, abs=1e-6)
    assert "fidelity" not in data
