"""Run folders for DiffQAS on learning tasks, whose circuits read input features: ``classify:moons`` and ``rl:ENV_ID``.

``qas search --method diffqas --task classify:moons`` searches a two-moons classifier (:mod:`.classify`);
``--task rl:CartPole-v1`` searches a policy circuit under A3C (:mod:`.policy_search`) and then trains the chosen
architecture for the full budget. Both write ``runs/diffqas/<task>_<n>/`` like the circuit tasks:

- ``config.yaml`` (task and settings) and ``space.yaml`` (the search space, fully explicit);
- ``progress.csv`` (classifier: loss and structure probabilities per epoch; RL: one row per greedy evaluation of
  each stage, with the supernet's structure probabilities), ``structure_weights_p<k>.png``;
- ``derived_space.yaml`` (the chosen architecture as a one-candidate space: ``SearchSpace.load`` rebuilds it) and
  ``model.pt`` (the trained model's weights), so the classifier or policy can be loaded and used again;
- ``result.json``; RL runs also ``supernet.pt``, ``validation.json``, ``final_trainings.pt`` (each final training)
  and ``learning_curve.png``.

An RL search is long, so it resumes by stage: a finished supernet, every finished validation and every finished final
training (a stuck one is restarted, :func:`.a3c.train_with_restarts`) are kept, and ``--resume`` continues with the
next one (each stage is deterministic per seed with one A3C worker).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch

from qas.errors import ConfigError, UnknownTargetError
from qas.generators.diffqas.a3c import A3CConfig, A3CResult, train_with_restarts
from qas.generators.diffqas.classify import ClassifierConfig, make_moons, search_classifier
from qas.generators.diffqas.policy_search import (
    PolicySearchConfig,
    ValidatedArchitecture,
    best_of,
    ranked_architectures,
    train_supernet,
    validate,
)
from qas.generators.diffqas.run import plot_structure_weights, structure_row
from qas.generators.diffqas.space import SearchSpace
from qas.runs import MetricsLog, atomic_write, load_saved, new_run_dir, reading, save_line_plot, write_json, write_yaml

logger = logging.getLogger(__name__)

LEARNING_KINDS = ("classify", "rl")
DATASETS = ("moons",)


@dataclass(frozen=True)
class LearningRun:
    """What the CLI reports: the chosen architecture, the figure of merit and whether it meets the goal."""

    run_dir: Path
    task: str
    architecture: tuple[str, ...]
    metrics: dict[str, float]  # e.g. test_accuracy, or score (mean greedy return) and validation scores
    goal_met: bool


def is_learning_task(task: str) -> bool:
    return task.partition(":")[0].strip().lower() in LEARNING_KINDS


def run_learning_search(
    task: str,
    settings: dict[str, Any],
    *,
    layers: int | None = None,
    candidates: str | Path | None = None,
    runs_root: str | Path = "runs",
) -> LearningRun:
    """Start a classifier or policy search for ``task`` (``classify:moons``, ``rl:ENV_ID``) in a new run folder."""
    kind, target = _split(task)
    config = _configs(kind, settings)  # checked before a folder is made
    space = _space(kind, target, layers, candidates)
    run_dir = new_run_dir("diffqas", task, runs_root)
    write_yaml(run_dir / "config.yaml", {"method": "diffqas", "task": task, "settings": _flat(config)})
    write_yaml(run_dir / "space.yaml", space.to_dict())
    return _run(kind, target, task, config, space, run_dir)


def resume_learning_search(run_dir: Path, saved: dict[str, Any]) -> LearningRun:
    """Continue a classifier or policy search from its folder (``saved`` is its config.yaml)."""
    kind, target = _split(saved["task"])
    config = _configs(kind, saved.get("settings", {}))
    space = SearchSpace.load(run_dir / "space.yaml")
    return _run(kind, target, saved["task"], config, space, run_dir)


def _split(task: str) -> tuple[str, str]:
    kind, _, target = task.partition(":")
    kind, target = kind.strip().lower(), target.strip()
    if kind == "classify" and target not in DATASETS:
        raise UnknownTargetError(f"unknown data set {target!r} in {task!r}; available: {', '.join(DATASETS)}")
    if kind == "rl" and not target:
        raise UnknownTargetError(f"task {task!r} needs a Gymnasium environment id, e.g. rl:CartPole-v1")
    return kind, target


def _configs(kind: str, settings: dict[str, Any]) -> Any:
    return ClassifierConfig.from_dict(settings) if kind == "classify" else PolicySearchConfig.split(settings)


def _flat(config: Any) -> dict[str, Any]:
    return asdict(config) if isinstance(config, ClassifierConfig) else config[0].to_dict(config[1])


def _space(kind: str, target: str, layers: int | None, candidates: str | Path | None) -> SearchSpace:
    """The candidates file, or alternating encoding / variational / entangling positions (2 layers by default)."""
    features = 2 if kind == "classify" else _observation_size(target)
    space = (
        SearchSpace.load(candidates, layers=layers)
        if candidates
        else SearchSpace.layered(features, 2 if layers is None else layers, encoding=True)
    )
    if space.num_inputs != features:
        raise ConfigError(
            f"{kind}:{target} has {features} input features but the search space encodes {space.num_inputs}"
        )
    return space


def _observation_size(env_id: str) -> int:
    try:
        env = gym.make(env_id)
    except gym.error.Error as err:
        raise UnknownTargetError(f"cannot make Gymnasium environment {env_id!r}: {err}") from None
    obs, act = env.observation_space, env.action_space
    env.close()
    if not isinstance(obs, gym.spaces.Box) or len(obs.shape) != 1 or not isinstance(act, gym.spaces.Discrete):
        raise ConfigError(f"rl:{env_id} needs a flat Box observation and Discrete actions, got {obs} and {act}")
    return obs.shape[0]


def _run(kind: str, target: str, task: str, config: Any, space: SearchSpace, run_dir: Path) -> LearningRun:
    if kind == "classify":
        return _run_classifier(task, config, space, run_dir)
    search, a3c = config
    return _run_policy(task, search, A3CConfig(**{**asdict(a3c), "env_id": target}), space, run_dir)


# ----- classifier ---------------------------------------------------------------------------------------------------


def _run_classifier(task: str, config: ClassifierConfig, space: SearchSpace, run_dir: Path) -> LearningRun:
    """Two moons: ``samples`` training points (seed) and as many test points (seed + 1); seconds, so no stages."""
    x, y = make_moons(config.samples, noise=config.noise, seed=config.seed)
    x_test, y_test = make_moons(config.samples, noise=config.noise, seed=config.seed + 1)
    result = search_classifier(space, x, y, x_test, y_test, config)
    progress = run_dir / "progress.csv"
    progress.unlink(missing_ok=True)  # a resumed classifier search starts over (it is deterministic)
    log = MetricsLog(progress)
    names = space.candidate_names
    for epoch, (loss, probs) in enumerate(zip(result.search_losses, result.probabilities, strict=True), start=1):
        log.append({"epoch": epoch, "train/loss": loss, **structure_row(names, probs)})
    steps = list(range(1, len(result.search_losses) + 1))
    plot_structure_weights(run_dir, names, steps, result.probabilities, "epoch")
    save_line_plot(run_dir / "loss.png", {"supernet": (steps, result.search_losses)}, "epoch", "loss", "search loss")
    _save_model(run_dir, space.fixed(result.choice), result.model)
    metrics = {"train_accuracy": result.train_accuracy, "test_accuracy": result.test_accuracy}
    goal_met = result.test_accuracy >= config.goal_accuracy
    write_json(
        run_dir / "result.json",
        {"architecture": list(result.architecture), "choice": list(result.choice), **metrics, "goal_met": goal_met},
    )
    return LearningRun(run_dir, task, result.architecture, metrics, goal_met)


# ----- reinforcement learning ---------------------------------------------------------------------------------------


def _run_policy(
    task: str, search: PolicySearchConfig, config: A3CConfig, space: SearchSpace, run_dir: Path
) -> LearningRun:
    """Supernet, then each validation, then the final training; a stage whose file exists is not run again."""
    names = space.candidate_names
    log = MetricsLog(run_dir / "progress.csv")
    supernet_file, validation_file = run_dir / "supernet.pt", run_dir / "validation.json"
    if supernet_file.is_file():
        with reading(supernet_file):  # a foreign torch file loads, then lacks the key
            ranked = load_saved(supernet_file)["ranked"]
    else:
        logger.info("supernet over %d architectures: %d A3C steps", space.size, search.search_steps)
        supernet = train_supernet(space, config, search.search_steps)
        ranked = ranked_architectures(supernet.model, search.top_k, search.tied)
        state = {"model": supernet.model.state_dict(), "ranked": ranked, "score": supernet.score}
        atomic_write(supernet_file, lambda p: torch.save(state, p))
        _log_evaluations(log, "supernet", supernet, names)
        steps = [e.step for e in supernet.evaluations]
        plot_structure_weights(run_dir, names, steps, [e.probabilities for e in supernet.evaluations], "step")
    done = [ValidatedArchitecture.from_dict(v) for v in _read_json_list(validation_file)]
    logger.info(
        "validating %d architectures, the best %d on %d seeds%s, %d steps each",
        len(ranked),
        search.finalists,
        search.validation_seeds,
        f" (ties for the best on up to {search.tie_validation_seeds})" if search.tie_break_rounds else "",
        search.validation_steps,
    )
    validated = validate(
        space, config, search, ranked, done, lambda v: write_json(validation_file, [c.to_dict() for c in v])
    )
    chosen = best_of(validated)
    fixed = space.fixed(chosen.choice)
    logger.info(
        "final training of %s: %d steps (up to %d restarts while stuck)",
        " ".join(chosen.architecture),
        config.total_steps,
        search.final_restarts,
    )
    # Each final training (a restart follows a stuck one) is kept as it ends, so a resumed run goes on from there.
    trainings_file = run_dir / "final_trainings.pt"
    trainings: list[A3CResult] = []
    if trainings_file.is_file():
        with reading(trainings_file):
            trainings = load_saved(trainings_file)
            if not (isinstance(trainings, list) and all(isinstance(t, A3CResult) for t in trainings)):
                raise TypeError("not a list of A3C trainings")

    def save_training(training: A3CResult) -> None:
        trainings.append(training)
        atomic_write(trainings_file, lambda p: torch.save(trainings, p))
        stage = "final" if len(trainings) == 1 else f"final restart {len(trainings) - 1}"
        _log_evaluations(log, stage, training, names)

    final = train_with_restarts(fixed, config, search.final_restarts, list(trainings), save_training)
    curve = {
        f"seed {t.config.seed}": ([e.step for e in t.evaluations], [e.mean_return for e in t.evaluations])
        for t in trainings
    }
    save_line_plot(run_dir / "learning_curve.png", curve, "environment steps", "mean greedy return", config.env_id)
    _save_model(run_dir, fixed, final.model)
    threshold = gym.spec(config.env_id).reward_threshold
    goal_met = threshold is not None and final.score >= threshold
    metrics = {
        "score": final.score,  # the saved (kept) policy on the score episodes
        "kept_step": final.kept.step,
        "kept_return": final.kept.mean_return,  # the evaluation that chose it
        "final_return": final.eval_return,  # the last evaluation, whether kept or not
        "final_seed": final.config.seed,  # config.seed, or a restart's if the first trainings were stuck
        "final_trainings": len(trainings),
        "wall_time": sum(t.wall_time for t in trainings),  # of the final trainings, restarts included
    }
    write_json(
        run_dir / "result.json",
        {
            "architecture": list(chosen.architecture),
            "choice": list(chosen.choice),
            **metrics,
            "reward_threshold": threshold,
            "goal_met": goal_met,
            "validation": [v.to_dict() for v in validated],
        },
    )
    return LearningRun(run_dir, task, chosen.architecture, metrics, goal_met)


def _log_evaluations(log: MetricsLog, stage: str, result: A3CResult, names: list[list[str]]) -> None:
    for e in result.evaluations:
        row = {"stage": stage, "step": e.step, "eval/mean_return": e.mean_return}
        log.append(row | (structure_row(names, e.probabilities) if stage == "supernet" else {}))


def _read_json_list(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    with reading(path):
        return json.loads(path.read_text())


# ----- shared ---------------------------------------------------------------------------------------------------------


def _save_model(run_dir: Path, fixed: SearchSpace, model: torch.nn.Module) -> None:
    write_yaml(run_dir / "derived_space.yaml", fixed.to_dict())
    atomic_write(run_dir / "model.pt", lambda p: torch.save(model.state_dict(), p))
