"""The qsim backend: qsimcirq's AVX-vectorised C++ state-vector simulator, for whole circuits and large qubit counts.

At 16-20 qubits qsim is about 10-15x faster than ``cirq.Simulator`` (bench/simulators.py), but each call pays a fixed
Python-side translation of the Cirq program (~0.3-0.5 ms), so small circuits and single gates go to the numpy kernel.
qsim simulates noise by trajectories only; expectations under noise average ``repetitions`` of them.
Thread count is always set explicitly (``cpu_threads``), never left to qsim's default of one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cirq
import numpy as np
import qsimcirq

from qas.noise import NOISELESS, NoiseModel
from qas.sim import available_cores
from qas.sim.cirq_backend import MEASUREMENT_KEY, cirq_program

if TYPE_CHECKING:
    from qas.circuit import Circuit
    from qas.pauli import PauliSum


def simulator(
    *, seed: int | None = None, cpu_threads: int | None = None, noisy_repetitions: int = 1
) -> qsimcirq.QSimSimulator:
    """A seeded ``QSimSimulator`` with an explicit thread count."""
    options = qsimcirq.QSimOptions(cpu_threads=cpu_threads or available_cores(), ev_noisy_repetitions=noisy_repetitions)
    return qsimcirq.QSimSimulator(qsim_options=options, seed=seed)


def final_state(
    circuit: Circuit,
    initial_state: np.ndarray | None = None,
    *,
    seed: int | None = None,
    cpu_threads: int | None = None,
) -> np.ndarray:
    """The noiseless final state (qsim computes in complex64; returned as complex128)."""
    program, qubits = cirq_program(circuit)
    start = 0 if initial_state is None else np.asarray(initial_state, dtype=np.complex64)
    result = simulator(seed=seed, cpu_threads=cpu_threads).simulate(program, qubit_order=qubits, initial_state=start)
    return result.final_state_vector.astype(np.complex128)


def unitary(circuit: Circuit, *, cpu_threads: int | None = None) -> np.ndarray:
    """The unitary, column by column: qsim has no unitary mode, so each basis state is simulated (2**n calls)."""
    program, qubits = cirq_program(circuit)
    sim = simulator(cpu_threads=cpu_threads)
    columns = [
        sim.simulate(program, qubit_order=qubits, initial_state=j).final_state_vector
        for j in range(2**circuit.n_qubits)
    ]
    return np.stack(columns, axis=1).astype(np.complex128)


def to_cirq_pauli_sum(hamiltonian: PauliSum, qubits: list[cirq.LineQubit]) -> cirq.PauliSum:
    """The Hamiltonian as a ``cirq.PauliSum`` on ``qubits``."""
    paulis = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}
    return cirq.PauliSum.from_pauli_strings(
        cirq.PauliString({qubits[q]: paulis[p] for q, p in enumerate(term) if p != "I"}, coefficient=coeff)
        for coeff, term in hamiltonian.terms
    )


def expectation(
    circuit: Circuit,
    hamiltonian: PauliSum,
    noise: NoiseModel = NOISELESS,
    *,
    repetitions: int = 1000,
    seed: int | None = None,
    cpu_threads: int | None = None,
) -> float:
    """<H>: exact when noiseless; the mean over ``repetitions`` trajectories (readout noise included) when noisy."""
    if noise.is_noiseless:
        return hamiltonian.expectation(final_state(circuit, seed=seed, cpu_threads=cpu_threads))
    program, qubits = cirq_program(circuit, noise, include_readout=True)
    sim = simulator(seed=seed, cpu_threads=cpu_threads, noisy_repetitions=repetitions)
    values = sim.simulate_expectation_values(program, [to_cirq_pauli_sum(hamiltonian, qubits)], qubit_order=qubits)
    return float(np.real(values[0]))


def sample(
    circuit: Circuit,
    repetitions: int,
    noise: NoiseModel = NOISELESS,
    *,
    seed: int | None = None,
    cpu_threads: int | None = None,
) -> np.ndarray:
    """Measure every qubit ``repetitions`` times: bits ``(repetitions, n)``, column ``q`` is qubit ``q``."""
    program, _ = cirq_program(circuit, noise, include_readout=True, measure=True)
    result = simulator(seed=seed, cpu_threads=cpu_threads).run(program, repetitions=repetitions)
    return result.measurements[MEASUREMENT_KEY].astype(np.uint8)
