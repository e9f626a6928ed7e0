"""Training data: random circuits over a gate set with their unitaries, de-duplicated, balanced by length, in shards.

The recipe follows genQC's (reference notes, section 7) with three changes:

- circuits are put in canonical order (ASAP layers, each sorted by qubits), so that circuits differing only in the
  order of commuting gates on disjoint qubits become one training target instead of several competing ones;
- unitaries come from the batched placement simulator (:mod:`.placements`) rather than Qiskit, with the global phase
  fixed by :func:`canonical_phase` (the same function conditions the model at sampling time);
- angles are drawn uniformly in [-pi, pi): a rotation's angle matters only modulo 2 pi up to a global phase.

A dataset is a folder of ``shard_<k>.npz`` files (``tokens``: int8 grids of the shared :class:`CircuitEncoding`,
``params``: float32 angles, ``unitaries``: float16 real/imaginary parts) plus ``dataset.json`` (its configuration),
and is fully determined by that configuration, seed included.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from qas.encoding import CircuitEncoding
from qas.errors import ConfigError, InputFileError
from qas.gate_sets import get_gate_set
from qas.runs import atomic_write, reading, write_json
from qas.settings import check_seed

from .placements import PAD, PlacementVocabulary

_SIM_CHUNK = 4096  # circuits simulated per batch: large enough to amortise Python overhead, small in memory


@dataclass(frozen=True)
class DatasetConfig:
    """What ``qas dataset`` generates (every field is written to ``dataset.json``)."""

    gates: tuple[str, ...] = ("h", "cx", "z", "x", "ccx", "swap")
    n_qubits: int = 3
    min_gates: int = 1
    max_gates: int = 12
    size: int = 100_000  # circuits drawn before de-duplication and balancing
    shard_size: int = 50_000
    seed: int = 0

    def __post_init__(self) -> None:
        gates = tuple(get_gate_set(list(self.gates)).gate_names)
        object.__setattr__(self, "gates", gates)
        if not 1 <= self.min_gates <= self.max_gates:
            raise ConfigError(f"need 1 <= min_gates <= max_gates, got {self.min_gates} and {self.max_gates}")
        if not 1 <= self.n_qubits <= 6:
            raise ConfigError(
                f"n_qubits must be between 1 and 6 (the condition is a dense unitary), got {self.n_qubits}"
            )
        if self.size < 1 or self.shard_size < 1:
            raise ConfigError("size and shard_size must be positive")
        check_seed(self.seed)

    def encoding(self) -> CircuitEncoding:
        return CircuitEncoding(self.gates, self.n_qubits, self.max_gates)


def canonical_phase(unitaries: torch.Tensor) -> torch.Tensor:
    """Unitaries ``(B, d, d)`` with the global phase fixed: the first entry (row-major) of near-maximal modulus is real
    and positive. Exact ties are common (Clifford unitaries), hence the tolerance before taking the first."""
    flat = unitaries.reshape(unitaries.shape[0], -1)
    mags = flat.abs()
    first = (mags >= mags.max(dim=1, keepdim=True).values - 1e-4).int().argmax(dim=1)
    pivot = flat.gather(1, first[:, None])
    return unitaries * (pivot.abs() / pivot)[:, :, None]


def random_circuits(
    vocab: PlacementVocabulary, count: int, min_gates: int, max_gates: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random circuits: a length uniform in [min_gates, max_gates], then for each step a gate uniformly from
    the vocabulary and qubits uniformly among its placements; angles uniform in [-pi, pi).

    Returns placements ``(count, max_steps)`` (padded) and angles ``(count, max_steps, max_params)``.
    """
    steps = vocab.max_steps
    lengths = rng.integers(min_gates, max_gates + 1, size=count)
    gate_of = vocab.gate_index[1:]
    n_gates = len(vocab.encoding.gates)
    # For each gate, the placement indices that use it; pick a gate, then one of its placements.
    by_gate = [np.flatnonzero(gate_of == g) + 1 for g in range(n_gates)]
    gates = rng.integers(0, n_gates, size=(count, steps))
    choice = rng.random((count, steps))
    placements = np.zeros((count, steps), dtype=np.int64)
    for g, members in enumerate(by_gate):
        sel = gates == g
        placements[sel] = members[(choice[sel] * len(members)).astype(np.int64)]
    placements[np.arange(steps)[None, :] >= lengths[:, None]] = PAD
    angles = rng.uniform(-np.pi, np.pi, size=(count, steps, max(vocab.max_params, 1)))
    angles *= vocab.num_params[placements][:, :, None] > 0
    return placements, angles[:, :, : vocab.max_params].astype(np.float32)


def canonical_order(vocab: PlacementVocabulary, placements: np.ndarray, angles: np.ndarray) -> None:
    """Reorder each circuit in place into ASAP layers, each sorted by qubits (as :meth:`Circuit.canonical`)."""
    qubits = [()] + [p.qubits for p in vocab.placements]
    for b in range(placements.shape[0]):
        free_at = [0] * vocab.n_qubits
        keys = []
        for t, index in enumerate(placements[b].tolist()):
            if index == PAD:
                break
            layer = max(free_at[q] for q in qubits[index])
            for q in qubits[index]:
                free_at[q] = layer + 1
            keys.append((layer, qubits[index], index, t))
        order = [k[3] for k in sorted(keys)]
        placements[b, : len(order)] = placements[b, order]
        angles[b, : len(order)] = angles[b, order]


