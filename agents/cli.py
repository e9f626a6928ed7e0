"""``qas train``, ``qas tune`` and ``qas evaluate-agent``, added to the ``qas`` CLI by the ``qas.cli`` entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from qas.errors import ConfigError
from qas.runs import parse_value

AgentOption = Annotated[str, typer.Option("--agent", "-a", help="dqn, kanq (KAN-Q), ppr (policy reuse) or ppo.")]
EnvOption = Annotated[str, typer.Option("--env", "-e", help="Gymnasium environment id.")]
EnvKwargsOption = Annotated[
    list[str] | None,
    typer.Option("--env-kwargs", help="Environment argument key=value (repeatable): target=ghz3 preset=kanqas."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the summary.")]
RunsOption = Annotated[Path, typer.Option("--runs-dir", help="Where run folders are created.")]
DEFAULT_ENV = "qas/StatePreparation-v0"


def register(app: typer.Typer) -> None:
    """Add ``train``, ``tune`` and ``evaluate-agent`` to the ``qas`` app."""
    app.command("train")(train_command)
    app.command("tune")(tune_command)
    app.command("evaluate-agent")(evaluate_agent_command)


def parse_env_kwargs(items: list[str] | None) -> dict[str, Any]:
    """``["target=ghz3", "max_gates=12"]`` -> ``{"target": "ghz3", "max_gates": 12}`` (values parsed as YAML)."""
    kwargs: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--env-kwargs {item!r} must look like key=value")
        kwargs[key.strip()] = parse_value(raw, f"--env-kwargs {item!r}")
    return kwargs


def train_command(
    agent: AgentOption = "dqn",
    env: EnvOption = DEFAULT_ENV,
    env_kwargs: EnvKwargsOption = None,
    timesteps: Annotated[int | None, typer.Option(help="Environment steps (default: the agent's YAML).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    n_envs: Annotated[int | None, typer.Option(help="Parallel environments (batched in one kernel).")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML file of agent settings, over the agent's defaults.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a setting: --set learning_rate=3e-4 (repeatable).")
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(help="Continue a run from its last checkpoint (its config; --timesteps and --set still apply)."),
    ] = None,
    runs_dir: RunsOption = Path("runs"),
    as_json: JsonOption = False,
) -> None:
    """Train a search agent, writing runs/<agent>/<env>_<n>/ (config, progress, checkpoints, best circuit, plot).

    Exit code 0 when some episode reached the environment's success threshold, else 1.
    """
    from qas.agents.training import train
    from qas.cli import console, print_json

    result = train(
        agent,
        env,
        env_kwargs=parse_env_kwargs(env_kwargs),
        timesteps=timesteps,
        seed=seed,
        n_envs=n_envs,
        config=config,
        overrides=set_ or [],
        resume=resume,
        root=runs_dir,
        progress_bar=not as_json,
    )
    summary = result.summary()
    if as_json:
        print_json(summary)
    else:
        value = summary.get("best_fidelity", summary.get("best_energy"))
        key = "fidelity" if "best_fidelity" in summary else "energy"
        console.print(f"[bold]run[/]: {result.run_dir}")
        console.print(f"[bold]best {key}[/]: {value}")
        console.print(str(result.best_circuit) if result.best_circuit else "(no circuit)")
    if result.first_success_episode is None:
        raise typer.Exit(1)


def tune_command(
    agent: AgentOption = "dqn",
    env: EnvOption = DEFAULT_ENV,
    env_kwargs: EnvKwargsOption = None,
    trials: Annotated[int, typer.Option(help="Trials this worker runs.")] = 20,
    timesteps: Annotated[int | None, typer.Option(help="Environment steps per trial.")] = None,
    storage: Annotated[
        str | None,
        typer.Option(help="Study storage shared by workers: postgresql://..., sqlite:///runs/tune.db, or FILE.log."),
    ] = None,
    study_name: Annotated[str | None, typer.Option(help="Study name (default <agent>-<env>).")] = None,
    n_evaluations: Annotated[int, typer.Option(help="Pruning checkpoints per trial.")] = 4,
    seed: Annotated[
        int | None, typer.Option(help="Sampler seed (leave unset when several workers share a study).")
    ] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Fixed setting for every trial: key=value.")] = None,
    runs_dir: RunsOption = Path("runs"),
    as_json: JsonOption = False,
) -> None:
    """Tune an agent's hyperparameters with Optuna (TPE + median pruner); workers share a study via --storage."""
    import optuna

    from qas.agents.tune import tune
    from qas.cli import console, print_json

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = tune(
        agent,
        env,
        env_kwargs=parse_env_kwargs(env_kwargs),
        trials=trials,
        timesteps=timesteps,
        storage=storage,
        study_name=study_name,
        n_evaluations=n_evaluations,
        seed=seed,
        overrides=set_ or [],
        root=runs_dir,
    )
    states = [t.state.name.lower() for t in study.trials]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    summary = {
        "study_name": study.study_name,
        "trials": len(study.trials),
        "complete": states.count("complete"),
        "pruned": states.count("pruned"),
        "best_value": study.best_value if complete else None,
        "best_params": study.best_params if complete else None,
    }
    if as_json:
        print_json(summary)
    else:
        for key, value in summary.items():
            console.print(f"[bold]{key}[/]: {value}")
    if not complete:
        raise typer.Exit(1)


def evaluate_agent_command(
    run: Annotated[Path, typer.Argument(help="Run folder written by qas train.")],
    model: Annotated[str, typer.Option(help="Model file in the run folder.")] = "final_model.zip",
    as_json: JsonOption = False,
) -> None:
    """Roll out a trained agent's greedy policy and print the circuit it builds with its evaluator score."""
    from qas.agents.training import evaluate_agent
    from qas.cli import console, print_json

    circuit, score = evaluate_agent(run, model)
    if as_json:
        print_json(score.to_dict() | {"run_dir": str(run)})
        return
    console.print(str(circuit))
    value = f"fidelity {score.fidelity}" if score.fidelity is not None else f"energy {score.energy}"
    console.print(f"{value}; {circuit.metrics()}")
