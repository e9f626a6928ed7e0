"""The whole "give a unitary, get circuits" pipeline: sample; complete samples exactly from a table of short
circuits (discrete gates) or fit the angles of the best structures and of the samples' entangling skeletons
(rotations); repair structures when none is right; prune and simplify; rank.

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
from qas.compile import validate_tolerance
from qas.encoding import CircuitEncoding
from qas.errors import ConfigError, InputFileError, QasError
from qas.linalg import validate_unitary
from qas.settings import check_seed, is_finite_number

from .lookup import ShortCircuits, cx_equivalents, placement_costs, short_circuits
from .model import Denoiser, load_weights
from .placements import PlacementVocabulary, infidelities
from .refine import prune, refine, repair
from .sample import Samples, embed_target, sample
from .skeleton import Skeleton, ansatz, by_frequency, neighbours, rotation_gates, skeletons_of

WEIGHTS_DIR = Path(__file__).parent / "weights"
PRUNE_TOLERANCE = 1e-9
PRUNE_TOP = 3  # exact circuits pruned per batch, fewest CX first
REPAIR_TOP = 3  # structures searched by the structural repair (each costs a few batched simulations)
SIMPLIFY_TOP = 8  # cheapest exact completions simplified per batch (the cheapest before is not always after)
# Largest batch after the first: memory grows with the batch (about 0.5 GB at 1,024 samples, 0.9 GB at 4,096 on
# the shipped 3-qubit models), so a large ``samples`` runs as several batches instead of one allocation.
MAX_BATCH = 1024
SKELETONS_PER_16 = 6  # new entangling skeletons fitted per 16 samples, most frequent first
EDITED_SKELETONS = 2  # in the last batch, when nothing fits: the best-fitting skeletons whose one-edit neighbours ...
EDIT_BUDGET = 40  # ... are fitted, up to this many


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
    best_sampled: float  # the best infidelity among the raw samples (before any refinement, repair or completion)
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
        guidance: float = 1.0,
        refine_top: int | None = None,
        tolerance: float = 1e-3,
        chunk: int | None = None,
        denoising_steps: int | None = 6,
        repair_rounds: int = 8,
        stop_early: bool = False,
        seed: int | None = None,
    ) -> Generation:
        """Sample ``samples`` circuits for ``unitary`` in batches, the first of ``chunk`` (default 16), the rest of up
        to :data:`MAX_BATCH`, and turn each batch into exact compilations where possible:

        - gates without parameters: every sample one window away from the target is completed exactly from the table
          of short circuits (:mod:`.lookup`) and the results simplified to fewer CX;
        - otherwise: the angles of the batch's ``refine_top`` best distinct structures (default 8) and of the Euler
          ansatzes of its most frequent new entangling skeletons (:mod:`.skeleton`) are fitted together (in the last
          batch, when none fits, also the one-edit neighbours of the best-fitting skeletons), then gates not needed
          within ``tolerance`` are pruned.

        When nothing is within ``tolerance`` and there is no ansatz (fewer than two rotation axes allowed, or steps
        fixed by the caller), up to ``repair_rounds`` greedy structural edits are tried on the best sampled
        structures (:func:`.refine.repair`) before fitting again; 0 turns this off.

        ``denoising_steps`` is 6 by default (two steps revealed per model call): with the completion and skeleton
        fits it solved as many validation targets as one step per call (37/40 on the parameterised set) in ~0.8x
        the CPU time per target (0.52 vs 0.63 s); ``None`` reveals one step per call. 4 steps (validation, seed
        777, 80 targets) solved as many (79) in 0.85x the time but gave more CX on 3 targets and fewer on 1.

        With ``stop_early``, stop after the first batch if it yields a circuit within ``tolerance`` (an adaptive
        budget: easy targets cost one small batch); otherwise draw all ``samples``. Returns the distinct circuits, those
        within tolerance first (fewest CX equivalents first), the rest by infidelity. Circuits act on the target's
        own qubit count (a target smaller than the model is embedded on its first qubits).
        """
        start = time.monotonic()
        unitary = validate_unitary(unitary)
        validate_tolerance(tolerance)
        for name, count in {"samples": samples, "chunk": chunk, "refine_top": refine_top}.items():
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
                raise ConfigError(f"{name} must be an integer of at least 1, got {count!r}")
        check_seed(seed)
        chunk = 16 if chunk is None else chunk
        refine_top = (8 if self.vocab.max_params else 4) if refine_top is None else refine_top
        if not is_finite_number(guidance):
            raise ConfigError(f"guidance must be a finite number, got {guidance!r}")
        k = int(np.log2(unitary.shape[0]))
        if k > self.n_qubits:
            raise QasError(f"weights {self.name!r} handle up to {self.n_qubits} qubits; the target has {k}")
        target = embed_target(unitary, self.n_qubits)
        rng = np.random.default_rng(seed)
        candidates: dict[str, GeneratedCircuit] = {}
        tried: set[Skeleton] = set()  # skeletons fitted in earlier batches
        drawn_total, best_sampled = 0, 1.0
        while drawn_total < samples:
            # The first batch is small (easy targets stop there); the rest come in large batches (cheaper per sample).
            size = min(chunk, samples) if drawn_total == 0 else min(MAX_BATCH, samples - drawn_total)
            drawn = sample(
                self.model, self.vocab, unitary, samples=size, gates=gates, coupling=coupling, fixed=fixed,
                guidance=guidance, steps=denoising_steps, seed=int(rng.integers(2**31)),
            )  # fmt: skip
            drawn_total += size
            seed_k = int(rng.integers(2**31))
            best_sampled = min(best_sampled, float(drawn.infidelity.min()))
            last = drawn_total >= samples
            for found in self._refine_best(target, k, drawn, refine_top, tolerance, repair_rounds, seed_k, tried, last):
                key = found.circuit.key()
                if key not in candidates or candidates[key].infidelity > found.infidelity:
                    candidates[key] = found
            if stop_early and min(c.infidelity for c in candidates.values()) <= tolerance:
                break

        def quality(c: GeneratedCircuit) -> tuple[bool, int, float]:
            ok = c.infidelity <= tolerance
            return (not ok, cx_equivalents(c.circuit) if ok else 0, c.infidelity)

        ranked = sorted(candidates.values(), key=quality)
        return Generation(tuple(ranked), drawn_total, best_sampled, time.monotonic() - start, self.name)

    def _refine_best(
        self,
        target: np.ndarray,
        k: int,
        drawn: Samples,
        top: int,
        tolerance: float,
        repair_rounds: int,
        seed: int,
        tried: set[Skeleton],
        last: bool,
    ) -> list[GeneratedCircuit]:
        """Complete exactly, or refine the ``top`` best distinct structures together with the ansatzes of new
        skeletons (adding them to ``tried``; in the ``last`` batch, if none fits, their one-edit neighbours too),
        repair when there is no ansatz and nothing fits, and prune."""
        # Without parameters (and with nothing fixed by the caller), one-window completion from the table of short
        # circuits is exact and searches far more edits than the greedy repair: on validation targets it solved
        # 78/80 from 64 samples (the samples alone 30/80, refinement + repair 71/80).
        discrete = not (self.vocab.num_params[drawn.allowed] > 0).any() and not drawn.fixed.any()
        table = short_circuits(self.vocab, drawn.allowed) if discrete else None
        if table is not None:
            completed = table.complete(target, drawn.placements.cpu().numpy())[:SIMPLIFY_TOP]
            if completed:
                return [self._discrete_result(table, target, k, c, float(drawn.infidelity[i])) for c, i in completed]
        order = torch.argsort(drawn.infidelity)
        _, first = np.unique(drawn.placements[order].cpu().numpy(), axis=0, return_index=True)
        best = order[np.sort(first)[:top]].cpu()
        frozen = torch.as_tensor(drawn.fixed)
        placements, angles = drawn.placements[best].cpu(), drawn.angles[best].cpu()
        before = drawn.infidelity[best].cpu().double()
        # With rotations (and nothing fixed), the Euler ansatzes of the batch's most frequent new skeletons are
        # fitted in the same batch as the sampled structures: fitting costs per iteration far more than per row.
        rotations = None if discrete or drawn.fixed.any() else rotation_gates(self.vocab, drawn.allowed)
        fresh: list[Skeleton] = []
        if rotations is not None:
            skeletons = skeletons_of(self.vocab, drawn.placements.cpu().numpy())
            budget = -(-SKELETONS_PER_16 * len(skeletons) // 16)
            fresh = [s for s in by_frequency(skeletons) if s not in tried][:budget]
            tried.update(fresh)
        if fresh:
            structures = ansatz(self.vocab, fresh, rotations)
            width = max(structures.shape[1], placements.shape[1])
            placements = torch.cat([_widen(placements, width), _widen(structures, width)])
            angles = torch.cat([_widen(angles, width), angles.new_zeros(len(fresh), width, angles.shape[2])])
            frozen = _widen(frozen, width)
            scores = drawn.infidelity.tolist()
            sampled_of = [min(x for x, t in zip(scores, skeletons, strict=True) if t == s) for s in fresh]
            before = torch.cat([before, torch.tensor(sampled_of, dtype=torch.float64)])
        # One exact fit is enough to stop fitting: on validation targets the answers kept their CX counts and the
        # fitting time halved (the rows that do not fit would otherwise run every iteration).
        fitted = refine(self.vocab, target, placements, angles, seed=seed, frozen=frozen, first=True)
        rows = [
            (placements[i], fitted.angles[i], float(fitted.after[i]), float(before[i]))
            for i in range(len(placements))
            if i < len(best) or float(fitted.after[i]) <= tolerance  # an ansatz that misses is no candidate
        ]
        if fresh and last and float(fitted.after.min()) > tolerance:
            # The model's skeletons are often one CNOT off (on validation misses, the source's skeleton was one
            # edit from a sampled one in 8 of 9): try the neighbours of the best-fitting ones.
            closest = [fresh[i] for i in torch.argsort(fitted.after[len(best) :])[:EDITED_SKELETONS].tolist()]
            edited = list(dict.fromkeys(e for s in closest for e in neighbours(self.vocab, s, drawn.allowed)))
            edited = [e for e in edited if e not in tried][:EDIT_BUDGET]
            tried.update(edited)
            if edited:
                structures = ansatz(self.vocab, edited, rotations)
                zeros = torch.zeros(*structures.shape, self.vocab.max_params, dtype=torch.float64)
                fits = refine(self.vocab, target, structures, zeros, seed=seed, first=True)
                best_sampled = float(drawn.infidelity.min())
                rows += [
                    (structures[i], fits.angles[i], float(fits.after[i]), best_sampled)
                    for i in range(len(edited))
                    if float(fits.after[i]) <= tolerance
                ]
        if rotations is None and repair_rounds and float(fitted.after.min()) > tolerance:
            # Nothing is right yet: search the best few sampled structures' neighbourhoods, then fit the repaired ones.
            order = torch.argsort(fitted.after)[:REPAIR_TOP].tolist()
            repaired = placements.clone()
            for i in order:
                repaired[i], angles_i, score = repair(
                    self.vocab, target, placements[i], fitted.angles[i], rounds=repair_rounds, allowed=drawn.allowed,
                    frozen=frozen,
                )  # fmt: skip
                rows[i] = (repaired[i], angles_i, score, rows[i][3])
                if score <= tolerance:
                    break
            refit = refine(self.vocab, target, repaired[order], torch.stack([rows[i][1] for i in order]), seed=seed,
                           frozen=frozen)  # fmt: skip
            for j, i in enumerate(order):
                rows[i] = (repaired[i], refit.angles[j], float(refit.after[j]), rows[i][3])
        out = []
        costs = placement_costs(self.vocab)
        exact = sorted((int(costs[r[0]].sum()), r[2], i) for i, r in enumerate(rows) if r[2] <= tolerance)
        cheapest = {i for _, _, i in exact[:PRUNE_TOP]}
        for i, (steps, fitted_angles, score, sampled) in enumerate(rows):
            if i in cheapest:
                # Pruning may only drop gates that keep the circuit as exact as it is: never trade accuracy.
                tol = min(tolerance, PRUNE_TOLERANCE)
                fixed_steps = frozen if len(steps) == len(frozen) else None  # edited ansatzes: nothing is fixed
                steps, score = prune(self.vocab, target, steps, fitted_angles, tol, frozen=fixed_steps)
            if table is not None:
                out.append(self._discrete_result(table, target, k, steps.tolist(), sampled))
                continue
            circuit = self.vocab.to_circuit(steps.numpy(), fitted_angles.numpy())
            out.append(GeneratedCircuit(Circuit(k, circuit.operations), score, sampled))
        return out

    def _discrete_result(
        self, table: ShortCircuits, target: np.ndarray, k: int, placements: tuple[int, ...], sampled: float
    ) -> GeneratedCircuit:
        """A parameter-free structure, simplified through the table (the same unitary, fewer CX), and its score."""
        steps = np.array(table.simplify(placements), dtype=np.int64)
        no_angles = torch.zeros(1, len(steps), self.vocab.max_params, dtype=torch.float64)
        unitary = self.vocab.unitaries(torch.as_tensor(steps)[None], no_angles, dtype=torch.complex128)
        score = float(infidelities(torch.tensor(target), unitary)[0])
        return GeneratedCircuit(Circuit(k, self.vocab.to_circuit(steps).operations), score, sampled)


def _widen(steps: torch.Tensor, width: int) -> torch.Tensor:
    """Steps ``(K, T, ...)`` or flags ``(T,)`` padded to ``width`` steps (padding placements, zero angles, not
    frozen)."""
    axis = 0 if steps.dim() == 1 else 1
    shape = list(steps.shape)
    shape[axis] = width - steps.shape[axis]
    return torch.cat([steps, steps.new_zeros(shape)], dim=axis)


@lru_cache(maxsize=8)
def load_generator(weights: str, device: str = "cpu") -> DiffusionGenerator:
    """A cached :class:`DiffusionGenerator` (loading weights once per process)."""
    return DiffusionGenerator(weights, device)
