"""Generate the molecular qubit Hamiltonians shipped in ``qas/data/molecules/`` (or any other molecule).

Needs the ``chem`` extra (``pip install "qas[chem]"``: openfermion + pyscf); the package and its tests only read the
JSON files this writes. Pipeline: pyscf RHF in STO-3G -> CASCI active space (frozen core orbitals folded into a
constant and an effective one-body term) -> openfermion fermion operator -> Jordan-Wigner, or the symmetry-conserving
Bravyi-Kitaev transform, which tapers off two qubits using particle number and spin parity (the same spectrum in the
physical sector as Qiskit's parity mapping with two-qubit reduction). Every Hamiltonian's lowest eigenvalue is checked
against pyscf's CASCI energy (nuclear repulsion included) before it is written.

    .venv/bin/python scripts/make_hamiltonians.py                      # regenerate the shipped set
    .venv/bin/python scripts/make_hamiltonians.py --name lih-1.6 --atoms "Li 0 0 0; H 0 0 1.6" \\
        --active 1,2,5 --electrons 2 --mapping jordan-wigner          # any molecule and geometry
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openfermion as of
import pyscf
from openfermion.chem.molecular_data import spinorb_from_spatial
from pyscf import ao2mo, gto, mcscf, scf

from qas.pauli import PauliSum

OUT_DIR = Path(__file__).resolve().parents[1] / "qas" / "data" / "molecules"
MAPPINGS = ("jordan-wigner", "tapered")


@dataclass(frozen=True)
class Spec:
    """One Hamiltonian to build: geometry (Angstrom), active spatial orbitals (0-based, by RHF energy) and electrons."""

    name: str
    description: str
    atoms: str
    active: tuple[int, ...] | None  # None: every orbital, no frozen core
    electrons: int
    mapping: str


# The CRLQAS benchmark set (arXiv:2402.03500). LiH: frozen Li 1s core, active orbitals 1, 2, 5 (the two pi orbitals
# 3, 4 removed), 2 electrons; this reproduces CRLQAS' -7.844879093 Ha (2.2 A) and -7.789088898 Ha (3.4 A) exactly.
SHIPPED = (
    Spec("h2", "H2 0.7414 A STO-3G, Jordan-Wigner, 4 qubits", "H 0 0 0; H 0 0 0.7414", None, 2, "jordan-wigner"),
    Spec("h2-2q", "H2 0.7414 A STO-3G, tapered to 2 qubits", "H 0 0 0; H 0 0 0.7414", None, 2, "tapered"),
    Spec(
        "lih4",
        "LiH 2.2 A STO-3G, active space (1,2,5), tapered, 4 qubits",
        "Li 0 0 0; H 0 0 2.2",
        (1, 2, 5),
        2,
        "tapered",
    ),
    Spec(
        "lih6",
        "LiH 2.2 A STO-3G, active space (1,2,5), Jordan-Wigner, 6 qubits",
        "Li 0 0 0; H 0 0 2.2",
        (1, 2, 5),
        2,
        "jordan-wigner",
    ),
    Spec(
        "lih4-3.4",
        "LiH 3.4 A STO-3G, active space (1,2,5), tapered, 4 qubits",
        "Li 0 0 0; H 0 0 3.4",
        (1, 2, 5),
        2,
        "tapered",
    ),
)


def fermion_hamiltonian(spec: Spec) -> tuple[of.FermionOperator, int, float]:
    """(second-quantised Hamiltonian on the active spin orbitals, number of spin orbitals, CASCI energy)."""
    mol = gto.M(atom=spec.atoms, basis="sto-3g", unit="Angstrom", verbose=0)
    mf = scf.RHF(mol).run()
    active = spec.active if spec.active is not None else tuple(range(mol.nao))
    cas = mcscf.CASCI(mf, len(active), spec.electrons)
    mo = cas.sort_mo([a + 1 for a in active])  # sort_mo counts from 1
    energy = float(cas.kernel(mo)[0])
    h1, constant = cas.get_h1eff(mo)  # frozen core folded in; constant includes nuclear repulsion
    eri = ao2mo.restore(1, cas.get_h2eff(mo), len(active))  # (pq|rs) over the active orbitals
    # pyscf's chemists' (pq|rs) -> openfermion's physicists' order <pq|sr> (as openfermionpyscf does).
    one_body, two_body = spinorb_from_spatial(h1, np.asarray(eri.transpose(0, 2, 3, 1), order="C"))
    operator = of.InteractionOperator(float(constant), one_body, 0.5 * two_body)
    return of.get_fermion_operator(operator), 2 * len(active), energy


def qubit_terms(
    fermion: of.FermionOperator, n_modes: int, electrons: int, mapping: str
) -> tuple[int, dict[str, float]]:
    """(qubits, {Pauli string: real coefficient}) with character k acting on qubit k."""
    if mapping == "jordan-wigner":
        qubit_op, n_qubits = of.jordan_wigner(fermion), n_modes
    else:
        qubit_op, n_qubits = of.symmetry_conserving_bravyi_kitaev(fermion, n_modes, electrons), n_modes - 2
    qubit_op.compress(1e-12)
    terms: dict[str, float] = {}
    for term, coeff in qubit_op.terms.items():
        chars = ["I"] * n_qubits
        for q, p in term:
            chars[q] = p
        if abs(complex(coeff).imag) > 1e-10:
            raise ValueError(f"non-Hermitian term {term}: {coeff}")
        # 12 decimals: far below chemical accuracy, and it keeps regenerated files identical across BLAS builds.
        value = round(float(complex(coeff).real), 12)
        if value:
            terms["".join(chars)] = value
    return n_qubits, terms


def build(spec: Spec) -> dict:
    if spec.mapping not in MAPPINGS:
        raise ValueError(f"mapping must be one of {MAPPINGS}")
    fermion, n_modes, casci_energy = fermion_hamiltonian(spec)
    n_qubits, terms = qubit_terms(fermion, n_modes, spec.electrons, spec.mapping)
    exact = PauliSum.from_dict(terms).ground_energy()
    if abs(exact - casci_energy) > 1e-8:
        # A Jordan-Wigner Hamiltonian spans every electron number; its minimum must still be the physical one.
        raise ValueError(f"{spec.name}: lowest eigenvalue {exact:.10f} differs from CASCI {casci_energy:.10f}")
    return {
        "name": spec.name,
        "description": spec.description,
        "atoms_angstrom": spec.atoms,
        "basis": "sto-3g",
        "active_orbitals": list(spec.active) if spec.active is not None else "all",
        "active_electrons": spec.electrons,
        "mapping": spec.mapping,
        "n_qubits": n_qubits,
        "exact_energy": round(exact, 12),
        "energy_note": "lowest eigenvalue, Hartree, nuclear repulsion and frozen-core energy included (= CASCI)",
        "generator": f"scripts/make_hamiltonians.py: pyscf {pyscf.__version__}, openfermion {of.__version__}",
        "terms": dict(sorted(terms.items())),
    }


def write(data: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{data['name']}.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", help="file name (without .json); omit to regenerate the shipped set")
    parser.add_argument("--atoms", help='pyscf geometry in Angstrom, e.g. "H 0 0 0; H 0 0 0.74"')
    parser.add_argument("--active", help="comma-separated active spatial orbitals (0-based); default: all")
    parser.add_argument("--electrons", type=int, help="active electrons; default: all electrons (no frozen core)")
    parser.add_argument("--mapping", choices=MAPPINGS, default="jordan-wigner")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    if args.name is None:
        specs = list(SHIPPED)
    else:
        if not args.atoms:
            parser.error("--atoms is required with --name")
        active = tuple(int(a) for a in args.active.split(",")) if args.active else None
        electrons = args.electrons or gto.M(atom=args.atoms, basis="sto-3g", verbose=0).nelectron
        specs = [Spec(args.name, f"{args.atoms} STO-3G, {args.mapping}", args.atoms, active, electrons, args.mapping)]
    for spec in specs:
        data = build(spec)
        path = write(data, args.out)
        print(f"{path}: {data['n_qubits']} qubits, {len(data['terms'])} terms, E0 = {data['exact_energy']:.9f} Ha")


if __name__ == "__main__":
    main()
