"""CLI commands of the diffusion generator: ``qas dataset``, ``qas train-generator``, ``qas generate``.

Registered on the core's Typer app through the ``qas.cli`` entry point. Heavy imports (torch, the model) happen
inside the commands so that ``qas --help`` stays fast. Bad input raises :class:`~qas.errors.QasError`, which the core
prints as one line with exit code 2; ``generate`` exits with 1 when no circuit reaches the tolerance.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from qas.circuit import load_circuit
from qas.cli import print_json
from qas.errors import ConfigError, QasError


def _gates(text: str | None) -> list[str] | None:
    from qas.gate_sets import get_gate_set

    return None if text is None else list(get_gate_set(text).gate_names)


def _coupling(text: str | None) -> list[tuple[int, int]] | None:
    """``0-1,1-2`` -> [(0, 1), (1, 2)]."""
    if text is None:
        return None
    pairs = []
    for item in text.split(","):
        a, sep, b = item.strip().partition("-")
        if not sep or not a.isdigit() or not b.isdigit():
            raise ConfigError(f"coupling pair {item!r} must look like 0-1 (a comma-separated list of qubit pairs)")
        pairs.append((int(a), int(b)))
    return pairs


def dataset(
    out: Annotated[Path | None, typer.Option(help="Output folder (default: runs/dataset/<gates>_<n>/).")] = None,
    gates: Annotated[str, typer.Option(help="Gate-set preset or comma-separated gates.")] = "genqc-clifford",
    qubits: Annotated[int, typer.Option(help="Qubit count of the circuits.")] = 3,
    min_gates: Annotated[int, typer.Option(help="Fewest gates per circuit.")] = 1,
    max_gates: Annotated[int, typer.Option(help="Most gates per circuit (also the model's step count).")] = 12,
    size: Annotated[int, typer.Option(help="Circuits drawn before de-duplication and balancing.")] = 100_000,
    shard_size: Annotated[int, typer.Option(help="Circuits per shard file.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Random seed (the dataset is a function of its settings).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Generate training data: random circuits, their unitaries, de-duplicated and balanced by length, in shards."""
    from qas.runs import new_run_dir

    from .dataset import DatasetConfig, generate

    config = DatasetConfig(
        gates=tuple(_gates(gates)), n_qubits=qubits, min_gates=min_gates, max_gates=max_gates, size=size,
        shard_size=shard_size, seed=seed,
    )  # fmt: skip
    folder = out if out is not None else new_run_dir("dataset", f"{gates}-{qubits}q")
    summary = generate(config, folder)
    if as_json:
        print_json({"path": str(folder), **summary})
    else:
        typer.echo(f"{summary['circuits']:,} circuits ({summary['distinct']:,} distinct of {size:,} drawn) in {folder}")


