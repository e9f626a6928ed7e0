"""The numpy density-matrix kernel: exact noisy simulation for few qubits (the environments use it up to 8).

rho -> U rho U^dagger is done as two state-vector applications, U on the row index and conj(U) on the column index,
so it reuses :func:`qas.sim.statevector.apply_matrix` and costs O(4**n) per gate instead of a dense 4**n matmul.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from qas.sim.statevector import apply_matrix

if TYPE_CHECKING:
    from qas.circuit import Circuit
    from qas.noise import Channel, NoiseModel


def pure_density(state: np.ndarray) -> np.ndarray:
    """|psi><psi|."""
    return np.outer(state, state.conj())


def apply_unitary_density(rho: np.ndarray, matrix: np.ndarray, qubits: Sequence[int], n_qubits: int) -> np.ndarray:
    """U rho U^dagger for U = ``matrix`` on ``qubits``."""
    left = apply_matrix(rho.T, matrix, qubits, n_qubits).T  # U rho
    return apply_matrix(left, matrix.conj(), qubits, n_qubits)  # (U rho) U^dagger, row by row


def apply_channel_density(rho: np.ndarray, channel: Channel, qubits: Sequence[int], n_qubits: int) -> np.ndarray:
    """sum_k K rho K^dagger."""
    return sum(apply_unitary_density(rho, k, qubits, n_qubits) for k in channel.kraus)


def apply_noisy_operation(
    rho: np.ndarray, matrix: np.ndarray, qubits: tuple[int, ...], n_qubits: int, noise: NoiseModel
) -> np.ndarray:
    """One gate followed by the channels the noise model attaches to it."""
    rho = apply_unitary_density(rho, matrix, qubits, n_qubits)
    for channel, on in noise.channels_after(qubits):
        rho = apply_channel_density(rho, channel, on, n_qubits)
    return rho


def apply_readout_noise(rho: np.ndarray, noise: NoiseModel, n_qubits: int) -> np.ndarray:
    """The noise model's before-measurement channels on every qubit."""
    for channel, on in noise.readout_channels(n_qubits):
        rho = apply_channel_density(rho, channel, on, n_qubits)
    return rho


def final_density_matrix(
    circuit: Circuit, noise: NoiseModel, initial_state: np.ndarray | None = None, include_readout: bool = False
) -> np.ndarray:
    """The exact mixed state after ``circuit`` under ``noise``; readout noise only when ``include_readout``."""
    n = circuit.n_qubits
    if initial_state is None:
        rho = np.zeros((2**n, 2**n), dtype=complex)
        rho[0, 0] = 1.0
    else:
        init = np.asarray(initial_state, dtype=complex)
        rho = pure_density(init) if init.ndim == 1 else init
    for o in circuit.operations:
        rho = apply_noisy_operation(rho, o.matrix(), o.qubits, n, noise)
    return apply_readout_noise(rho, noise, n) if include_readout else rho
