"""The shared evaluator: one score for a circuit on a task, wherever the circuit came from.

- :class:`~qas.tasks.StatePreparation`: fidelity ``<target|rho|target>`` of the output from |0...0>.
- :class:`~qas.tasks.UnitarySynthesis`: the Hilbert-Schmidt fidelity ``|Tr(U^dagger V)|^2 / d^2`` (global phase free);
  under noise its generalisation, the process (entanglement) fidelity ``<Phi_U| (I x E)(|Phi><Phi|) |Phi_U>`` of the
  noisy channel E against U, computed on the circuit doubled with a reference register.
- :class:`~qas.tasks.GroundState`: the circuit's angles are first fitted to minimise the noiseless energy
  (:func:`qas.optimize.fit_parameters`, unless ``fit=False``), then ``<H>`` is computed under the task's noise
  (readout noise included); the error is taken to the exact ground energy.

Noisy fidelities and energies are exact (density matrices) up to ``qas.sim.EXACT_DENSITY_MAX_QUBITS`` qubits (the
doubled circuit's for process fidelities) and seeded trajectory estimates above, so every score is reproducible.
Every score carries the circuit's cost metrics and, given a device (any object with ``fits(circuit) -> bool``),
whether the circuit fits it. Scores can be cached in an :class:`~qas.cache.EvaluationCache`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields, replace
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from qas import sim
from qas.circuit import Circuit
from qas.errors import QasError
from qas.linalg import state_fidelity, unitary_fidelity
from qas.noise import NoiseModel
from qas.sim import trajectories
from qas.targets import parse_task
from qas.tasks import GroundState, StatePreparation, Task, UnitarySynthesis

if TYPE_CHECKING:
    from qas.cache import EvaluationCache

TASK_KINDS = {StatePreparation: "state", UnitarySynthesis: "unitary", GroundState: "ground-state"}
# evaluate_many simulates noiseless state and unitary tasks in torch batches of this many circuits (bounds memory:
# 4096 five-qubit unitaries in complex128 take 64 MiB).
BATCH_SIZE = 4096
# Batched torch unitaries beat per-circuit numpy up to 4 qubits (20-gate random circuits, evaluate_many against a loop
# of evaluate: 4.4x at 3 qubits, 1.3x at 4, 0.5x at 5, where the (B, 32, 32) gathers become memory-bound).
BATCHED_UNITARY_MAX_QUBITS = 4
DensityBackend = Literal["auto", "cirq"]
# Noisy scores above the exact density-matrix limit are trajectory estimates; a fixed seed keeps every score
# reproducible (and so cacheable).
TRAJECTORY_SEED = 0


class SupportsFits(Protocol):
    """A device, or anything else that can say whether a circuit runs on it (see ``qas.devices``)."""

    def fits(self, circuit: Circuit) -> bool: ...


@dataclass(frozen=True)
class Score:
    """How well a circuit does on a task, and what it costs.

    Attributes:
        task: "state", "unitary" or "ground-state".
        task_name: the task's name ("bell", "h2", "custom", ...).
        metrics: ``Circuit.metrics()`` (gate count, two-qubit count, depth, ...).
        fidelity: state or process fidelity in [0, 1] (state and unitary tasks).
        energy: ``<H>`` at the fitted parameters (ground-state tasks).
        energy_error: ``energy - exact ground energy`` (>= 0 up to trajectory noise).
        circuit: the scored circuit; for ground-state tasks, the one with fitted parameters.
        fits_device: whether the circuit fits the given device; None when no device was given.
    """

    task: str
    task_name: str
    metrics: dict[str, int]
    fidelity: float | None = None
    energy: float | None = None
    energy_error: float | None = None
    circuit: Circuit | None = field(default=None, compare=False)
    fits_device: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the circuit as its ``to_dict``)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        return data | {"metrics": dict(self.metrics), "circuit": self.circuit.to_dict() if self.circuit else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Score:
        circuit = Circuit.from_dict(data["circuit"]) if data.get("circuit") is not None else None
        return cls(**(data | {"circuit": circuit}))


def _check_qubits(circuit: Circuit, task: Task) -> None:
    if circuit.n_qubits != task.n_qubits:
        raise QasError(f"circuit has {circuit.n_qubits} qubits but the task {task.name!r} is on {task.n_qubits}")


def _as_task(task: object) -> Task:
    """``task``, or the task a string such as ``"state:ghz3"`` names (:func:`qas.targets.parse_task`, as ``--task``)."""
    if isinstance(task, str):
        return parse_task(task)
    if not isinstance(task, StatePreparation | UnitarySynthesis | GroundState):
        raise QasError(f"cannot evaluate a task of type {type(task).__name__}; expected a qas.tasks.Task or a string")
    return task


def settings_key(task: Task, fit: bool, fit_options: dict[str, Any] | None) -> str:
    """The evaluation settings that change a score, as a cache-key string (only ground-state fitting has any)."""
    if not isinstance(task, GroundState):
        return ""
    return f"fit={fit};" + ";".join(f"{k}={v}" for k, v in sorted((fit_options or {}).items()))


def _noisy_fidelity(
    circuit: Circuit, target: np.ndarray, noise: NoiseModel, backend: DensityBackend, initial: np.ndarray | None = None
) -> float:
    """<target|rho|target> for the noisy output: exact where the density matrix fits, else a seeded trajectory mean."""
    if backend == "cirq" or circuit.n_qubits <= sim.EXACT_DENSITY_MAX_QUBITS:
        rho = sim.final_density_matrix(circuit, noise, initial_state=initial, backend=backend)
        return state_fidelity(target, rho)
    # Above the exact limit, average |<target|psi>|^2 over trajectories instead of building a 4**n density matrix.
    states = trajectories.sample_trajectories(
        circuit, noise, sim.DEFAULT_TRAJECTORIES, seed=TRAJECTORY_SEED, initial_state=initial
    )
    return float(np.mean(np.abs(states @ target.conj()) ** 2))


def _process_fidelity(circuit: Circuit, task: UnitarySynthesis, backend: DensityBackend) -> float:
    """<Phi_U| (I x E)(|Phi><Phi|) |Phi_U> with a reference register on qubits 0..n-1 and the circuit on n..2n-1."""
    n, dim = circuit.n_qubits, 2**circuit.n_qubits
    doubled = Circuit(2 * n, tuple(o.moved(range(n, 2 * n)) for o in circuit))
    phi = np.eye(dim).reshape(-1) / math.sqrt(dim)  # sum_i |i>|i> / sqrt(d)
    phi_u = task.target.T.reshape(-1) / math.sqrt(dim)  # sum_i |i> U|i> / sqrt(d)
    return _noisy_fidelity(doubled, phi_u, task.noise, backend, initial=phi)


def _score(circuit: Circuit, task: Task, backend: sim.Backend, fit: bool, fit_options: dict[str, Any] | None) -> Score:
    kind, metrics = TASK_KINDS[type(task)], circuit.metrics()
    noiseless = task.noise.is_noiseless
    density_backend: DensityBackend = "cirq" if backend == "cirq" else "auto"
    if isinstance(task, StatePreparation):
        if noiseless:
            fidelity = state_fidelity(task.target, sim.final_state(circuit, backend=backend))
        else:
            fidelity = _noisy_fidelity(circuit, task.target, task.noise, density_backend)
        return Score(kind, task.name, metrics, fidelity=fidelity, circuit=circuit)
    if isinstance(task, UnitarySynthesis):
        if noiseless:
            fidelity = unitary_fidelity(task.target, sim.unitary(circuit, backend=backend))
        else:
            fidelity = _process_fidelity(circuit, task, density_backend)
        return Score(kind, task.name, metrics, fidelity=fidelity, circuit=circuit)
    if fit and circuit.parameter_count:
        from qas.optimize import fit_parameters

        circuit = fit_parameters(circuit, task, **(fit_options or {})).circuit
    energy = sim.expectation(circuit, task.hamiltonian, noise=task.noise, backend=backend, seed=TRAJECTORY_SEED)
    return Score(
        kind, task.name, metrics, energy=energy, energy_error=energy - float(task.exact_energy), circuit=circuit
    )


def _resolve_device(device: SupportsFits | str | None) -> SupportsFits | None:
    """A device object from an object with ``fits``, a built-in device name, or a device file."""
    if isinstance(device, str):
        from qas.devices import load_device

        return load_device(device)
    if device is not None and not hasattr(device, "fits"):
        raise QasError(f"device must have a fits(circuit) method, got {type(device).__name__}")
    return device


def _with_device(score: Score, circuit: Circuit, device: SupportsFits | None) -> Score:
    return score if device is None else replace(score, fits_device=bool(device.fits(circuit)))


def evaluate(
    circuit: Circuit,
    task: Task | str,
    *,
    device: SupportsFits | str | None = None,
    backend: sim.Backend = "auto",
    cache: EvaluationCache | None = None,
    fit: bool = True,
    fit_options: dict[str, Any] | None = None,
) -> Score:
    """Score ``circuit`` on ``task``.

    Args:
        circuit: the circuit, on the task's qubit count.
        task: a :class:`StatePreparation`, :class:`UnitarySynthesis` or :class:`GroundState`, or a task string such
            as ``"state:ghz3"`` or ``"ground-state:h2"`` (see :func:`qas.targets.parse_task`; noiseless).
        device: anything with ``fits(circuit) -> bool`` (a ``qas.devices.Device``), or a built-in device name or
            device file for ``qas.devices.load_device``; fills ``Score.fits_device``.
        backend: simulator backend for the noiseless parts (see :mod:`qas.sim`); noisy parts use exact density matrices
            (``"cirq"``: Cirq's) up to ``sim.EXACT_DENSITY_MAX_QUBITS`` qubits and trajectories above.
        cache: looked up first; a new score is stored (and committed) before it is returned.
        fit: ground-state tasks only: fit the angles before scoring (state and unitary tasks score the circuit as
            given; fit those with :func:`qas.optimize.fit_parameters`).
        fit_options: keyword arguments for :func:`qas.optimize.fit_parameters` (steps, restarts, seed, ...).
    """
    task = _as_task(task)
    _check_qubits(circuit, task)
    sim.resolve_backend(backend, circuit.n_qubits)
    device = _resolve_device(device)
    settings = settings_key(task, fit, fit_options)
    score = cache.get(circuit, task, settings) if cache is not None else None
    if score is None:
        score = _score(circuit, task, backend, fit, fit_options)
        if cache is not None:
            cache.put(circuit, task, score, settings)
    return _with_device(score, circuit, device)


def _batched_fidelities(circuits: Sequence[Circuit], task: StatePreparation | UnitarySynthesis) -> list[float]:
    """Noiseless fidelities of many different circuits, simulated together on the torch backend."""
    import torch

    from qas.sim import torch_backend

    fidelities: list[float] = []
    target = torch.from_numpy(task.target)
    for start in range(0, len(circuits), BATCH_SIZE):
        chunk = circuits[start : start + BATCH_SIZE]
        if isinstance(task, StatePreparation):
            values = torch_backend.state_fidelity(torch_backend.batch_states(chunk, dtype=torch.complex128), target)
        else:
            values = torch_backend.unitary_fidelity(
                torch_backend.batch_unitaries(chunk, dtype=torch.complex128), target
            )
        fidelities.extend(values.tolist())
    return fidelities


def _score_one(args: tuple[Circuit, Task, sim.Backend, bool, dict[str, Any] | None]) -> Score:
    """Process-pool entry point (module level so that it pickles)."""
    import torch

    torch.set_num_threads(1)  # one process per core; more threads per process only contend
    return _score(*args)


def evaluate_many(
    circuits: Sequence[Circuit],
    task: Task | str,
    *,
    device: SupportsFits | str | None = None,
    backend: sim.Backend = "auto",
    cache: EvaluationCache | None = None,
    fit: bool = True,
    fit_options: dict[str, Any] | None = None,
    workers: int | None = None,
) -> list[Score]:
    """Score many circuits on one task; the same scores as :func:`evaluate`, in the same order, faster.

    Noiseless state tasks, and unitary tasks up to :data:`BATCHED_UNITARY_MAX_QUBITS` qubits, are simulated in torch
    batches (:func:`qas.sim.torch_backend.batch_states` / ``batch_unitaries``); ground-state fitting runs in a process
    pool of ``workers`` processes (default: one per core; 1 runs in this process). Repeated circuits are evaluated
    once (equal canonical forms when a cache is given, equal circuits otherwise), cached scores are reused, and each
    new score is committed to the cache as soon as it exists.
    """
    task = _as_task(task)
    for c in circuits:
        _check_qubits(c, task)
    sim.resolve_backend(backend, task.n_qubits)
    device = _resolve_device(device)
    settings = settings_key(task, fit, fit_options)

    # Repeats are found by canonical form when there is a cache to share with other runs; otherwise by plain equality,
    # which is ~10x cheaper than Circuit.key() and would dominate the batched simulation's cost.
    keys: list[Circuit | str] = [c.key() for c in circuits] if cache is not None else list(circuits)
    scores: dict[Circuit | str, Score] = {}
    todo: dict[Circuit | str, Circuit] = {}
    for c, key in zip(circuits, keys, strict=True):
        if key in scores or key in todo:
            continue
        cached = cache.get(c, task, settings) if cache is not None else None
        if cached is not None:
            scores[key] = cached
        else:
            todo[key] = c

    def store(key: Circuit | str, score: Score) -> None:
        scores[key] = score
        if cache is not None:
            cache.put(todo[key], task, score, settings)

    pending = list(todo)
    batched = isinstance(task, StatePreparation) or (
        isinstance(task, UnitarySynthesis) and (backend == "torch" or task.n_qubits <= BATCHED_UNITARY_MAX_QUBITS)
    )
    if batched and task.noise.is_noiseless and backend in ("auto", "torch"):
        fidelities = _batched_fidelities([todo[k] for k in pending], task)
        for key, fidelity in zip(pending, fidelities, strict=True):
            c = todo[key]
            store(key, Score(TASK_KINDS[type(task)], task.name, c.metrics(), fidelity=fidelity, circuit=c))
    elif isinstance(task, GroundState) and fit and len(pending) > 1 and (workers is None or workers > 1):
        # spawn, not fork: a forked child inherits torch's and OpenMP's thread pools in an undefined state.
        with ProcessPoolExecutor(max_workers=workers or sim.available_cores(), mp_context=get_context("spawn")) as pool:
            jobs = [(todo[k], task, backend, fit, fit_options) for k in pending]
            for key, score in zip(pending, pool.map(_score_one, jobs), strict=True):
                store(key, score)
    else:
        for key in pending:
            store(key, _score(todo[key], task, backend, fit, fit_options))
    return [_with_device(scores[key], c, device) for c, key in zip(circuits, keys, strict=True)]
