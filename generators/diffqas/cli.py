"""``qas search --method diffqas``: the DiffQAS command, added to the ``qas`` CLI by the ``qas.cli`` entry point."""

from __future__ import annotations

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
        str | None, typer.Option(help="What to search for: state:bell|ghz3|FILE.npy, unitary:..., ground-state:h2|...")
    ] = None,
    method: Annotated[str, typer.Option(help="Search method (diffqas: differentiable supernet search).")] = "diffqas",
    layers: Annotated[int | None, typer.Option(help="Repeat the search space's layer this many times.")] = None,
    candidates: Annotated[
        Path | None, typer.Option(help="Search-space YAML (positions of candidate operations); default per task.")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Supernet training epochs (default 400).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    update: Annotated[
        str | None, typer.Option(help="joint: one step on structure and circuit weights; alternating: DARTS-style.")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="YAML file of DiffQAS settings (see DiffQASConfig).")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a setting: --set lr=0.03 (repeatable).")
    ] = None,
    resume: Annotated[Path | None, typer.Option(help="Continue an interrupted run from its folder.")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are created.")] = Path("runs"),
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a summary.")] = False,
) -> None:
    """Search for a circuit by differentiable architecture search, writing a run folder.

    Exit code 0 when the derived circuit meets the task's goal (fidelity >= 0.99, or chemical accuracy), else 1.
    """
    from qas.cli import print_json
    from qas.generators.diffqas.run import resume_search, run_search
    from qas.generators.diffqas.search import DiffQASConfig

    if method not in METHODS:
        raise ConfigError(f"unknown search method {method!r}; available: {', '.join(METHODS)}")
    if resume is not None:
        run = resume_search(resume)
    else:
        if task is None:
            raise ConfigError("give --task (e.g. --task state:bell) or --resume RUN_DIR")
        settings: dict[str, Any] = asdict(DiffQASConfig()) | (load_config(config) if config else {})
        explicit = {"epochs": epochs, "seed": seed, "update": update}
        settings |= {k: v for k, v in explicit.items() if v is not None}
        settings = apply_overrides(settings, set_ or [])
        run = run_search(
            task,
            config=DiffQASConfig.from_dict(settings),
            layers=layers,
            candidates=candidates,
            runs_root=runs_dir,
        )
    result, score = run.result, run.result.score
    summary: dict[str, Any] = {"method": method, "task": score.task_name}
    if score.energy is not None:
        summary |= {"best_energy": score.energy, "energy_error": score.energy_error}
    else:
        summary["best_fidelity"] = score.fidelity
    summary |= {
        "goal_met": result.goal_met,
        "architecture": list(result.architecture),
        "search_loss": result.search_loss,
        "derived_loss": result.derived_loss,
        "epochs": len(result.history.epochs),
        "circuit": result.circuit.to_qasm(version="3.0"),
        "metrics": score.metrics,
        "run_dir": str(run.run_dir),
    }
    if json_output:
        print_json(summary)
    else:
        _print_summary(summary, result.circuit)
    if not result.goal_met:
        raise typer.Exit(code=1)


def _print_summary(summary: dict[str, Any], circuit: Any) -> None:
    from rich.console import Console

    console = Console()
    goal = "[green]goal met[/green]" if summary["goal_met"] else "[red]goal not met[/red]"
    value = (
        f"energy {summary['best_energy']:.6f} Ha (error {summary['energy_error']:.2e})"
        if "best_energy" in summary
        else f"fidelity {summary['best_fidelity']:.6f}"
    )
    console.print(f"DiffQAS on {summary['task']}: {value}, {goal}")
    console.print(f"architecture: {' -> '.join(summary['architecture'])}")
    console.print(str(circuit), markup=False, highlight=False)
    console.print(f"metrics: {summary['metrics']}")
    console.print(f"run folder: {summary['run_dir']}")
