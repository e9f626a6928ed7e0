"""``qas search --method diffqas``: run folder, JSON output, exit codes and resume after an interruption."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from qas.cli import main
from qas.generators.diffqas import DiffQAS
from qas.generators.diffqas.run import resume_search, run_search
from qas.generators.diffqas.search import DiffQASConfig
from qas.runs import MetricsLog

torch.set_num_threads(1)


def test_search_writes_a_run_folder_and_prints_one_json_object(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        ["search", "--task", "state:bell", "--epochs", "80", "--seed", "2", "--runs-dir", str(tmp_path), "--json"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["best_fidelity"] > 0.99 and out["goal_met"] is True
    assert out["circuit"].startswith("OPENQASM 3.0;") and "cx q[" in out["circuit"]
    run_dir = Path(out["run_dir"])
    assert run_dir == tmp_path / "diffqas" / "state-bell_1"
    for name in ["config.yaml", "space.yaml", "progress.csv", "checkpoint.pt", "best_circuit.qasm", "result.json"]:
        assert (run_dir / name).is_file(), name
    assert sorted(p.name for p in run_dir.glob("structure_weights_p*.png")) == [
        f"structure_weights_p{k}.png" for k in range(3)
    ]
    rows = MetricsLog(run_dir / "progress.csv").rows()
    assert [int(r["epoch"]) for r in rows] == list(range(1, 81))
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["diffqas"]["seed"] == 2


def test_missed_goal_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # One layer of single gates cannot make a Toffoli.
    code = main(
        ["search", "--task", "unitary:toffoli", "--layers", "1", "--epochs", "3", "--runs-dir", str(tmp_path), "--json"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["goal_met"] is False and out["best_fidelity"] < 0.99


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "state:nosuch"], "nosuch"),
        (["--task", "state:bell", "--method", "dqn"], "unknown search method 'dqn'"),
        (["--task", "state:bell", "--set", "lrr=0.1"], "unknown DiffQAS setting(s) ['lrr']"),
        (["--task", "state:bell", "--candidates", "missing.yaml"], "missing.yaml"),
        (["--task", "state:bell", "--update", "sideways"], "update must be 'joint' or 'alternating'"),
        (["--task", "state:bell", "--layers", "0"], "layers must be a positive integer, got 0"),
        (["--task", "ground-state:h2", "--set", "lr=nan"], "lr must be a finite number, got nan"),
        ([], "give --task"),
        (["--resume", "not-a-run"], "not a DiffQAS run folder"),
        (["--task", "rl:CartPole-v1", "--seed", "-1"], "seed must be an integer in [0, 2**32 - 1], got -1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code = main(["search", *args, "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
    assert message in err


def test_interrupted_search_resumes_from_its_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = DiffQASConfig(epochs=40, seed=3, retrain_restarts=1)
    steps = {"n": 0}
    original = DiffQAS.step

    def crash_at_epoch_33(self: DiffQAS) -> float:
        steps["n"] += 1
        if steps["n"] == 33:
            raise KeyboardInterrupt  # the process is stopped mid-run
        return original(self)

    monkeypatch.setattr(DiffQAS, "step", crash_at_epoch_33)
    with pytest.raises(KeyboardInterrupt):
        run_search("state:bell", config=config, runs_root=tmp_path)
    monkeypatch.setattr(DiffQAS, "step", original)
    run_dir = tmp_path / "diffqas" / "state-bell_1"
    assert len(MetricsLog(run_dir / "progress.csv").rows()) == 32  # rows written after the last checkpoint (25)

    resumed = resume_search(run_dir)
    straight = run_search("state:bell", config=config, runs_root=tmp_path)
    rows = MetricsLog(run_dir / "progress.csv").rows()
    assert [int(r["epoch"]) for r in rows] == list(range(1, 41))
    assert resumed.result.architecture == straight.result.architecture
    assert resumed.result.history.losses == straight.result.history.losses  # bit-for-bit the same search


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Ran out of input"),
        (b"# not a checkpoint\n", "invalid load key"),
        ({"weights": 1}, "no entry 'epoch'"),  # a torch file, but not a search's checkpoint
    ],
)
def test_resume_from_an_emptied_or_foreign_checkpoint_is_one_error_naming_it(
    content: bytes | dict, message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # An empty file made torch raise EOFError, which typer turned into a silent exit 130; a foreign one a traceback.
    assert main(["search", "--task", "state:bell", "--epochs", "2", "--runs-dir", str(tmp_path)]) == 0
    checkpoint = tmp_path / "diffqas" / "state-bell_1" / "checkpoint.pt"
    if isinstance(content, bytes):
        checkpoint.write_bytes(content)
    else:
        torch.save(content, checkpoint)
    capsys.readouterr()
    assert main(["search", "--resume", str(checkpoint.parent)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: cannot read saved file {checkpoint}: ") and message in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("task", "setting", "message"),
    [
        ("state:bell", "simplify=abc", "simplify must be true or false, got 'abc'"),  # was truthy: simplified
        ("state:bell", "final_temperature=0", "final_temperature must be positive"),  # 0 passed as `or 1.0`
        ("state:bell", "final_temperature=true", "final_temperature must be a number, got True"),
        ("state:bell", "goal_fidelity=0", "goal_fidelity must be in (0, 1], got 0"),  # every search succeeded
        ("state:bell", "prune_tolerance=-1", "prune_tolerance and goal_energy_error must be >= 0"),
        ("classify:moons", "goal_accuracy=2", "goal_accuracy must be in [0, 1], got 2"),
        ("rl:CartPole-v1", "top_k=abc", "top_k must be an integer, got 'abc'"),  # was a comparison error
    ],
)
def test_bad_settings_are_named_before_the_search_starts(
    task: str, setting: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["search", "--task", task, "--set", setting, "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