def balance_by_length(lengths: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices keeping at most the median bucket size of every length (short lengths have few distinct circuits)."""
    counts = np.bincount(lengths)
    cap = int(np.median(counts[counts > 0]))
    keep = []
    for n in np.flatnonzero(counts):
        members = np.flatnonzero(lengths == n)
        keep.append(rng.choice(members, size=min(cap, len(members)), replace=False))
    return np.sort(np.concatenate(keep))


def simulate(vocab: PlacementVocabulary, placements: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """float16 ``(N, 2, d, d)``: real and imaginary parts of the phase-fixed unitaries."""
    out = []
    for start in range(0, len(placements), _SIM_CHUNK):
        p = torch.as_tensor(placements[start : start + _SIM_CHUNK])
        a = torch.as_tensor(angles[start : start + _SIM_CHUNK], dtype=torch.float64)
        u = canonical_phase(vocab.unitaries(p, a, dtype=torch.complex128))
        out.append(torch.stack([u.real, u.imag], dim=1).to(torch.float16).numpy())
    return np.concatenate(out)


def generate(config: DatasetConfig, out_dir: str | Path) -> dict:
    """Generate the dataset of ``config`` into ``out_dir``; returns the summary written to ``dataset.json``."""
    out_dir = Path(out_dir)
    rng = np.random.default_rng(config.seed)
    vocab = PlacementVocabulary(config.encoding())
    placements, angles = random_circuits(vocab, config.size, config.min_gates, config.max_gates, rng)
    canonical_order(vocab, placements, angles)
    rows = np.concatenate([placements.astype(np.float64), np.round(angles.reshape(len(angles), -1), 6)], axis=1)
    _, unique = np.unique(rows, axis=0, return_index=True)
    lengths = (placements[unique] != PAD).sum(axis=1)
    kept = np.sort(unique[balance_by_length(lengths, rng)])
    kept = kept[rng.permutation(len(kept))]
    placements, angles = placements[kept], angles[kept]
    tokens = vocab.to_tokens(placements).astype(np.int8)
    params = np.moveaxis(angles, -1, -2).astype(np.float32)
    shards = []
    for k, start in enumerate(range(0, len(kept), config.shard_size)):
        sl = slice(start, start + config.shard_size)
        arrays = {"tokens": tokens[sl], "params": params[sl], "unitaries": simulate(vocab, placements[sl], angles[sl])}
        name = f"shard_{k:03d}.npz"
        atomic_write(out_dir / name, lambda p, a=arrays: _save_npz(p, a))
        shards.append(name)
    summary = {
        "config": asdict(config),
        "circuits": len(kept),
        "drawn": config.size,
        "distinct": len(unique),
        "length_counts": np.bincount((placements != PAD).sum(axis=1)).tolist(),
        "shards": shards,
    }
    write_json(out_dir / "dataset.json", summary)
    return summary


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


@dataclass
class CircuitDataset:
    """A loaded dataset: placements ``(N, T)``, angles ``(N, T, max_params)``, unitaries ``(N, 2, d, d)`` (float32)."""

    config: DatasetConfig
    placements: torch.Tensor
    angles: torch.Tensor
    unitaries: torch.Tensor

    def __len__(self) -> int:
        return len(self.placements)

    @classmethod
    def load(cls, path: str | Path) -> CircuitDataset:
        path = Path(path)
        if not (path / "dataset.json").is_file():
            raise InputFileError(f"{path} is not a dataset folder (no dataset.json); create one with `qas dataset`")
        with reading(path / "dataset.json"):
            summary = json.loads((path / "dataset.json").read_text())
            config = DatasetConfig(**{**summary["config"], "gates": tuple(summary["config"]["gates"])})
            shard_names = list(summary["shards"])
        vocab = PlacementVocabulary(config.encoding())
        shards = []
        for name in shard_names:
            with reading(path / name, also=(zipfile.BadZipFile,)), np.load(path / name) as shard:
                shards.append({key: shard[key] for key in ("tokens", "params", "unitaries")})
        tokens = np.concatenate([s["tokens"] for s in shards]).astype(np.int64)
        params = np.concatenate([s["params"] for s in shards])
        unitaries = np.concatenate([s["unitaries"] for s in shards])
        return cls(
            config,
            torch.as_tensor(vocab.from_tokens(tokens)),
            torch.as_tensor(np.moveaxis(params, -1, -2).copy()),
            torch.as_tensor(unitaries, dtype=torch.float32),
        )

    def batches(self, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Endless shuffled index batches."""
        while True:
            order = torch.randperm(len(self), generator=generator)
            for start in range(0, len(order) - batch_size + 1, batch_size):
                yield order[start : start + batch_size]
