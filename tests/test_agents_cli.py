"""``qas train`` / ``qas evaluate-agent`` from the command line, with PPO (MaskablePPO) on Bell."""

from __future__ import annotations

import json

import pytest

from qas import Circuit
from qas.cli import main


def test_qas_train_ppo_json_then_evaluate_agent(tmp_path, capsys) -> None:
    argv = ["train", "--agent", "ppo", "--env-kwargs", "target=bell", "--timesteps", "3000", "--seed", "0"]
    assert main([*argv, "--runs-dir", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["best_fidelity"] == pytest.approx(1.0)
    assert len(Circuit.from_qasm(summary["circuit"])) == 2
    run = tmp_path / "ppo" / "qas-StatePreparation-v0_1"
    assert summary["run_dir"] == str(run) and (run / "best_model.zip").is_file()
    # MaskablePPO's greedy policy builds a 2-gate Bell circuit.
    assert main(["evaluate-agent", str(run), "--json"]) == 0
    score = json.loads(capsys.readouterr().out)
    assert score["fidelity"] == pytest.approx(1.0) and score["metrics"]["gate_count"] == 2
    assert main(["evaluate-agent", str(run), "--model", "best_model.zip", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fidelity"] == pytest.approx(1.0)
    # A model asked for by name that is not there was silently replaced by the final model.
    assert main(["evaluate-agent", str(run), "--model", "best.zip"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("has no model file 'best.zip' (models there: best_model.zip, final_model.zip)")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--agent", "a2c"], "unknown agent 'a2c'"),
        (
            ["train", "--env", "qas/Nope-v0"],
            "unknown Gymnasium environment 'qas/Nope-v0': Environment `Nope` doesn't exist in namespace qas.",
        ),
        (["tune", "--agent", "dqn", "--env", "Nope-v0"], "unknown Gymnasium environment 'Nope-v0'"),
        (["train", "--set", "learning_rat=1e-3"], "unknown setting(s) ['learning_rat']"),
        (["train", "--set", "learning_rate=nan"], "learning_rate must be a finite number, got nan"),
        (["train", "--set", "gamma=2"], "gamma must be in [0, 1], got 2"),
        (["train", "--set", "gamma=abc"], "gamma must be a finite number, got 'abc'"),
        # Each of these was accepted, then trained silently or failed deep in SB3 or torch with a traceback.
        (["train", "--set", "double_q=abc"], "double_q must be true or false, got 'abc'"),
        (["train", "--set", "exploration_final_eps=[1, 2]"], "exploration_final_eps must be a finite number, got [1"),
        (["train", "--set", "batch_size=null"], "batch_size must be a finite number, got None"),
        (["train", "--set", "buffer_size=2.5"], "buffer_size must be an integer, got 2.5"),
        (["train", "--set", "exploration_decay=true"], "exploration_decay must lie in (0, 1], got True"),
        (["train", "--set", "replay_buffer_kwargs=abc"], "replay_buffer_kwargs must be a mapping, got 'abc'"),
        (["train", "--set", "stats_window_size=-1"], "stats_window_size must be positive, got -1"),
        (["train", "--set", "train_freq=0"], "train_freq must be a positive integer or a pair [N, step|episode], got"),
        (["train", "--set", "train_freq=[1, 2]"], "train_freq must be a positive integer or a pair"),
        (["train", "--set", "exploration_fraction=0"], "exploration_fraction must be positive, got 0"),
        (["train", "--set", "exploration_final_eps=-1"], "exploration_final_eps must be in [0, 1], got -1"),
        (["train", "--agent", "ppo", "--set", "ent_coef=-0.1"], "ent_coef must be >= 0, got -0.1"),
        (["train", "--agent", "ppo", "--set", "target_kl=abc"], "target_kl must be a positive number or null, got"),
        (["train", "--set", "device=0"], "device must be a name such as cpu or cuda, got 0"),
        (["train", "--set", "device=abc"], "unknown torch device 'abc'; use cpu or cuda"),
        # SB3's "'str' object is not callable", and "must be a finite number" for nan.
        (["train", "--agent", "ppo", "--set", "rollout_buffer_class=abc"], "rollout_buffer_class takes a Python class"),
        (["train", "--set", "replay_buffer_class=nan"], "replay_buffer_class takes a Python class, which a setting"),
        (
            ["train", "--agent", "kanq", "--set", "policy_kwargs.net_arch=[0]"],
            "KAN grid_size, spline_order and the net_arch widths must be integers >= 1, got 5, 3 and [0]",
        ),
        (["train", "--agent", "ppo", "--set", "batch_size=0"], "batch_size must be positive, got 0"),
        (["train", "--env-kwargs", "target"], "must look like key=value"),
        (["train", "--env-kwargs", "targe=bell"], "unknown env_kwargs ['targe'] for qas/StatePreparation-v0; known: ["),
        (["evaluate-agent", "nowhere"], "is not a run folder"),
        (["train", "--seed", "-1"], "seed must be an integer in [0, 2**32 - 1], got -1"),
        (["tune", "--agent", "dqn", "--seed", "-1"], "seed must be an integer in [0, 2**32 - 1], got -1"),
        (["tune", "--agent", "dqn", "--storage", "postgresql+pg8000://u@127.0.0.1:1/db"], "(missing module 'pg8000')"),
        (["tune", "--agent", "dqn", "--trials", "0"], "trials and n_evaluations must be positive"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(argv, message, capsys, tmp_path) -> None:
    assert main([*argv, "--runs-dir", str(tmp_path)] if argv[0] != "evaluate-agent" else argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_qas_train_resume_continues_a_ppo_run_to_the_new_budget(tmp_path, capsys) -> None:
    argv = ["train", "--agent", "ppo", "--env-kwargs", "target=bell", "--timesteps", "1024", "--runs-dir", tmp_path]
    assert main([*map(str, argv), "--set", "checkpoint_freq=512", "--json"]) == 0
    run = json.loads(capsys.readouterr().out)["run_dir"]
    assert main(["train", "--resume", run, "--timesteps", "2048", "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["run_dir"] == run and resumed["timesteps"] == 2048
    assert resumed["best_fidelity"] == pytest.approx(1.0)


def test_resume_from_a_damaged_checkpoint_is_one_error_naming_the_file(tmp_path, capsys) -> None:
    # Each was a traceback (a zip, pickle or JSON error) or, for an empty pickle, typer's silent abort.
    argv = ["train", "--agent", "dqn", "--env-kwargs", "target=bell", "--timesteps", "300", "--runs-dir", tmp_path]
    assert main([*map(str, argv), "--set", "checkpoint_freq=300", "--set", "learning_starts=100"]) == 0
    checkpoints = tmp_path / "dqn" / "qas-StatePreparation-v0_1" / "checkpoints"
    for name, damage, message in [
        ("last_model.zip", b"", "wasn't a zip-file"),
        ("replay_buffer.pkl", b"", "Ran out of input"),
        ("state.json", b"{", "Expecting property name"),
        ("state.json", b'{"timesteps": 300, "bogus": 1}', "unexpected keyword argument 'bogus'"),
    ]:
        path = checkpoints / name
        intact = path.read_bytes()
        path.write_bytes(damage)
        capsys.readouterr()
        assert main(["train", "--resume", str(checkpoints.parent), "--timesteps", "600"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"error: cannot read saved file {path}: ") and message in err, err
        path.write_bytes(intact)
    assert main(["train", "--resume", str(checkpoints.parent), "--timesteps", "600"]) == 0  # mended, it resumes
