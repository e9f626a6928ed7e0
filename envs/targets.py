"""Resolve the environments' ``target=`` argument: a preset name, an array, or a ``.npy`` / text file.

Named targets: states ``bell``, ``ghz<n>`` (``ghz3``, ``ghz4``...), ``w<n>``; unitaries ``cx``-class two-qubit gates
and the registered gates by name (``cz``, ``swap``, ``ccx``, ``cswap``...), plus ``qft<n>``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from qas.errors import InputFileError, UnknownTargetError
from qas.gates import GATES
from qas.linalg import validate_state, validate_unitary


def ghz_state(n: int) -> np.ndarray:
    psi = np.zeros(2**n, dtype=complex)
    psi[0] = psi[-1] = 1 / np.sqrt(2)
    return psi


def w_state(n: int) -> np.ndarray:
    psi = np.zeros(2**n, dtype=complex)
    psi[[2**k for k in range(n)]] = 1 / np.sqrt(n)
    return psi


def qft_unitary(n: int) -> np.ndarray:
    d = 2**n
    j, k = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
    return np.exp(2j * np.pi * j * k / d) / np.sqrt(d)


_STATE_PATTERNS = {r"bell": lambda: ghz_state(2), r"ghz(\d+)": ghz_state, r"w(\d+)": w_state}
_UNITARY_PATTERNS = {r"qft(\d+)": qft_unitary}


def _load_file(text: str) -> np.ndarray | None:
    path = Path(text)
    if path.suffix not in (".npy", ".txt", ".csv"):
        return None
    if not path.is_file():
        raise InputFileError(f"target file {text} does not exist")
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False)
        return np.loadtxt(path, dtype=complex, delimiter="," if path.suffix == ".csv" else None)
    except (OSError, ValueError) as err:
        raise InputFileError(f"cannot read target file {text}: {err}") from None


def _named(text: str, patterns: dict) -> np.ndarray | None:
    for pattern, build in patterns.items():
        m = re.fullmatch(pattern, text)
        if m:
            args = [int(g) for g in m.groups()]
            if any(a < 2 or a > 12 for a in args):
                raise UnknownTargetError(f"target {text!r}: the qubit count must be between 2 and 12")
            return build(*args)
    return None


def resolve_state(target: object) -> tuple[np.ndarray, str]:
    """(state vector, display name) for a state target."""
    if isinstance(target, str):
        found = _named(target.lower(), _STATE_PATTERNS)
        if found is None:
            found = _load_file(target)
        if found is None:
            raise UnknownTargetError(
                f"unknown target state {target!r}: use bell, ghz<n>, w<n>, a .npy/.txt file, or an array"
            )
        return validate_state(found), target
    return validate_state(target), "custom"


def resolve_unitary(target: object) -> tuple[np.ndarray, str]:
    """(unitary, display name) for a unitary target."""
    if isinstance(target, str):
        name = target.lower()
        found = _named(name, _UNITARY_PATTERNS)
        if found is None and name in GATES and GATES[name].num_params == 0 and GATES[name].num_qubits >= 2:
            found = GATES[name].matrix()
        if found is None:
            found = _load_file(target)
        if found is None:
            gates = sorted(g for g, s in GATES.items() if s.num_params == 0 and s.num_qubits >= 2)
            raise UnknownTargetError(
                f"unknown target unitary {target!r}: use qft<n>, a gate name ({', '.join(gates)}), a .npy/.txt file,"
                " or an array"
            )
        return validate_unitary(found), target
    return validate_unitary(target), "custom"
