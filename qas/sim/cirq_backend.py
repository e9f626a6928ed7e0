"""The Cirq backend: ``cirq.Simulator`` and ``cirq.DensityMatrixSimulator`` as the reference implementation.

Slow (about 1.5 ms per small circuit, peer-measurements.md) but independent of qas's own kernels, so the tests use it
to check every other backend, and its density-matrix simulator is the exact reference for noise. It also builds the
Cirq programs the qsim backend runs (:func:`cirq_program`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cirq
import numpy as np

from qas.noise import NOISELESS, NoiseModel

if TYPE_CHECKING:
    from qas.circuit import Circuit
    from qas.pauli import PauliSum

MEASUREMENT_KEY = "m"


def cirq_program(
    circuit: Circuit, noise: NoiseModel = NOISELESS, *, include_readout: bool = False, measure: bool = False
) -> tuple[cirq.Circuit, list[cirq.LineQubit]]:
    """The circuit as a Cirq program on ``LineQubit(0 .. n-1)``, with its noise channels and optional measurement.

    Readout noise (``noise.before_measurement``) is added only with ``include_readout``, as a last moment of channels.
    Every qubit is returned in order, idle ones included, to pass as ``qubit_order``.
    """
    qubits = cirq.LineQubit.range(circuit.n_qubits)
    program = circuit.to_cirq()
    if not noise.is_noiseless:
        program = cirq.Circuit(noise.to_cirq(qubits).noisy_moments(program.moments, qubits))
    if include_readout:
        program += cirq.Moment(ch.to_cirq().on(qubits[q]) for ch, (q,) in noise.readout_channels(circuit.n_qubits))
    if measure:
        program += cirq.measure(*qubits, key=MEASUREMENT_KEY)
    return program, qubits


def final_state(circuit: Circuit, initial_state: np.ndarray | None = None, *, seed: int | None = None) -> np.ndarray:
    """The noiseless final state (complex128)."""
    program, qubits = cirq_program(circuit)
    start = 0 if initial_state is None else np.asarray(initial_state, dtype=np.complex128)
    result = cirq.Simulator(dtype=np.complex128, seed=seed).simulate(program, qubit_order=qubits, initial_state=start)
    return result.final_state_vector


def unitary(circuit: Circuit) -> np.ndarray:
    """The circuit's unitary (``cirq.unitary``)."""
    program, qubits = cirq_program(circuit)
    return program.unitary(qubit_order=qubits, qubits_that_should_be_present=qubits)


def final_density_matrix(
    circuit: Circuit,
    noise: NoiseModel,
    initial_state: np.ndarray | None = None,
    *,
    include_readout: bool = False,
    seed: int | None = None,
) -> np.ndarray:
    """The exact noisy mixed state (``cirq.DensityMatrixSimulator``, complex128)."""
    program, qubits = cirq_program(circuit, noise, include_readout=include_readout)
    start = 0 if initial_state is None else np.asarray(initial_state, dtype=np.complex128)
    simulator = cirq.DensityMatrixSimulator(dtype=np.complex128, seed=seed)
    return simulator.simulate(program, qubit_order=qubits, initial_state=start).final_density_matrix


def expectation(
    circuit: Circuit, hamiltonian: PauliSum, noise: NoiseModel = NOISELESS, *, seed: int | None = None
) -> float:
    """<H> exactly: on the final state, or on the density matrix (readout noise included) when noisy."""
    if noise.is_noiseless:
        return hamiltonian.expectation(final_state(circuit, seed=seed))
    return hamiltonian.expectation(final_density_matrix(circuit, noise, include_readout=True, seed=seed))


def sample(circuit: Circuit, repetitions: int, noise: NoiseModel = NOISELESS, *, seed: int | None = None) -> np.ndarray:
    """Measure every qubit ``repetitions`` times: bits ``(repetitions, n)``, column ``q`` is qubit ``q``."""
    program, _ = cirq_program(circuit, noise, include_readout=True, measure=True)
    simulator = cirq.Simulator(seed=seed) if noise.is_noiseless else cirq.DensityMatrixSimulator(seed=seed)
    return simulator.run(program, repetitions=repetitions).measurements[MEASUREMENT_KEY].astype(np.uint8)
