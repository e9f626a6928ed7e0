"""Shipped molecular Hamiltonians reproduce the exact (CRLQAS benchmark) ground energies."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qas.errors import UnknownTargetError
from qas.molecules import CHEMICAL_ACCURACY, MOLECULES, load_hamiltonian, molecule_data
from qas.sim.statevector import zero_state

# Published values (CRLQAS npz Hamiltonians, nuclear repulsion included), Hartree.
EXPECTED = {
    "h2": (4, 15, -1.137270175),
    "h2-2q": (2, 5, -1.137270175),
    "lih4": (4, 100, -7.844879093),
    "lih6": (6, 118, -7.844879093),
    "lih4-3.4": (4, 100, -7.789088898),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hamiltonian_reproduces_exact_energy(name: str) -> None:
    n_qubits, n_terms, energy = EXPECTED[name]
    hamiltonian, exact = load_hamiltonian(name)
    assert hamiltonian.n_qubits == n_qubits and len(hamiltonian.terms) == n_terms
    assert hamiltonian.ground_energy() == pytest.approx(energy, abs=1e-6)
    assert exact == pytest.approx(energy, abs=1e-6)


def test_every_listed_molecule_is_shipped() -> None:
    assert set(MOLECULES) == set(EXPECTED)
    for name in MOLECULES:
        assert molecule_data(name)["name"] == name


def test_h2_hartree_fock_state_is_0_0206_above_ground() -> None:
    hamiltonian, exact = load_hamiltonian("h2")
    hf = np.zeros(16)
    hf[0b1100] = 1.0  # spin orbitals 0 and 1 occupied (Jordan-Wigner, qubit 0 most significant)
    assert hamiltonian.expectation(hf) - exact == pytest.approx(0.02059, abs=2e-5)
    assert hamiltonian.expectation(hf) - exact > CHEMICAL_ACCURACY


def test_h2_ground_state_is_double_excitation() -> None:
    hamiltonian, exact = load_hamiltonian("h2")
    _, vecs = np.linalg.eigh(hamiltonian.matrix())
    ground = vecs[:, 0]
    weights = np.abs(ground) ** 2
    assert weights[0b1100] == pytest.approx(0.9936**2, abs=1e-3) and weights[0b0011] == pytest.approx(
        0.1128**2, abs=1e-3
    )
    assert hamiltonian.expectation(zero_state(4)) > exact


def test_json_file_and_unknown_name(tmp_path) -> None:
    path = tmp_path / "toy.json"
    path.write_text(json.dumps({"terms": {"ZI": 1.0, "IZ": 0.5}}))
    _, exact = load_hamiltonian(str(path))
    assert exact == pytest.approx(-1.5)
    with pytest.raises(UnknownTargetError, match=r"unknown molecule 'h2-3q'\. Did you mean 'h2-2q'"):
        load_hamiltonian("h2-3q")
    with pytest.raises(UnknownTargetError, match=r"Shipped: h2, .*; or give a \.json file of Pauli terms$"):
        load_hamiltonian("ZZ+XX")
