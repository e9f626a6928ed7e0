"""One simulation interface over several backends.

Backends:

- ``"numpy"``: qas's own kernels (:mod:`qas.sim.statevector`, :mod:`qas.sim.density`, :mod:`qas.sim.trajectories`).
  No per-call translation, so it is the fastest for few qubits and the incremental path the environments step with.
- ``"qsim"``: qsimcirq (:mod:`qas.sim.qsim_backend`), for whole circuits on many qubits; noise by trajectories.
- ``"cirq"``: ``cirq.Simulator`` / ``cirq.DensityMatrixSimulator`` (:mod:`qas.sim.cirq_backend`), the reference.
- ``"torch"``: batched and differentiable (:mod:`qas.sim.torch_backend`), noiseless only.
- ``"auto"``: numpy below :data:`AUTO_QSIM_MIN_QUBITS` qubits, qsim from there on; for noise, exact density matrices up
  to :data:`EXACT_DENSITY_MAX_QUBITS` qubits and trajectories above.

Results are numpy arrays (complex128 states). All randomness (sampling, trajectories) takes a ``seed``. The Cirq, qsim
and torch backends are imported only when used, so ``import qas.sim`` stays light.
"""

from __future__ import annotations

import difflib
import os
from typing import TYPE_CHECKING, Literal

import numpy as np

from qas.errors import QasError
from qas.noise import NOISELESS, NoiseModel
from qas.sim import density, statevector, trajectories

if TYPE_CHECKING:
    from qas.circuit import Circuit
    from qas.pauli import PauliSum

Backend = Literal["auto", "numpy", "qsim", "cirq", "torch"]
BACKENDS: tuple[str, ...] = ("auto", "numpy", "qsim", "cirq", "torch")

