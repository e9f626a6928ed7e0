"""Noisy simulation by quantum trajectories (Monte Carlo wave functions) on the numpy kernel.

Above the exact density-matrix limit a mixed state no longer fits comfortably (4**n entries), so each channel is
unravelled instead: after every noisy gate one Kraus operator K_k is drawn with probability ||K_k psi||^2 and the state
renormalised. Averages over ``repetitions`` trajectories converge to the exact density-matrix results with a standard
error of order 1/sqrt(repetitions). All trajectories run as one batch ``(repetitions, 2**n)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qas.sim.statevector import apply_matrix, zero_state

if TYPE_CHECKING:
    from qas.circuit import Circuit
    from qas.noise import Channel, NoiseModel


def _apply_channel(
    states: np.ndarray, channel: Channel, qubits: tuple[int, ...], n_qubits: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw one Kraus operator per trajectory with the Born probability and apply it, renormalised."""
    branches = np.stack([apply_matrix(states, k, qubits, n_qubits) for k in channel.kraus])  # (K, R, 2**n)
    weights = np.sum(np.abs(branches) ** 2, axis=-1)  # (K, R): probabilities, summing to 1 per trajectory
    cumulative = np.cumsum(weights, axis=0)
    draws = rng.random(states.shape[0]) * cumulative[-1]
    chosen = np.minimum((cumulative < draws).sum(axis=0), len(channel.kraus) - 1)
    rows = np.arange(states.shape[0])
    picked = branches[chosen, rows]
    return picked / np.sqrt(weights[chosen, rows])[:, None]


def sample_trajectories(
    circuit: Circuit,
    noise: NoiseModel,
    repetitions: int,
    *,
    seed: int | np.random.Generator | None = None,
    initial_state: np.ndarray | None = None,
    include_readout: bool = False,
) -> np.ndarray:
    """``repetitions`` pure final states ``(repetitions, 2**n)`` whose average |psi><psi| is the noisy mixed state."""
    rng = np.random.default_rng(seed)
    n = circuit.n_qubits
    if initial_state is None:
        states = zero_state(n, repetitions)
    else:
        states = np.repeat(np.asarray(initial_state, dtype=complex)[None], repetitions, axis=0)
    for o in circuit.operations:
        states = apply_matrix(states, o.matrix(), o.qubits, n)
        for channel, on in noise.channels_after(o.qubits):
            states = _apply_channel(states, channel, on, n, rng)
    if include_readout:
        for channel, on in noise.readout_channels(n):
            states = _apply_channel(states, channel, on, n, rng)
    return states


def density_from_trajectories(states: np.ndarray) -> np.ndarray:
    """The average of |psi><psi| over trajectories ``(R, 2**n)``."""
    return np.einsum("ri,rj->ij", states, states.conj()) / states.shape[0]
