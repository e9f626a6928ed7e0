"""Molecular Hamiltonians shipped with qas, as Pauli sums with their exact ground energies.

The data files in ``qas/data/molecules/`` are written by ``scripts/make_hamiltonians.py`` (pyscf + openfermion, the
``chem`` extra) and reproduce the CRLQAS benchmark set (arXiv:2402.03500): STO-3G, energies in Hartree with nuclear
repulsion (and, for LiH, the frozen Li 1s core) included in the identity term. LiH uses the active space of
orbitals 1, 2, 5 (the two pi orbitals removed) with 2 electrons, which gives CRLQAS' energies exactly.
Chemical accuracy is :data:`CHEMICAL_ACCURACY` Hartree.
"""

from __future__ import annotations

import difflib
import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

from qas.errors import UnknownTargetError
from qas.pauli import PauliSum, load_hamiltonian_file

CHEMICAL_ACCURACY = 1.6e-3
"""Hartree (1 kcal/mol)."""

MOLECULES: dict[str, str] = {
    "h2": "H2 0.7414 A, Jordan-Wigner, 4 qubits, 15 terms, E0 = -1.137270175",
    "h2-2q": "H2 0.7414 A, tapered, 2 qubits, 5 terms, E0 = -1.137270175",
    "lih4": "LiH 2.2 A, active space (1,2,5), tapered, 4 qubits, 100 terms, E0 = -7.844879093",
    "lih6": "LiH 2.2 A, active space (1,2,5), Jordan-Wigner, 6 qubits, 118 terms, E0 = -7.844879093",
    "lih4-3.4": "LiH 3.4 A, active space (1,2,5), tapered, 4 qubits, 100 terms, E0 = -7.789088898",
}
"""Shipped Hamiltonians: name -> one-line description."""


@functools.cache
def molecule_data(name: str) -> dict[str, Any]:
    """The full record of a shipped Hamiltonian (geometry, active space, mapping, terms, exact energy)."""
    if name not in MOLECULES:
        close = difflib.get_close_matches(str(name), MOLECULES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownTargetError(
            f"unknown molecule {name!r}.{hint} Shipped: {', '.join(MOLECULES)}; or give a .json file of Pauli terms"
        )
    text = resources.files("qas").joinpath("data", "molecules", f"{name}.json").read_text()
    return json.loads(text)


def load_hamiltonian(name: str | Path) -> tuple[PauliSum, float]:
    """(Hamiltonian, exact ground energy in Hartree) of a shipped molecule, or of a JSON file in the same format.

    A file needs ``terms`` (``{"XXII": 0.5, ...}``); its ``exact_energy`` is used when present, otherwise the lowest
    eigenvalue is computed.
    """
    if isinstance(name, Path) or str(name).endswith(".json"):
        hamiltonian, energy = load_hamiltonian_file(name)
        return hamiltonian, energy if energy is not None else hamiltonian.ground_energy()
    data = molecule_data(str(name))
    return PauliSum.from_dict(data["terms"]), float(data["exact_energy"])
