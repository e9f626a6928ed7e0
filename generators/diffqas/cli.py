"""``qas search --method diffqas``: the DiffQAS command, added to the ``qas`` CLI by the ``qas.cli`` entry point."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from qas.errors import ConfigError
from qas.runs import apply_overrides, load_config

METHODS = ("diffqas",)


def register(app: typer.Typer) -> None:
    """Add ``search`` to the ``qas`` app."""
    app.command("search")(search)


def search(
    task: Annotated[
        str | None,
        typer.Option(
            help="What to search for: state:bell|ghz3|FILE.npy, unitary:..., ground-state:h2|..., classify:moons "
            "(a variational classifier) or rl:CartPole-v1 (a policy circuit trained by A3C)."
        ),
    ] = None,
    method: Annotated[str, typer.Option(help="Search method (diffqas: differentiable supernet search).")] = "diffqas",
    layers: Annotated[int | None, typer.Option(help="Repeat the search space's layer this many times.")] = None,
    candidates: Annotated[
        Path | None, typer.Option(help="Search-space YAML (positions of candidate operations); default per task.")
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Supernet training epochs (default 400; classify: 150; rl: use --set).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    update: Annotated[
        str | None, typer.Option(help="joint: one step on structure and circuit weights; alternating: DARTS-style.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="YAML file of settings (DiffQASConfig; classify: ClassifierConfig; rl: PolicySearchConfig "
            "and A3CConfig keys)."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a setting: --set lr=0.03 (repeatable).")
    ] = None,
    resume: Annotated[Path | None, typer.Option(help="Continue an interrupted run from its folder.")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are created.")] = Path("runs"),
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a summary.")] = False,
) -> None:
    """Search for a circuit by differentiable architecture search, writing a run folder.

    Exit code 0 when the result meets the task's goal (fidelity >= 0.99, chemical accuracy, the classifier's
    goal_accuracy on test points, or the environment's reward threshold), else 1.
    """
    from qas.cli import print_json
    from qas.generators.diffqas.learning_runs import is_learning_task

    if method not in METHODS:
        raise ConfigError(f"unknown search method {method!r}; available: {', '.join(METHODS)}")
    if resume is None and task is None:
        raise ConfigError("give --task (e.g. --task state:bell) or --resume RUN_DIR")
    explicit = {"epochs": epochs, "seed": seed, "update": update}
    with _stages_on_stderr(not json_output):
        if resume is not None:
            summary = _resume(resume)
        elif is_learning_task(task):  # type: ignore[arg-type]
            summary = _learning_search(task, explicit, config, set_ or [], layers, candidates, runs_dir)  # type: ignore[arg-type]
        else:
            summary = _circuit_search(task, explicit, config, set_ or [], layers, candidates, runs_dir)  # type: ignore[arg-type]
    if json_output:
        print_json({"method": method, **summary})
    else:
        _print_summary(summary)
    if not summary["goal_met"]:
        raise typer.Exit(code=1)


@contextlib.contextmanager
def _stages_on_stderr(show: bool) -> Iterator[None]:
    """Print the search's progress lines (its ``logging`` INFO records: each stage and training as it ends) on
    stderr while the command runs; an RL search takes minutes and would otherwise be silent until its summary."""
    if not show:
        yield
        return
    logger = logging.getLogger("qas.generators.diffqas")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _settings(defaults: dict[str, Any], explicit: dict[str, Any], config: Path | None, overrides: list[str]) -> dict:
    """Defaults, then the config file, then the explicit options, then ``--set`` overrides."""
    settings = defaults | (load_config(config) if config else {})
    settings |= {k: v for k, v in explicit.items() if v is not None}
    return apply_overrides(settings, overrides)


def _circuit_search(
    task: str,
    explicit: dict[str, Any],
    config: Path | None,
    overrides: list[str],
    layers: int | None,
    candidates: Path | None,
    runs_dir: Path,
) -> dict[str, Any]:
    from qas.generators.diffqas.run import run_search
    from qas.generators.diffqas.search import DiffQASConfig

    settings = _settings(asdict(DiffQASConfig()), explicit, config, overrides)
    run = run_search(
        task, config=DiffQASConfig.from_dict(settings), layers=layers, candidates=candidates, runs_root=runs_dir
    )
    return _circuit_summary(run)


def _learning_search(
    task: str,
    explicit: dict[str, Any],
    config: Path | None,
    overrides: list[str],
    layers: int | None,
    candidates: Path | None,
    runs_dir: Path,
) -> dict[str, Any]:
    from qas.generators.diffqas.learning_runs import run_learning_search

    if task.partition(":")[0].strip().lower() == "rl":
        given = [f"--{k}" for k in ("epochs", "update") if explicit[k] is not None]
        if given:
            raise ConfigError(
                f"{' and '.join(given)} do(es) not apply to rl tasks (A3C trains structure and weights together); "
                "set the budget with --set total_steps=N search_steps=N validation_steps=N"
            )
    settings = _settings({}, explicit, config, overrides)
    run = run_learning_search(task, settings, layers=layers, candidates=candidates, runs_root=runs_dir)
    return _learning_summary(run)


def _resume(run_dir: Path) -> dict[str, Any]:
    from qas.generators.diffqas.learning_runs import is_learning_task, resume_learning_search
    from qas.generators.diffqas.run import resume_search

    saved = load_config(run_dir / "config.yaml") if (run_dir / "config.yaml").is_file() else {}
    if saved.get("method") == "diffqas" and is_learning_task(str(saved.get("task", ""))):
        return _learning_summary(resume_learning_search(run_dir, saved))
    return _circuit_summary(resume_search(run_dir))


def _circuit_summary(run: Any) -> dict[str, Any]:
    result, score = run.result, run.result.score
    summary: dict[str, Any] = {"task": score.task_name}
    if score.energy is not None:
        summary |= {"best_energy": score.energy, "energy_error": score.energy_error}
    else:
        summary["best_fidelity"] = score.fidelity
    return summary | {
        "goal_met": result.goal_met,
        "architecture": list(result.architecture),
        "search_loss": result.search_loss,
        "derived_loss": result.derived_loss,
        "epochs": len(result.history.epochs),
        "circuit": result.circuit.to_qasm(version="3.0"),
        "metrics": score.metrics,
        "run_dir": str(run.run_dir),
    }


def _learning_summary(run: Any) -> dict[str, Any]:
    return {
        "task": run.task,
        **run.metrics,
        "goal_met": run.goal_met,
        "architecture": list(run.architecture),
        "run_dir": str(run.run_dir),
    }


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console

    console = Console(soft_wrap=True)  # a long summary line stays one line in a log or a narrow terminal
    goal = "[green]goal met[/green]" if summary["goal_met"] else "[red]goal not met[/red]"
    if "best_energy" in summary:
        value = f"energy {summary['best_energy']:.6f} Ha (error {summary['energy_error']:.2e})"
    elif "best_fidelity" in summary:
        value = f"fidelity {summary['best_fidelity']:.6f}"
    elif "test_accuracy" in summary:
        value = f"test accuracy {summary['test_accuracy']:.3f} (train {summary['train_accuracy']:.3f})"
    else:
        value = f"mean greedy return {summary['score']:.1f} (the policy kept at step {summary['kept_step']})"
    console.print(f"DiffQAS on {summary['task']}: {value}, {goal}")
    console.print(f"architecture: {' -> '.join(summary['architecture'])}")
    if "circuit" in summary:
        from qas.circuit import Circuit

        console.print(str(Circuit.from_qasm(summary["circuit"])), markup=False, highlight=False)
        console.print(f"metrics: {summary['metrics']}")
    console.print(f"run folder: {summary['run_dir']}")
