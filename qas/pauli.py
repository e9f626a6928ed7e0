"""Hamiltonians as plain Pauli sums, with fast expectation values on state vectors.

A :class:`PauliSum` is a tuple of (coefficient, Pauli string) terms; the string's character ``k`` acts on qubit ``k``
(Cirq's order: qubit 0 is the most significant bit of a basis index). Expectations use the bit-flip form
``P|b> = phase(b) |b xor xmask>``, vectorised over all terms, which is exact and needs no dense matrix.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from qas.errors import InputFileError, InvalidHamiltonianError
from qas.files import read_text_file
from qas.settings import is_finite_number

_PAULI_RE = re.compile(r"^[IXYZ]+$")


@dataclass(frozen=True)
class PauliSum:
    """sum_k c_k P_k with real coefficients; ``n_qubits`` is the length of every Pauli string."""

    n_qubits: int
    terms: tuple[tuple[float, str], ...]

    def __post_init__(self) -> None:
        if not self.terms:
            raise InvalidHamiltonianError("Hamiltonian has no terms")
        clean = []
        for coeff, pauli in self.terms:
            if not isinstance(pauli, str) or not _PAULI_RE.match(pauli):
                raise InvalidHamiltonianError(f"bad Pauli string {pauli!r}: use only the letters I, X, Y, Z")
            if len(pauli) != self.n_qubits:
                raise InvalidHamiltonianError(
                    f"Pauli string {pauli!r} has length {len(pauli)}, expected {self.n_qubits} qubits"
                )
            try:
                c: complex | None = complex(coeff)
            except (TypeError, ValueError):  # text or a list from a JSON file
                c = None
            if c is None or not np.isfinite(c) or abs(c.imag) > 1e-12:
                raise InvalidHamiltonianError(f"coefficient of {pauli} must be a finite real number, got {coeff!r}")
            clean.append((float(c.real), pauli))
        object.__setattr__(self, "terms", tuple(clean))

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> PauliSum:
        """From ``{"XXII": 0.5, "ZIII": -0.2, ...}``."""
        if not data:
            raise InvalidHamiltonianError("Hamiltonian has no terms")
        n = len(next(iter(data)))
        return cls(n, tuple((c, p) for p, c in data.items()))  # __post_init__ checks and converts the coefficients

    @cached_property
    def _tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(coefficients (T,), flip masks (T,), phases (T, 2**n)) for the bit-flip expectation."""
        n = self.n_qubits
        idx = np.arange(2**n)
        coeffs = np.array([c for c, _ in self.terms])
        masks = np.zeros(len(self.terms), dtype=np.int64)
        phases = np.ones((len(self.terms), 2**n), dtype=complex)
        for t, (_, pauli) in enumerate(self.terms):
            for q, p in enumerate(pauli):
                bit = (idx >> (n - 1 - q)) & 1
                if p in "XY":
                    masks[t] |= 1 << (n - 1 - q)
                if p == "Z":
                    phases[t] *= 1 - 2 * bit
                elif p == "Y":
                    # (P psi)(b) = phase(b) psi(b ^ m); Y|0> = i|1> and Y|1> = -i|0>, so phase is i where b has a 1.
                    phases[t] *= np.where(bit == 1, 1j, -1j)
        return coeffs, masks, phases

    def expectation(self, state: np.ndarray) -> float:
        """<psi|H|psi> for a state vector, or Tr(rho H) for a density matrix."""
        coeffs, masks, phases = self._tables
        idx = np.arange(2**self.n_qubits)
        if state.ndim == 2:
            # P = sum_b phase(b) |b><b ^ m|, so Tr(rho P) = sum_b phase(b) rho[b ^ m, b].
            vals = [np.sum(phases[t] * state[idx ^ m, idx]) for t, m in enumerate(masks)]
            return float(np.real(np.dot(coeffs, vals)))
        # <psi|P|psi> = sum_b conj(psi[b]) phase(b) psi[b ^ m]
        flipped = state[idx[None, :] ^ masks[:, None]]
        vals = np.einsum("b,tb,tb->t", state.conj(), phases, flipped)
        return float(np.real(coeffs @ vals))

    def matrix(self) -> np.ndarray:
        """The dense Hermitian matrix (only sensible for a few qubits)."""
        coeffs, masks, phases = self._tables
        dim = 2**self.n_qubits
        idx = np.arange(dim)
        h = np.zeros((dim, dim), dtype=complex)
        for c, m, ph in zip(coeffs, masks, phases, strict=True):
            h[idx, idx ^ m] += c * ph
        return h

    def ground_energy(self) -> float:
        """The exact lowest eigenvalue (dense diagonalisation)."""
        return float(np.linalg.eigvalsh(self.matrix())[0])

    def ground_state(self) -> np.ndarray:
        """An eigenvector of the lowest eigenvalue (dense diagonalisation); real where the matrix is, as molecular
        Hamiltonians' are, so preparing it needs no phases. For a degenerate ground space, one of its vectors."""
        matrix = self.matrix()
        if np.allclose(matrix.imag, 0):
            return np.linalg.eigh(matrix.real)[1][:, 0].astype(complex)
        return np.linalg.eigh(matrix)[1][:, 0]


def load_hamiltonian_file(path: str | Path) -> tuple[PauliSum, float | None]:
    """(Hamiltonian, exact ground energy if the file states one) from a JSON file holding
    ``{"terms": {"XXII": 0.5, ...}, "exact_energy": -1.137}`` (``exact_energy`` optional) or the terms mapping itself.
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise InputFileError(f"cannot read Hamiltonian {path}: expected a .json file of Pauli terms")
    text = read_text_file(path, "Hamiltonian")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidHamiltonianError(f"Hamiltonian file {path} is not valid JSON: {err}") from None
    terms = data.get("terms", data) if isinstance(data, dict) else data
    if not isinstance(terms, dict):
        raise InvalidHamiltonianError(
            f"Hamiltonian file {path} must map Pauli strings to coefficients, got a JSON {type(terms).__name__}"
        )
    exact = data.get("exact_energy") if "terms" in data else None
    if exact is not None and not is_finite_number(exact):
        raise InvalidHamiltonianError(f"exact_energy in {path} must be a finite number, got {exact!r}")
    return PauliSum.from_dict(terms), None if exact is None else float(exact)
