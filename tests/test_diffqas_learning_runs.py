"""``qas search --method diffqas`` on learning tasks: ``classify:moons`` and ``rl:CartPole-v1`` run folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from qas.cli import main
from qas.generators.diffqas import SearchSpace, a3c, policy_search
from qas.generators.diffqas.a3c import RESTART_OFFSET, greedy_returns, make_policy
from qas.generators.diffqas.classify import accuracy, make_moons
from qas.generators.diffqas.model import VariationalModel
from qas.runs import MetricsLog

torch.set_num_threads(1)

# Tiny A3C budgets (each stage a few hundred environment steps); one worker, so every stage is deterministic.
TINY_RL = [
    *("--set", "search_steps=320", "--set", "top_k=2", "--set", "validation_steps=160"),
    *("--set", "total_steps=320", "--set", "envs_per_worker=4", "--set", "eval_every=160", "--set", "eval_episodes=3"),
    *("--set", "workers=1", "--set", "finalists=1", "--set", "validation_seeds=2"),
]


def _search(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture) -> tuple[int, dict]:
    code = main(["search", *args, "--runs-dir", str(tmp_path), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_classify_task_writes_a_reloadable_classifier(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, out = _search(["--task", "classify:moons", "--epochs", "60", "--set", "samples=120"], tmp_path, capsys)
    assert code == 0 and out["goal_met"] is True and out["test_accuracy"] >= 0.85
    run_dir = Path(out["run_dir"])
    assert run_dir == tmp_path / "diffqas" / "classify-moons_1"
    rows = MetricsLog(run_dir / "progress.csv").rows()
    assert [int(r["epoch"]) for r in rows] == list(range(1, 61))
    assert float(rows[-1]["train/loss"]) < float(rows[0]["train/loss"])
    assert len(list(run_dir.glob("structure_weights_p*.png"))) == 6
    # The saved architecture and weights rebuild the classifier: same accuracy on the same test points.
    fixed = SearchSpace.load(run_dir / "derived_space.yaml")
    assert [c[0].name for c in fixed.positions] == out["architecture"]
    model = VariationalModel(fixed, 1)
    model.load_state_dict(torch.load(run_dir / "model.pt"))
    x_test, y_test = make_moons(120, seed=1)
    assert accuracy(model, x_test, y_test) == pytest.approx(out["test_accuracy"])


def test_rl_task_validates_the_top_architectures_and_trains_the_best(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code, out = _search(["--task", "rl:CartPole-v1", "--seed", "3", *TINY_RL], tmp_path, capsys)
    # 320 steps cannot reach CartPole's reward threshold (475): the goal is missed, exit code 1.
    assert code == 1 and out["goal_met"] is False and 8 <= out["score"] < 475
    run_dir = Path(out["run_dir"])
    result = json.loads((run_dir / "result.json").read_text())
    validation = result["validation"]
    assert len(validation) == 2 and validation[0]["probability"] >= validation[1]["probability"]
    # Both trained once on a validation seed; the better one (the finalist) twice, and it is chosen.
    assert sorted(len(v["scores"]) for v in validation) == [1, 2]
    best = next(v for v in validation if len(v["scores"]) == 2)
    assert best["scores"][0] == max(v["scores"][0] for v in validation)
    assert best["validation_score"] == pytest.approx(sum(best["scores"]) / 2)
    assert out["architecture"] == best["architecture"] == result["architecture"]
    stages = [(r["stage"], int(r["step"])) for r in MetricsLog(run_dir / "progress.csv").rows()]
    finals = [(stage, step) for stage in ("final", "final restart 1", "final restart 2") for step in (160, 320)]
    assert stages == [("supernet", 160), ("supernet", 320), *finals]
    # Every final training was stuck below CartPole's reward threshold: the one with the best kept evaluation is saved.
    trainings = torch.load(run_dir / "final_trainings.pt", weights_only=False)
    assert [t.config.seed for t in trainings] == [3, 3 + RESTART_OFFSET, 3 + 2 * RESTART_OFFSET]
    assert out["final_trainings"] == 3
    best = max(trainings, key=lambda t: t.kept.mean_return)
    assert out["final_seed"] == best.config.seed and out["kept_return"] == best.kept.mean_return
    # The saved policy is the kept one: it plays exactly the returns of the evaluation that chose it (3 episodes from
    # 10000) and its score on the 20 start states after those.
    policy = make_policy(SearchSpace.load(run_dir / "derived_space.yaml"))
    policy.load_state_dict(torch.load(run_dir / "model.pt"))
    assert out["kept_step"] in (160, 320)
    assert sum(greedy_returns(policy, "CartPole-v1", 10_000, 3)) / 3 == pytest.approx(out["kept_return"])
    assert sum(greedy_returns(policy, "CartPole-v1", 10_003, 20)) / 20 == pytest.approx(out["score"])


def test_interrupted_rl_search_resumes_at_the_next_stage(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["--task", "rl:CartPole-v1", "--seed", "1", *TINY_RL]
    calls = {"n": 0}
    original = policy_search.retrain_score

    def stop_in_second_validation(*a: object, **k: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(*a, **k)

    monkeypatch.setattr(policy_search, "retrain_score", stop_in_second_validation)
    assert main(["search", *args, "--runs-dir", str(tmp_path)]) == 130  # Ctrl-C
    run_dir = tmp_path / "diffqas" / "rl-CartPole-v1_1"
    assert (run_dir / "supernet.pt").is_file() and len(json.loads((run_dir / "validation.json").read_text())) == 1
    capsys.readouterr()

    def no_supernet_training(*a: object, **k: object) -> None:
        raise AssertionError("the finished supernet stage ran again")

    monkeypatch.setattr("qas.generators.diffqas.learning_runs.train_supernet", no_supernet_training)
    code, resumed = _search(["--resume", str(run_dir)], tmp_path, capsys)
    monkeypatch.undo()
    _, straight = _search(args, tmp_path, capsys)
    # One A3C worker is deterministic per seed, so the resumed run ends exactly where an uninterrupted one does. It
    # ran only the interrupted training and the finalist's second one.
    assert code == 1 and calls["n"] == 4
    assert resumed["architecture"] == straight["architecture"] and resumed["score"] == straight["score"]


def test_rl_search_interrupted_in_a_final_restart_keeps_the_finished_trainings(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["--task", "rl:CartPole-v1", "--seed", "1", *TINY_RL]
    seeds: list[int] = []
    original = a3c.train_a3c

    def stop_in_first_restart(model: object, config: a3c.A3CConfig) -> object:
        seeds.append(config.seed)
        if seeds == [1, 1 + RESTART_OFFSET]:
            raise KeyboardInterrupt
        return original(model, config)  # type: ignore[arg-type]

    monkeypatch.setattr(a3c, "train_a3c", stop_in_first_restart)
    assert main(["search", *args, "--runs-dir", str(tmp_path)]) == 130
    run_dir = tmp_path / "diffqas" / "rl-CartPole-v1_1"
    assert len(torch.load(run_dir / "final_trainings.pt", weights_only=False)) == 1
    capsys.readouterr()
    seeds.clear()
    code, resumed = _search(["--resume", str(run_dir)], tmp_path, capsys)
    # Only the two restarts ran again (train_a3c here trains nothing else: validations are finished and kept).
    assert code == 1 and seeds == [1 + RESTART_OFFSET, 1 + 2 * RESTART_OFFSET] and resumed["final_trainings"] == 3
    monkeypatch.undo()
    _, straight = _search(args, tmp_path, capsys)
    assert resumed["final_seed"] == straight["final_seed"] and resumed["score"] == straight["score"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "classify:spirals"], "unknown data set 'spirals'"),
        (["--task", "rl:NoSuchEnv-v0"], "cannot make Gymnasium environment 'NoSuchEnv-v0'"),
        (["--task", "rl:Pendulum-v1"], "needs a flat Box observation and Discrete actions"),
        (["--task", "rl:CartPole-v1", "--epochs", "5"], "--epochs do(es) not apply to rl tasks"),
        (["--task", "rl:CartPole-v1", "--set", "topk=2"], "unknown policy-search setting(s) ['topk']"),
        (
            ["--task", "rl:CartPole-v1", "--set", "top_k=0"],
            "top_k must be at least 1, got 0",
        ),
        (["--task", "classify:moons", "--set", "sample=9"], "unknown classifier setting(s) ['sample']"),
        (["--task", "classify:moons", "--layers", "0"], "layers must be a positive integer, got 0"),
        (["--task", "classify:moons", "--set", "lr=-0.1"], "lr and structure_lr must be positive"),
        (["--task", "rl:CartPole-v1", "--set", "gamma=1"], "gamma must be in [0, 1), got 1"),
        (["--task", "rl:CartPole-v1", "--set", "final_restarts=-1"], "final_restarts must be >= 0, got -1"),
        (["--task", "rl:CartPole-v1", "--set", "entropy_coef=inf"], "entropy_coef must be a finite number, got inf"),
        (["--task", "classify:moons", "--layers", "1", "--candidates", "missing.yaml"], "missing.yaml"),
    ],
)
def test_bad_learning_task_input_is_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code = main(["search", *args, "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and len(err.strip().splitlines()) == 1
    assert message in err
    assert not (tmp_path / "diffqas").exists()  # bad settings are caught before a run folder is made


def test_rl_search_prints_its_stages_on_stderr_unless_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["search", "--task", "rl:CartPole-v1", "--seed", "3", *TINY_RL, "--runs-dir", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    stages = [line.split(" ", 1)[1] for line in err.splitlines()]
    assert stages[0] == "supernet over 4096 architectures: 320 A3C steps"
    # Two validation seeds here, so the default tie_validation_seeds (3) leaves room for one tie-break round.
    assert (
        stages[2] == "validating 2 architectures, the best 1 on 2 seeds (ties for the best on up to 3), 160 steps each"
    )
    assert sum(s.startswith("validated ") for s in stages) == 2
    # 320 steps leave the final training stuck, so it is restarted twice (the default).
    final = next(i for i, s in enumerate(stages) if s.startswith("final training of "))
    assert stages[final].endswith(": 320 steps (up to 2 restarts while stuck)")
    restarts = [s for s in stages[final:] if s.startswith("training stuck")]
    assert [s.split(", ")[1] for s in restarts] == ["restart 1 on seed 104732", "restart 2 on seed 209461"]
    assert sum(s.startswith("finalist ") for s in stages) == 1
    assert stages[-1].startswith("A3C: ") and "mean greedy return" in out
    # The handler goes with the command: a --json run (or any later library use) prints nothing on stderr.
    assert main(["search", "--task", "rl:CartPole-v1", "--seed", "3", *TINY_RL, "--runs-dir", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert err == "" and json.loads(out)["architecture"]


@pytest.mark.parametrize(
    ("stage_file", "foreign", "message"),
    [("supernet.pt", {"model": {}}, "no entry 'ranked'"), ("final_trainings.pt", [1.0], "not a list of A3C trainings")],
)
def test_resume_with_a_foreign_stage_file_is_one_error_naming_it(
    stage_file: str, foreign: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["search", "--task", "rl:CartPole-v1", "--seed", "1", *TINY_RL, "--runs-dir", str(tmp_path)]) == 1
    path = tmp_path / "diffqas" / "rl-CartPole-v1_1" / stage_file
    torch.save(foreign, path)  # loads, but is not what the stage saved
    capsys.readouterr()
    assert main(["search", "--resume", str(path.parent)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"error: cannot read saved file {path}: {message}"
