"""Run folders, atomic writes and configuration files for everything that trains or searches.

Layout (rl-zoo3 style): ``runs/<kind>/<name>_<n>/`` where ``name`` is an env id or task with ``/`` and ``:`` made
file-safe and ``n`` counts up. Every file is written to a temporary sibling and renamed into place, so an
interrupted run never leaves a half-written config, checkpoint or circuit behind.
"""

from __future__ import annotations

import csv
import json
import os
import pickle
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from qas.errors import ConfigError, InputFileError, QasError
from qas.files import read_text_file

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """``qas/StatePreparation-v0`` -> ``qas-StatePreparation-v0``; ``state:ghz3`` -> ``state-ghz3``."""
    return _UNSAFE.sub("-", text).strip("-") or "run"


def new_run_dir(kind: str, name: str, root: str | Path = "runs") -> Path:
    """Create and return the next free ``root/kind/name_<n>`` (race-free: ``mkdir`` fails if another process won)."""
    parent = Path(root) / safe_name(kind)
    parent.mkdir(parents=True, exist_ok=True)
    base = safe_name(name)
    pattern = re.compile(rf"^{re.escape(base)}_(\d+)$")
    taken = [int(m.group(1)) for p in parent.iterdir() if (m := pattern.match(p.name))]
    n = max(taken, default=0) + 1
    while True:
        path = parent / f"{base}_{n}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            n += 1


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary sibling of ``path``, then rename it over ``path``.

    ``write`` may be any saver that takes a path (``torch.save``, ``model.save``, ``np.save``...).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        # Some savers (SB3's model.save) append their own suffix; follow them.
        written = tmp if tmp.exists() and tmp.stat().st_size else next(tmp.parent.glob(tmp.name + "*"), tmp)
        with open(written, "rb") as f:
            os.fsync(f.fileno())
        # mkstemp creates 0600 files; give the result the permissions a plain open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(written, 0o666 & ~umask)
        os.replace(written, path)
    finally:
        for leftover in tmp.parent.glob(tmp.name + "*"):
            leftover.unlink(missing_ok=True)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text))


def write_json(path: str | Path, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")


def write_yaml(path: str | Path, data: Any) -> Path:
    return atomic_write_text(path, yaml.safe_dump(data, sort_keys=False))


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML (or JSON) mapping, with one clear error for a missing file or bad syntax."""
    text = read_text_file(path, "config")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"config {path} is not valid YAML: {str(err).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping of keys to values, got {type(data).__name__}")
    return data


@contextmanager
def reading(path: str | Path, also: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Turn a loader's failure inside the block into one :class:`InputFileError` naming ``path``.

    For files a run, a dataset or a trainer saved. Atomic writes never leave one half-written, but a copied, emptied or
    foreign file can still turn up, and each loader fails its own way: EOFError for an empty file (which typer turns
    into a silent abort), UnpicklingError, zip and JSON errors (ValueError), a mapping with missing or unknown keys;
    ``also`` adds a loader's own error types.
    """
    try:
        yield
    except QasError:
        raise
    except (OSError, EOFError, ValueError, RuntimeError, KeyError, TypeError, pickle.UnpicklingError, *also) as err:
        if isinstance(err, KeyError):
            detail = f"no entry {err}"  # str(KeyError) is the bare key
        else:
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputFileError(f"cannot read saved file {path}: {detail}") from None


def load_saved(path: str | Path, **torch_load_kwargs: Any) -> Any:
    """``torch.load`` a file a run saved (a checkpoint, a finished stage); see :func:`reading` for its errors."""
    import torch

    with reading(path):
        return torch.load(path, weights_only=False, **torch_load_kwargs)


def parse_value(raw: str, context: str = "") -> Any:
    """A command-line value as YAML, plus ``1e-3`` as a float (YAML 1.1 reads it as a string)."""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        raise ConfigError(f"{context or raw!r}: cannot parse the value {raw!r}") from None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def apply_overrides(config: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``key=value`` / ``a.b.c=value`` overrides; values are parsed as YAML (``lr=1e-3``, ``arch=[64,64]``)."""
    out = json.loads(json.dumps(config, default=_json_default))
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r} must look like key=value")
        value = parse_value(raw, f"override {item!r}")
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a section")
            node = child
        node[parts[-1]] = value
    return out


class MetricsLog:
    """Append-only CSV of progress rows (``progress.csv``); each row is flushed so a crash loses at most one line.

    Columns are fixed by the first row written (or found in an existing file when a run resumes).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fields: list[str] | None = None
        if self.path.exists() and self.path.stat().st_size:
            with open(self.path, newline="") as f:
                self._fields = next(csv.reader(f), None)

    def append(self, row: dict[str, Any]) -> None:
        new_file = self._fields is None
        if self._fields is None:
            self._fields = list(row)
        with open(self.path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self._fields, extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow(row)
            f.flush()
            os.fsync(f.fileno())

    def rows(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        with open(self.path, newline="") as f:
            return list(csv.DictReader(f))


def save_circuit_artifacts(
    run_dir: str | Path, circuit: Any, score: dict[str, Any], stem: str = "best_circuit"
) -> None:
    """Write ``<stem>.json`` (circuit + score), ``<stem>.qasm`` (OpenQASM 3) and ``<stem>.svg`` into ``run_dir``."""
    from qas.draw import to_svg

    run_dir = Path(run_dir)
    write_json(run_dir / f"{stem}.json", {"circuit": circuit.to_dict(), "score": score})
    atomic_write_text(run_dir / f"{stem}.qasm", circuit.to_qasm(version="3.0"))
    atomic_write_text(run_dir / f"{stem}.svg", to_svg(circuit))


def save_line_plot(
    path: str | Path, series: dict[str, tuple[list[float], list[float]]], xlabel: str, ylabel: str, title: str = ""
) -> Path:
    """A PNG line plot of named (x, y) series (learning curves, structure weights over training)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for label, (xs, ys) in series.items():
        ax.plot(xs, ys, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(series) > 1:
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        return atomic_write(path, lambda p: fig.savefig(p, format="png"))
    finally:
        plt.close(fig)
