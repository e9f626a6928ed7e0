"""The incremental simulation register the environments step: a batch of flat vectors, one gate at a time.

One mechanism covers the four cases an environment meets, so a step is always exactly one kernel call:

- noiseless state preparation: the state vector on the ``n`` system qubits;
- noiseless unitary compilation: the Choi state ``(V ⊗ I)|Φ+>`` on ``n`` system plus ``n`` reference qubits, whose
  overlap with ``(T ⊗ I)|Φ+>`` is exactly the Hilbert-Schmidt fidelity ``|Tr(T^dagger V)|^2 / d^2``;
- noisy versions of both: the density matrix of that pure register, vectorised row-major, so ``rho`` is itself a
  "state" on twice as many qubits (row qubits first, then column qubits). A gate ``U`` followed by its noise channels
  becomes one superoperator ``sum_k K_k U ⊗ conj(K_k U)`` acting on the gate's row and column qubits.

Every gate's (super)operator is built once per action and cached by the caller, so a step is one
:func:`qas.sim.statevector.apply_matrix` call per distinct action taken in the batch. The density path is exact,
which fixes the published Kuo code's single-trajectory noisy fidelity.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from qas.errors import QasError
from qas.noise import Channel, NoiseModel
from qas.sim.statevector import apply_matrix

# Exact density matrices cost 4**n memory per episode; beyond this many system qubits use a noiseless env.
MAX_NOISY_QUBITS = 8


def _bloch_map(channel: Channel) -> tuple[np.ndarray, np.ndarray]:
    """A one-qubit channel as the affine map ``r -> M r + c`` of Bloch vectors (r = (<X>, <Y>, <Z>))."""
    paulis = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])]

    def apply(rho: np.ndarray) -> np.ndarray:
        return sum(k @ rho @ k.conj().T for k in channel.kraus)

    def expect(rho: np.ndarray) -> np.ndarray:
        return np.array([np.trace(p @ rho).real for p in paulis])

    c = expect(apply(np.eye(2) / 2))
    m = np.stack([expect(apply(p / 2)) for p in paulis], axis=1)
    return m, c


class Register:
    """What an episode evolves, for ``n_qubits`` system qubits under ``noise``.

    Args:
        n_qubits: system qubits the circuit acts on.
        noise: the noise model; gate noise makes the register a density matrix, readout noise alone does not
            (it only affects measured observations, see :meth:`pauli_expectations`).
        with_reference: add ``n_qubits`` reference qubits holding a maximally entangled partner (unitary tasks).
    """

    def __init__(self, n_qubits: int, noise: NoiseModel, *, with_reference: bool = False) -> None:
        self.n_qubits = n_qubits
        self.noise = noise
        self.mixed = noise.after_one_qubit is not None or noise.after_two_qubit is not None
        self.n_pure = 2 * n_qubits if with_reference else n_qubits
        if self.mixed and self.n_pure > MAX_NOISY_QUBITS:
            raise QasError(
                f"exact noisy simulation holds a density matrix of {self.n_pure} qubits; at most {MAX_NOISY_QUBITS}"
                " are supported (a noisy unitary task counts its reference qubits too)"
            )
        self.n_vec = 2 * self.n_pure if self.mixed else self.n_pure
        self.with_reference = with_reference
        self._readout_bloch = None if noise.before_measurement is None else _bloch_map(noise.before_measurement)

    @property
    def dim(self) -> int:
        """Dimension of the pure register (system and reference qubits)."""
        return 2**self.n_pure

    def initial(self, batch: int) -> np.ndarray:
        """``batch`` copies of the starting register: |0..0>, or |Φ+> with a reference; (batch, 2**n_vec)."""
        pure = np.zeros(self.dim, dtype=complex)
        if self.with_reference:
            d = 2**self.n_qubits
            pure[np.arange(d) * d + np.arange(d)] = 1 / np.sqrt(d)  # sum_i |i>_sys |i>_ref / sqrt(d)
        else:
            pure[0] = 1.0
        flat = np.outer(pure, pure.conj()).reshape(-1) if self.mixed else pure
        return np.tile(flat, (batch, 1))

    def operator(self, matrix: np.ndarray, qubits: Sequence[int]) -> tuple[np.ndarray, tuple[int, ...]]:
        """The (super)operator for one gate plus its noise, and the register qubits it acts on."""
        qubits = tuple(qubits)
        if not self.mixed:
            return np.asarray(matrix, dtype=complex), qubits
        k = len(qubits)
        # Build the superoperator column by column: evolve every basis "state" of the gate's 2k local qubits.
        ops = np.eye(4**k, dtype=complex)
        ops = apply_matrix(ops, matrix, range(k), 2 * k)
        ops = apply_matrix(ops, matrix.conj(), range(k, 2 * k), 2 * k)
        for channel, on in self.noise.channels_after(qubits):
            local = [qubits.index(q) for q in on]
            ops = sum(
                apply_matrix(apply_matrix(ops, kraus, local, 2 * k), kraus.conj(), [k + q for q in local], 2 * k)
                for kraus in channel.kraus
            )
        return ops.T, qubits + tuple(self.n_pure + q for q in qubits)

    def apply(self, states: np.ndarray, operator: np.ndarray, qubits: Sequence[int]) -> np.ndarray:
        """The same operator on every row of ``states``."""
        return apply_matrix(states, operator, qubits, self.n_vec)

    def densities(self, states: np.ndarray) -> np.ndarray:
        """The rows as density matrices (batch, dim, dim); only for a mixed register."""
        return states.reshape(-1, self.dim, self.dim)

    def fidelity(self, states: np.ndarray, target: np.ndarray) -> np.ndarray:
        """<t|rho|t> (or |<t|psi>|^2) of every row against a pure target on the register; shape (batch,)."""
        if self.mixed:
            return np.real(np.einsum("i,bij,j->b", target.conj(), self.densities(states), target))
        return np.abs(states @ target.conj()) ** 2

    def pauli_expectations(self, states: np.ndarray) -> np.ndarray:
        """``<X_q>, <Y_q>, <Z_q>`` of every system qubit after readout noise: (batch, n_qubits, 3).

        With ``P = sum_b phase(b) |b><b ^ m|`` (as in :mod:`qas.pauli`), ``<P> = sum_b phase(b) g(b)`` where
        ``g(b) = conj(psi_b) psi_{b^m}`` for a state and ``rho[b^m, b]`` for a density matrix: one gather each.
        """
        flips, y_phase, z_sign = self._pauli_tables
        if self.mixed:
            pairs = states[:, flips]  # (batch, n, dim): rho[b ^ m_q, b]
            diagonal = states[:, :: self.dim + 1].real
        else:
            pairs = states.conj()[:, None, :] * states[:, flips // self.dim]
            diagonal = np.abs(states) ** 2
        x = pairs.real.sum(axis=2)
        y = (pairs * y_phase).real.sum(axis=2)
        z = diagonal @ z_sign
        xyz = np.stack([x, y, z], axis=2)
        if self._readout_bloch is not None:
            m, c = self._readout_bloch
            xyz = xyz @ m.T + c
        return xyz

    @functools.cached_property
    def _pauli_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flat gather indices ``(b ^ m_q) * dim + b``, Y phases (n, dim) and Z signs (dim, n) of the system qubits."""
        b = np.arange(self.dim)
        bits = np.stack([(b >> (self.n_pure - 1 - q)) & 1 for q in range(self.n_qubits)])  # (n, dim)
        masks = 1 << (self.n_pure - 1 - np.arange(self.n_qubits))
        flips = (b[None, :] ^ masks[:, None]) * self.dim + b[None, :]
        # Y|0> = i|1>, Y|1> = -i|0>: phase(b) = i where qubit q of b is 1, else -i.
        y_phase = np.where(bits == 1, 1j, -1j)
        return flips, y_phase, (1 - 2 * bits).T.astype(float)