# bench/simulators.py, "numpy/qsim crossover" (rotations on every qubit + CNOT brickwork, 1 qsim thread), three runs
# on a busy 2-core machine: numpy is 1.3-3.8x faster at 6-8 qubits, 0.8-1.2x at 10-12 (run-to-run noise decides), and
# 3.5-50x slower at 14, where its threaded BLAS also collapses under load. qsim's fixed ~0.5 ms translation per call
# loses for few qubits; its vectorised kernels win from about 11.
AUTO_QSIM_MIN_QUBITS = 11
# A density matrix of 10 qubits is 16 MiB of complex128 and costs ~4**10 per gate; beyond that, trajectories.
EXACT_DENSITY_MAX_QUBITS = 10
DEFAULT_TRAJECTORIES = 1000


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def resolve_backend(backend: str, n_qubits: int) -> str:
    """The concrete backend for ``backend`` on ``n_qubits`` qubits; raises :class:`QasError` on an unknown name."""
    if backend not in BACKENDS:
        close = difflib.get_close_matches(str(backend), BACKENDS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise QasError(f"unknown simulator backend {backend!r}.{hint} Choose from: {', '.join(BACKENDS)}")
    if backend == "auto":
        return "qsim" if n_qubits >= AUTO_QSIM_MIN_QUBITS else "numpy"
    return backend


def _noise(noise: NoiseModel | None) -> NoiseModel:
    return NOISELESS if noise is None else noise


def _check_repetitions(repetitions: int) -> int:
    if int(repetitions) < 1:
        raise QasError(f"repetitions must be at least 1, got {repetitions}")
    return int(repetitions)


def _check_initial_state(circuit: Circuit, initial_state: np.ndarray | None) -> np.ndarray | None:
    if initial_state is None:
        return None
    from qas.linalg import validate_state

    return validate_state(initial_state, circuit.n_qubits)


def final_state(
    circuit: Circuit,
    *,
    backend: Backend = "auto",
    initial_state: np.ndarray | None = None,
    seed: int | None = None,
) -> np.ndarray:
    """The noiseless state after ``circuit`` acts on ``initial_state`` (default |0...0>), complex128."""
    return _final_state(
        circuit, resolve_backend(backend, circuit.n_qubits), _check_initial_state(circuit, initial_state), seed
    )


def _final_state(circuit: Circuit, name: str, start: np.ndarray | None, seed: int | None = None) -> np.ndarray:
    if name == "numpy":
        return statevector.final_state(circuit, start)
    if name == "qsim":
        from qas.sim import qsim_backend

        return qsim_backend.final_state(circuit, start, seed=seed)
    if name == "cirq":
        from qas.sim import cirq_backend

        return cirq_backend.final_state(circuit, start, seed=seed)
    import torch

    from qas.sim import torch_backend

    init = None if start is None else torch.from_numpy(start)
    return torch_backend.circuit_state(circuit, initial_state=init, dtype=torch.complex128).numpy()


def unitary(circuit: Circuit, *, backend: Backend = "auto") -> np.ndarray:
    """The circuit's unitary (complex128). ``auto`` always uses numpy: unitaries are only built for few qubits."""
    name = "numpy" if backend == "auto" else resolve_backend(backend, circuit.n_qubits)
    if name == "numpy":
        return statevector.circuit_unitary(circuit)
    if name == "qsim":
        from qas.sim import qsim_backend

        return qsim_backend.unitary(circuit)
    if name == "cirq":
        from qas.sim import cirq_backend

        return cirq_backend.unitary(circuit)
    import torch

    from qas.sim import torch_backend

    return torch_backend.circuit_unitary(circuit, dtype=torch.complex128).numpy()


def final_density_matrix(
    circuit: Circuit,
    noise: NoiseModel | None,
    *,
    backend: Literal["auto", "numpy", "cirq"] = "auto",
    initial_state: np.ndarray | None = None,
    include_readout: bool = False,
    repetitions: int = DEFAULT_TRAJECTORIES,
    seed: int | None = None,
) -> np.ndarray:
    """The noisy mixed state after ``circuit``.

    Exact up to :data:`EXACT_DENSITY_MAX_QUBITS` qubits (numpy kernel, or ``cirq.DensityMatrixSimulator`` with
    ``backend="cirq"``); above that, the average of ``repetitions`` seeded trajectories (an estimate whose entries have
    a standard error of order 1/sqrt(repetitions)).
    """
    noise = _noise(noise)
    start = _check_initial_state(circuit, initial_state)
    if backend == "cirq":
        from qas.sim import cirq_backend

        return cirq_backend.final_density_matrix(circuit, noise, start, include_readout=include_readout, seed=seed)
    if backend not in ("auto", "numpy"):
        raise QasError(f"final_density_matrix supports the backends auto, numpy and cirq, got {backend!r}")
    if circuit.n_qubits <= EXACT_DENSITY_MAX_QUBITS:
        return density.final_density_matrix(circuit, noise, start, include_readout=include_readout)
    states = trajectories.sample_trajectories(
        circuit, noise, _check_repetitions(repetitions), seed=seed, initial_state=start, include_readout=include_readout
    )
    return trajectories.density_from_trajectories(states)


def expectation(
    circuit: Circuit,
    hamiltonian: PauliSum,
    *,
    noise: NoiseModel | None = None,
    backend: Backend = "auto",
    repetitions: int = DEFAULT_TRAJECTORIES,
    seed: int | None = None,
) -> float:
    """<H> on the circuit's output, readout noise included.

    Noiseless: exact on every backend. Noisy: exact on numpy (up to :data:`EXACT_DENSITY_MAX_QUBITS` qubits) and cirq;
    the mean over ``repetitions`` trajectories on qsim and on numpy above the exact limit.
    """
    if hamiltonian.n_qubits != circuit.n_qubits:
        raise QasError(f"Hamiltonian acts on {hamiltonian.n_qubits} qubits, the circuit on {circuit.n_qubits}")
    noise = _noise(noise)
    name = resolve_backend(backend, circuit.n_qubits)
    if noise.is_noiseless:
        return hamiltonian.expectation(_final_state(circuit, name, None, seed))
    if name == "torch":
        raise QasError("the torch backend is noiseless; use numpy, cirq or qsim for noisy expectations")
    if name == "qsim":
        from qas.sim import qsim_backend

        return qsim_backend.expectation(
            circuit, hamiltonian, noise, repetitions=_check_repetitions(repetitions), seed=seed
        )
    if name == "cirq":
        from qas.sim import cirq_backend

        return cirq_backend.expectation(circuit, hamiltonian, noise, seed=seed)
    if circuit.n_qubits <= EXACT_DENSITY_MAX_QUBITS:
        return hamiltonian.expectation(density.final_density_matrix(circuit, noise, include_readout=True))
    states = trajectories.sample_trajectories(
        circuit, noise, _check_repetitions(repetitions), seed=seed, include_readout=True
    )
    return float(np.mean([hamiltonian.expectation(psi) for psi in states]))


def _bits(indices: np.ndarray, n_qubits: int) -> np.ndarray:
    """Basis indices -> bit rows, column q = qubit q (qubit 0 is the most significant bit)."""
    return ((indices[:, None] >> np.arange(n_qubits - 1, -1, -1)) & 1).astype(np.uint8)


def sample(
    circuit: Circuit,
    repetitions: int,
    *,
    noise: NoiseModel | None = None,
    seed: int | None = None,
    backend: Backend = "auto",
) -> np.ndarray:
    """Measure every qubit ``repetitions`` times: bits ``(repetitions, n)`` (uint8), column ``q`` is qubit ``q``."""
    repetitions = _check_repetitions(repetitions)
    noise = _noise(noise)
    name = resolve_backend(backend, circuit.n_qubits)
    if name == "qsim":
        from qas.sim import qsim_backend

        return qsim_backend.sample(circuit, repetitions, noise, seed=seed)
    if name == "cirq":
        from qas.sim import cirq_backend

        return cirq_backend.sample(circuit, repetitions, noise, seed=seed)
    if name == "torch" and not noise.is_noiseless:
        raise QasError("the torch backend is noiseless; use numpy, cirq or qsim to sample with noise")
    rng = np.random.default_rng(seed)
    if noise.is_noiseless:
        probabilities = np.abs(_final_state(circuit, name, None, seed)) ** 2
    elif circuit.n_qubits <= EXACT_DENSITY_MAX_QUBITS:
        probabilities = np.real(np.diag(density.final_density_matrix(circuit, noise, include_readout=True)))
    else:
        # One trajectory per shot: each shot is drawn from its own trajectory's final state.
        states = trajectories.sample_trajectories(circuit, noise, repetitions, seed=rng, include_readout=True)
        cumulative = np.cumsum(np.abs(states) ** 2, axis=1)
        draws = rng.random(repetitions) * cumulative[:, -1]
        return _bits((cumulative < draws[:, None]).sum(axis=1), circuit.n_qubits)
    probabilities = np.clip(probabilities, 0, None)
    indices = rng.choice(probabilities.size, size=repetitions, p=probabilities / probabilities.sum())
    return _bits(indices, circuit.n_qubits)


__all__ = [
    "AUTO_QSIM_MIN_QUBITS",
    "BACKENDS",
    "DEFAULT_TRAJECTORIES",
    "EXACT_DENSITY_MAX_QUBITS",
    "Backend",
    "available_cores",
    "expectation",
    "final_density_matrix",
    "final_state",
    "resolve_backend",
    "sample",
    "unitary",
]
