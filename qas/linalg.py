"""Validation of user-supplied states and unitaries, the fidelities every score uses, angle wrapping, and the index
map that writes a gate on some qubits as a full matrix."""

from __future__ import annotations

import math

import numpy as np

from qas.errors import InvalidStateError, InvalidUnitaryError

# Tolerances for accepting user input: loose enough for float32 data and text files with 8 decimals. Input accepted
# within them is handed on exactly unitary (normalised): Cirq's synthesis checks unitarity to 1e-8 and refused a
# complex64 unitary that qas had accepted.
UNITARY_ATOL = 1e-6
NORM_ATOL = 1e-6
_EXACT = 1e-12  # deviations below this are float64 rounding, left as they are


def num_qubits_for_dim(dim: int) -> int | None:
    """log2(dim) when dim is a power of two >= 2, else None."""
    n = round(math.log2(dim)) if dim > 0 else 0
    return n if n >= 1 and 2**n == dim else None


def validate_unitary(matrix: object, n_qubits: int | None = None) -> np.ndarray:
    """Return ``matrix`` as a complex128 array, or raise :class:`InvalidUnitaryError` naming what is wrong."""
    try:
        u = np.asarray(matrix, dtype=complex)
    except (TypeError, ValueError) as err:
        raise InvalidUnitaryError(f"target is not a numeric matrix: {err}") from None
    if u.ndim != 2 or u.shape[0] != u.shape[1]:
        raise InvalidUnitaryError(f"target must be a square matrix, got shape {u.shape}")
    n = num_qubits_for_dim(u.shape[0])
    if n is None:
        raise InvalidUnitaryError(f"target size {u.shape[0]} is not a power of two >= 2")
    if n_qubits is not None and n != n_qubits:
        raise InvalidUnitaryError(
            f"target is a {n}-qubit unitary ({u.shape[0]}x{u.shape[0]}), expected {n_qubits} qubits"
        )
    if not np.all(np.isfinite(u)):
        raise InvalidUnitaryError("target contains NaN or inf")
    err = float(np.max(np.abs(u.conj().T @ u - np.eye(u.shape[0]))))
    if err > UNITARY_ATOL:
        raise InvalidUnitaryError(f"target is not unitary: max |U^dagger U - I| = {err:.3g} (tolerance {UNITARY_ATOL})")
    if err > _EXACT:
        left, _, right = np.linalg.svd(u)
        u = left @ right  # the nearest unitary (the polar factor)
    return u


def validate_state(vector: object, n_qubits: int | None = None) -> np.ndarray:
    """Return ``vector`` as a complex128 state, or raise :class:`InvalidStateError` naming what is wrong."""
    try:
        psi = np.asarray(vector, dtype=complex)
    except (TypeError, ValueError) as err:
        raise InvalidStateError(f"target state is not a numeric vector: {err}") from None
    psi = psi.reshape(-1) if psi.ndim == 2 and 1 in psi.shape else psi
    if psi.ndim != 1:
        raise InvalidStateError(f"target state must be a vector, got shape {psi.shape}")
    n = num_qubits_for_dim(psi.shape[0])
    if n is None:
        raise InvalidStateError(f"state length {psi.shape[0]} is not a power of two >= 2")
    if n_qubits is not None and n != n_qubits:
        raise InvalidStateError(f"state has {n} qubits (length {psi.shape[0]}), expected {n_qubits}")
    if not np.all(np.isfinite(psi)):
        raise InvalidStateError("target state contains NaN or inf")
    norm = float(np.linalg.norm(psi))
    if abs(norm - 1) > NORM_ATOL:
        raise InvalidStateError(f"target state is not normalised: norm = {norm:.6g}")
    return psi / norm if abs(norm - 1) > _EXACT else psi


def state_fidelity(target: np.ndarray, state: np.ndarray) -> float:
    """|<target|state>|^2 for a pure state, or <target|rho|target> for a density matrix."""
    if state.ndim == 2:
        return float(np.real(target.conj() @ state @ target))
    return float(abs(np.vdot(target, state)) ** 2)


def unitary_fidelity(target: np.ndarray, unitary: np.ndarray) -> float:
    """Hilbert-Schmidt fidelity |Tr(U^dagger V)|^2 / d^2: 1 exactly when V equals U up to a global phase."""
    d = target.shape[0]
    return float(abs(np.vdot(target, unitary)) ** 2 / d**2)


def wrap_angle(angle: float) -> float:
    """``angle`` in (-pi, pi] (so a half turn reads pi, as in ``u3(pi, 0, pi)`` for X)."""
    wrapped = (angle + math.pi) % (2 * math.pi) - math.pi
    return math.pi if wrapped == -math.pi else wrapped


def embedding_permutation(qubits: tuple[int, ...], n_qubits: int) -> np.ndarray:
    """Index map ``perm`` with ``full[i, j] = (G kron I)[perm[i], perm[j]]`` for a gate ``G`` on ``qubits`` of
    ``n_qubits`` (qubit 0 the most significant bit): the gate's qubits moved to the top, the others after them."""
    order = list(qubits) + [q for q in range(n_qubits) if q not in qubits]
    bits = (np.arange(2**n_qubits)[:, None] >> (n_qubits - 1 - np.arange(n_qubits))) & 1  # (2^n, n)
    return (bits[:, order] * (1 << (n_qubits - 1 - np.arange(n_qubits)))).sum(axis=1)
