"""The whole "give a unitary, get circuits" pipeline: sample, rank, refine the best few, prune, rank again.

:class:`DiffusionGenerator` wraps one trained model (shipped weights by name, or any checkpoint folder). Shipped
weights live in ``weights/<name>/`` inside this package (``model.safetensors`` + ``model.json``), so a fresh install
compiles with no training and nothing to download.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from qas.circuit import Circuit, Operation
from qas.encoding import CircuitEncoding
from qas.errors import InputFileError, QasError
from qas.linalg import validate_unitary

from .model import Denoiser, load_weights
from .placements import PlacementVocabulary
from .refine import prune, refine
from .sample import embed_target, sample

WEIGHTS_DIR = Path(__file__).parent / "weights"


def shipped_weights() -> dict[str, Path]:
    """Names of the weights shipped in the package -> their folders (sorted by name)."""
    if not WEIGHTS_DIR.is_dir():
        return {}
    return {p.name: p for p in sorted(WEIGHTS_DIR.iterdir()) if (p / "model.json").is_file()}


def resolve_weights(weights: str | Path) -> Path:
    """A shipped weights name or a folder (a checkpoint or training run folder) -> the folder."""
    shipped = shipped_weights()
    if str(weights) in shipped:
        return shipped[str(weights)]
    path = Path(weights)
    if (path / "model.json").is_file():
        return path
    names = ", ".join(shipped) or "none installed"
    raise InputFileError(f"no generator weights at {str(weights)!r} (shipped weights: {names})")


@dataclass(frozen=True)
class GeneratedCircuit:
    """A generated circuit with its infidelity after refinement and as sampled."""

    circuit: Circuit
    infidelity: float
    sampled_infidelity: float


@dataclass(frozen=True)
class Generation:
    """The outcome of one :meth:`DiffusionGenerator.generate` call: candidates best first."""

    candidates: tuple[GeneratedCircuit, ...]
    samples: int
    seconds: float
    weights: str

    @property
    def best(self) -> GeneratedCircuit:
        return self.candidates[0]


class DiffusionGenerator:
    """A trained diffusion model and its placement vocabulary, ready to generate circuits."""

    def __init__(self, weights: str | Path, device: str | torch.device = "cpu") -> None:
        self.path = resolve_weights(weights)
        self.model: Denoiser
        self.model, self.meta = load_weights(self.path, device)
        config = self.model.config
        self.vocab = PlacementVocabulary(CircuitEncoding(tuple(self.meta["gates"]), config.n_qubits, config.max_steps))
        self.name = self.path.name

    @property
    def gates(self) -> tuple[str, ...]:
        return self.vocab.encoding.gates

    @property
    def n_qubits(self) -> int:
        return self.vocab.n_qubits

    def generate(
        self,
        unitary: np.ndarray,
        *,
        samples: int = 64,
        gates: list[str] | None = None,
        coupling: list[tuple[int, int]] | None = None,
        fixed: dict[int, Operation] | None = None,
        guidance: float = 2.0,
        refine_top: int = 8,
        tolerance: float = 1e-3,
        seed: int | None = None,
    ) -> Generation:
        """Sample ``samples`` circuits for ``unitary``, refine the ``refine_top`` best distinct structures' angles,
        prune gates that are not needed within ``tolerance``, and return the distinct results best first.

        The returned circuits act on the target's own qubit count (a smaller target than the model's is embedded).
        """
        start = time.monotonic()
        unitary = validate_unitary(unitary)
        k = int(np.log2(unitary.shape[0]))
        if k > self.n_qubits:
            raise QasError(f"weights {self.name!r} handle up to {self.n_qubits} qubits; the target has {k}")
        drawn = sample(
            self.model, self.vocab, unitary, samples=samples, gates=gates, coupling=coupling, fixed=fixed,
            guidance=guidance, seed=seed,
        )  # fmt: skip
        # The distinct structures, best sampled infidelity first.
        order = torch.argsort(drawn.infidelity)
        _, first = np.unique(drawn.placements[order].cpu().numpy(), axis=0, return_index=True)
        top = order[np.sort(first)[:refine_top]].cpu()
        target = embed_target(unitary, self.n_qubits)
        placements, angles = drawn.placements[top].cpu(), drawn.angles[top].cpu()
        fitted = refine(self.vocab, target, placements, angles, seed=seed or 0)
        candidates = {}
        for i in range(len(top)):
            pruned, score = prune(self.vocab, target, placements[i], fitted.angles[i], tolerance)
            full = self.vocab.to_circuit(pruned.numpy(), fitted.angles[i].numpy())
            circuit = Circuit(k, full.operations)
            key = circuit.key()
            if key not in candidates or candidates[key].infidelity > score:
                candidates[key] = GeneratedCircuit(circuit, score, float(fitted.before[i]))

        # Circuits within tolerance first, fewest two-qubit gates first among them; the rest by infidelity.
        def quality(c: GeneratedCircuit) -> tuple[bool, int, float]:
            ok = c.infidelity <= tolerance
            return (not ok, c.circuit.two_qubit_count if ok else 0, c.infidelity)

        ranked = sorted(candidates.values(), key=quality)
        return Generation(tuple(ranked), samples, time.monotonic() - start, self.name)


@lru_cache(maxsize=8)
def load_generator(weights: str, device: str = "cpu") -> DiffusionGenerator:
    """A cached :class:`DiffusionGenerator` (loading weights once per process)."""
    return DiffusionGenerator(weights, device)