def train_generator(
    dataset: Annotated[Path | None, typer.Option(help="Dataset folder made by `qas dataset`.")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML file of training settings.")] = None,
    resume: Annotated[Path | None, typer.Option(help="Run folder to resume (its config.yaml is reused).")] = None,
    device: Annotated[str | None, typer.Option(help="Torch device: cpu or cuda.")] = None,
    steps: Annotated[int | None, typer.Option(help="Total optimiser steps.")] = None,
    max_minutes: Annotated[float | None, typer.Option(help="Stop with a checkpoint after this many minutes.")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a setting: key=value (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train the diffusion model on a dataset; checkpoints (safetensors) go to runs/generator/<name>_<n>/."""
    from qas.runs import apply_overrides, new_run_dir

    from .train import load_train_config, train

    if resume is not None:
        if not (resume / "config.yaml").is_file():
            raise ConfigError(f"{resume} is not a generator run folder (no config.yaml)")
        config = resume / "config.yaml"
    explicit = {"dataset": str(dataset) if dataset else None, "device": device, "steps": steps}
    settings = load_train_config(config, {**explicit, "max_minutes": max_minutes})
    settings = type(settings).from_dict(apply_overrides(asdict(settings), set_ or []))
    run_dir = resume if resume is not None else new_run_dir("generator", Path(settings.dataset).name)
    try:
        result = train(settings, run_dir, log=(lambda _: None) if as_json else typer.echo)
    except QasError:  # refused before anything was written (a dataset smaller than a batch): leave no empty folder
        if resume is None and not any(run_dir.iterdir()):
            run_dir.rmdir()
        raise
    if as_json:
        print_json(result)
    else:
        typer.echo(f"weights: {run_dir}/model.safetensors (step {result['step']})")


def generate(
    unitary: Annotated[str, typer.Option(help="Target: a named unitary (toffoli, qft3, ...), a .npy or circuit file.")],
    gates: Annotated[str | None, typer.Option(help="Allowed gates (a subset of the model's), comma-separated.")] = None,
    samples: Annotated[int, typer.Option(help="Circuits to sample.")] = 64,
    top: Annotated[int, typer.Option(help="Circuits to print.")] = 5,
    weights: Annotated[
        str | None, typer.Option(help="Shipped weights name or a checkpoint folder (default: by gates).")
    ] = None,
    coupling: Annotated[str | None, typer.Option(help="Allowed qubit pairs, e.g. 0-1,1-2 (default: all).")] = None,
    prefix: Annotated[Path | None, typer.Option(help="Circuit file (.qasm, .json) whose gates come first.")] = None,
    guidance: Annotated[float, typer.Option(help="Classifier-free guidance scale (1 = off).")] = 1.0,
    tolerance: Annotated[float, typer.Option(help="Infidelity counted as a success.")] = 1e-3,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    device: Annotated[str, typer.Option(help="Torch device: cpu or cuda.")] = "cpu",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Sample circuits for a target unitary, refine their angles, and print the best with their infidelity."""
    from qas.compile import resolve_unitary

    from .compiler import choose_generators
    from .pipeline import load_generator

    if top < 1:
        raise ConfigError(f"--top must be at least 1, got {top}")
    target = resolve_unitary(unitary)
    allowed = _gates(gates)
    n_qubits = target.shape[0].bit_length() - 1
    if weights is not None:
        generator, restriction = load_generator(weights, device), allowed
    else:
        generator, restriction = choose_generators(tuple(allowed) if allowed else None, n_qubits, None, device)[0]
        if allowed and restriction is None:
            raise QasError(f"no shipped weights cover the gates {allowed}; pass --weights")
    fixed = {}
    if prefix is not None:
        fixed = dict(enumerate(load_circuit(prefix).operations))
    result = generator.generate(
        target, samples=samples, gates=restriction, coupling=_coupling(coupling), fixed=fixed, guidance=guidance,
        tolerance=tolerance, seed=seed,
    )  # fmt: skip
    best = result.candidates[:top]
    if as_json:
        print_json(
            {
                "best_fidelity": 1.0 - result.best.infidelity,
                "best_infidelity": result.best.infidelity,
                "circuit": result.best.circuit.to_qasm("3.0"),
                **result.best.circuit.metrics(),
                "weights": result.weights,
                "samples": samples,
                "seconds": round(result.seconds, 3),
                "circuits": [
                    {
                        "infidelity": c.infidelity,
                        "sampled_infidelity": c.sampled_infidelity,
                        **c.circuit.metrics(),
                        "circuit": c.circuit.to_qasm("3.0"),
                    }
                    for c in best
                ],
            }
        )
    else:
        typer.echo(f"{samples} samples from {result.weights} in {result.seconds:.2f} s; best {len(best)}:")
        typer.echo(f"{'#':>2}  {'infidelity':>10}  {'sampled':>8}  {'gates':>5}  {'cx':>3}  {'2q':>3}  {'depth':>5}")
        for i, c in enumerate(best):
            m = c.circuit.metrics()
            typer.echo(
                f"{i:>2}  {c.infidelity:>10.2e}  {c.sampled_infidelity:>8.2e}  {m['gate_count']:>5}  "
                f"{m['cnot_count']:>3}  {m['two_qubit_count']:>3}  {m['depth']:>5}"
            )
        typer.echo(str(result.best.circuit))
    if result.best.infidelity > tolerance:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the diffusion generator's commands to the ``qas`` app."""
    app.command("dataset")(dataset)
    app.command("train-generator")(train_generator)
    app.command("generate")(generate)
