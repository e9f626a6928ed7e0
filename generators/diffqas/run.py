"""A DiffQAS search as a run folder: what ``qas search --method diffqas`` does, callable from Python too.

``runs/diffqas/<task>_<n>/`` holds (all written atomically, so an interrupted run resumes from its last checkpoint):

- ``config.yaml``: the resolved settings (task, DiffQAS config); ``space.yaml``: the search space, fully explicit;
- ``progress.csv``: per epoch the supernet loss and every structure probability (``structure/p<k>/<candidate>``);
- ``checkpoint.pt``: supernet weights, optimiser moments, epoch, history and random state;
- ``structure_weights_p<k>.png`` (the probabilities at position k over training) and ``loss.png``;
- ``best_circuit.{json,qasm,svg}`` (the derived circuit and its score) and ``result.json``.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from qas.errors import ConfigError, InputFileError
from qas.generators.diffqas.search import DiffQAS, DiffQASConfig, DiffQASResult
from qas.generators.diffqas.space import SearchSpace
from qas.runs import (
    MetricsLog,
    atomic_write,
    load_config,
    load_saved,
    new_run_dir,
    reading,
    save_circuit_artifacts,
    save_line_plot,
    write_json,
    write_yaml,
)
from qas.tasks import GroundState, Task

logger = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class SearchRun:
    """A finished search: its result and the folder it was written to."""

    result: DiffQASResult
    run_dir: Path


def default_space(task: Task, layers: int | None) -> SearchSpace:
    """The search space used when no candidates file is given.

    State and unitary tasks get the DQAS pool (rx, ry, rz on each qubit and every CNOT; 3 layers by default, as in
    Zhang et al.); ground states get alternating variational and entangling positions (3 layers by default).
    """
    layers = 3 if layers is None else layers
    if isinstance(task, GroundState):
        return SearchSpace.layered(task.n_qubits, layers)
    return SearchSpace.dqas(task.n_qubits, layers)


def run_search(
    task_text: str,
    *,
    config: DiffQASConfig,
    layers: int | None = None,
    candidates: str | Path | None = None,
    runs_root: str | Path = "runs",
) -> SearchRun:
    """Start a new search for ``task_text`` (the CLI task syntax, e.g. ``state:bell``) in a new run folder."""
    from qas.targets import parse_task

    task = parse_task(task_text)
    space = SearchSpace.load(candidates, layers=layers) if candidates else default_space(task, layers)
    run_dir = new_run_dir("diffqas", task_text, runs_root)
    write_yaml(run_dir / "config.yaml", {"method": "diffqas", "task": task_text, "diffqas": asdict(config)})
    write_yaml(run_dir / "space.yaml", space.to_dict())
    return _run(DiffQAS(space, task, config), run_dir)


def resume_search(run_dir: str | Path) -> SearchRun:
    """Continue an interrupted search from its folder's last checkpoint (or from scratch if it has none)."""
    from qas.targets import parse_task

    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file() or not (run_dir / "space.yaml").is_file():
        raise InputFileError(f"{run_dir} is not a DiffQAS run folder (config.yaml and space.yaml are missing)")
    saved = load_config(run_dir / "config.yaml")
    if saved.get("method") != "diffqas" or "task" not in saved:
        raise ConfigError(f"{run_dir}/config.yaml does not describe a DiffQAS search")
    search = DiffQAS(
        SearchSpace.load(run_dir / "space.yaml"),
        parse_task(saved["task"]),
        DiffQASConfig.from_dict(saved.get("diffqas", {})),
    )
    checkpoint = run_dir / CHECKPOINT
    if checkpoint.is_file():
        with reading(checkpoint):  # a foreign torch file loads, then lacks the keys
            search.load_state_dict(load_saved(checkpoint))
        logger.info("resuming %s at epoch %d", run_dir, search.epoch)
    _truncate_progress(run_dir / "progress.csv", search.epoch)
    return _run(search, run_dir)


def _run(search: DiffQAS, run_dir: Path, checkpoint_every: int = 25) -> SearchRun:
    metrics = MetricsLog(run_dir / "progress.csv")
    names = search.space.candidate_names

    def on_epoch(s: DiffQAS) -> None:
        metrics.append(
            {"epoch": s.epoch, "train/loss": s.history.losses[-1], **structure_row(names, s.history.probabilities[-1])}
        )
        if s.epoch % checkpoint_every == 0 or s.epoch == s.config.epochs:
            save_checkpoint(s, run_dir)

    result = search.fit(callback=on_epoch)
    save_checkpoint(search, run_dir)
    _plot(search, run_dir, names)
    save_circuit_artifacts(run_dir, result.circuit, result.score.to_dict())
    write_json(run_dir / "result.json", result.to_dict())
    return SearchRun(result, run_dir)


def save_checkpoint(search: DiffQAS, run_dir: Path) -> None:
    atomic_write(run_dir / CHECKPOINT, lambda p: torch.save(search.state_dict(), p))


def _truncate_progress(path: Path, epoch: int) -> None:
    """Drop progress rows written after the checkpoint being resumed from (those epochs run again)."""
    rows = MetricsLog(path).rows()
    kept = [r for r in rows if int(r["epoch"]) <= epoch]
    if len(kept) == len(rows):
        return

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(kept)

    atomic_write(path, write)


def _plot(search: DiffQAS, run_dir: Path, names: list[list[str]]) -> None:
    history = search.history
    epochs = [e + 1 for e in history.epochs]
    plot_structure_weights(run_dir, names, epochs, history.probabilities, "epoch")
    save_line_plot(run_dir / "loss.png", {"supernet": (epochs, history.losses)}, "epoch", "loss", "search loss")


def structure_row(names: list[list[str]], probabilities: list[list[float]]) -> dict[str, float]:
    """A progress row's structure columns: ``structure/p<k>/<candidate>`` -> probability."""
    return {
        f"structure/p{k}/{name}": p
        for k, (cands, probs) in enumerate(zip(names, probabilities, strict=True))
        for name, p in zip(cands, probs, strict=True)
    }


def plot_structure_weights(
    run_dir: Path, names: list[list[str]], xs: list[int], probabilities: list[list[list[float]]], xlabel: str
) -> None:
    """``structure_weights_p<k>.png``: the probability of every candidate at position k over training."""
    for k, cands in enumerate(names):
        if len(cands) > 1:
            series = {name: (xs, [p[k][j] for p in probabilities]) for j, name in enumerate(cands)}
            title = f"structure weights, position {k}"
            save_line_plot(run_dir / f"structure_weights_p{k}.png", series, xlabel, "probability", title)
