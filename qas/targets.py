"""Named targets and the task syntax shared by the CLI, the Python API and the run configs.

``parse_task`` reads ``KIND:TARGET``:

- ``state:bell``, ``state:ghz3``, ``state:ghz4``, ``state:w3`` (``ghz<n>``, ``w<n>`` for 2-12 qubits), or
  ``state:FILE.npy`` / ``FILE.txt`` / ``FILE.csv`` holding the amplitudes;
- ``unitary:cnot``, ``unitary:toffoli``, ``unitary:fredkin``, ``unitary:qft2``, ``unitary:qft3`` (``qft<n>``), any
  parameter-free registered gate (``cz``, ``swap``, ``ccx``...), ``unitary:FILE.npy`` / ``.txt`` / ``.csv``, or the
  unitary of a circuit, ``unitary:FILE.qasm`` / ``.json`` (to re-synthesise it in other gates);
- ``ground-state:h2`` (molecule names from :func:`qas.molecules.load_hamiltonian`) or ``ground-state:FILE.json`` holding
  ``{"terms": {"XXII": 0.5, ...}}`` and optionally ``"exact_energy"``.

Conventions are Cirq's (big-endian: qubit 0 is the most significant bit). Text files are read by ``numpy.loadtxt`` with
complex entries written like ``0.7071+0j``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from qas.circuit import CIRCUIT_SUFFIXES, Circuit, load_circuit
from qas.errors import InputFileError, InvalidUnitaryError, UnknownTargetError
from qas.gates import GATES
from qas.linalg import validate_state, validate_unitary
from qas.noise import NoiseModel, as_noise_model
from qas.pauli import PauliSum, load_hamiltonian_file
from qas.tasks import GroundState, StatePreparation, Task, UnitarySynthesis

MAX_NAMED_QUBITS = 12
MAX_CIRCUIT_TARGET_QUBITS = 10  # a circuit's dense unitary: 16 MiB at 10 qubits, 16 TiB at 20
ARRAY_SUFFIXES = (".npy", ".txt", ".csv")


def ghz_state(n: int) -> np.ndarray:
    """(|0...0> + |1...1>) / sqrt(2) on ``n`` qubits."""
    psi = np.zeros(2**n, dtype=complex)
    psi[0] = psi[-1] = 1 / math.sqrt(2)
    return psi


def w_state(n: int) -> np.ndarray:
    """The equal superposition of the ``n`` basis states with a single 1."""
    psi = np.zeros(2**n, dtype=complex)
    psi[[2**k for k in range(n)]] = 1 / math.sqrt(n)
    return psi


def qft_unitary(n: int) -> np.ndarray:
    """The quantum Fourier transform F|j> = sum_k e^(2 pi i jk / 2^n) |k> / sqrt(2^n) (no final qubit reversal needed:
    indices are read big-endian, as ``cirq.qft(*qubits)``)."""
    d = 2**n
    j, k = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
    return np.exp(2j * np.pi * j * k / d) / math.sqrt(d)


# Families take the qubit count from the name's digits; aliases name registry gates the way papers do.
_STATE_FAMILIES: dict[str, Callable[[int], np.ndarray]] = {"ghz": ghz_state, "w": w_state}
_UNITARY_FAMILIES: dict[str, Callable[[int], np.ndarray]] = {"qft": qft_unitary}
_STATE_ALIASES = {"bell": "ghz2"}
_UNITARY_ALIASES = {"cnot": "cx", "toffoli": "ccx", "fredkin": "cswap"}

STATE_NAMES = ("bell", "ghz3", "ghz4", "w3")
UNITARY_NAMES = ("cnot", "toffoli", "fredkin", "qft2", "qft3")


def _family(name: str, families: dict[str, Callable[[int], np.ndarray]]) -> np.ndarray | None:
    match = re.fullmatch(r"([a-z]+)(\d+)", name)
    if match is None or match.group(1) not in families:
        return None
    n = int(match.group(2))
    if not 2 <= n <= MAX_NAMED_QUBITS:
        raise UnknownTargetError(f"target {name!r}: the qubit count must be between 2 and {MAX_NAMED_QUBITS}")
    return families[match.group(1)](n)


def _unknown(kind: str, name: str, examples: tuple[str, ...], forms: str) -> UnknownTargetError:
    close = difflib.get_close_matches(name, examples, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return UnknownTargetError(f"unknown {kind} target {name!r}.{hint} Use {forms}")


def named_state(name: str) -> np.ndarray:
    """The state called ``name`` (bell, ghz<n>, w<n>)."""
    key = name.lower()
    found = _family(_STATE_ALIASES.get(key, key), _STATE_FAMILIES)
    if found is None:
        raise _unknown("state", name, STATE_NAMES, "bell, ghz<n>, w<n> (n = 2..12), or a .npy/.txt/.csv file")
    return found


def named_unitary(name: str) -> np.ndarray:
    """The unitary called ``name`` (cnot, toffoli, fredkin, qft<n>, or a parameter-free registry gate)."""
    key = name.lower()
    key = _UNITARY_ALIASES.get(key, key)
    found = _family(key, _UNITARY_FAMILIES)
    if found is not None:
        return found
    spec = GATES.get(key)
    if spec is not None and spec.num_params == 0:
        return spec.matrix()
    gates = [g for g, s in GATES.items() if s.num_params == 0]
    raise _unknown(
        "unitary",
        name,
        UNITARY_NAMES + tuple(gates),
        f"{', '.join(UNITARY_NAMES)}, qft<n>, a gate ({', '.join(gates)}), a .npy/.txt/.csv file or a circuit file",
    )


def is_file_reference(text: str) -> bool:
    """Whether a target string names a file rather than a preset."""
    return Path(text).suffix.lower() in (*ARRAY_SUFFIXES, *CIRCUIT_SUFFIXES) or "/" in text or "\\" in text


def load_array(path: str | Path) -> np.ndarray:
    """A complex array from ``.npy`` (numpy's format), ``.txt`` (whitespace-separated) or ``.csv``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ARRAY_SUFFIXES:
        raise InputFileError(f"cannot read {path}: unsupported file type {suffix or '(none)'}; use .npy, .txt or .csv")
    if not path.is_file():
        raise InputFileError(f"target file {path} does not exist")
    try:
        if suffix == ".npy":
            with path.open("rb") as file:
                start = file.read(len(np.lib.format.MAGIC_PREFIX))
            if start and start != np.lib.format.MAGIC_PREFIX:  # numpy would take it for a pickle and say so
                raise ValueError("not a .npy file (no NumPy header)")
            return np.asarray(np.load(path, allow_pickle=False))
        return np.loadtxt(path, dtype=complex, delimiter="," if suffix == ".csv" else None, ndmin=1)
    except (OSError, ValueError, EOFError) as err:  # EOFError: an empty or cut-off .npy
        raise InputFileError(f"cannot read target file {path}: {err}") from None


def resolve_state(target: object) -> tuple[np.ndarray, str]:
    """(validated state vector, display name) for a preset name, a file path, or an array."""
    if isinstance(target, str | Path):
        text = str(target)
        if is_file_reference(text):
            return validate_state(load_array(text)), Path(text).stem
        return validate_state(named_state(text)), text.lower()
    return validate_state(target), "custom"


def resolve_unitary(target: object) -> tuple[np.ndarray, str]:
    """(validated unitary, display name) for a preset name, a file path, an array, a :class:`Circuit`, or a Cirq
    circuit, gate or operation (anything with Cirq's unitary protocol)."""
    if isinstance(target, str | Path):
        text = str(target)
        if Path(text).suffix.lower() in CIRCUIT_SUFFIXES:
            return _circuit_unitary(load_circuit(text)), Path(text).stem
        if is_file_reference(text):
            return validate_unitary(load_array(text)), Path(text).stem
        return validate_unitary(named_unitary(text)), text.lower()
    if isinstance(target, Circuit):
        return _circuit_unitary(target), "circuit"
    if type(target).__module__.split(".")[0] == "cirq":  # without importing Cirq for every other target
        return _cirq_unitary(target), "cirq"
    return validate_unitary(target), "custom"


def _circuit_unitary(circuit: Circuit) -> np.ndarray:
    _check_circuit_size(circuit.n_qubits)
    return validate_unitary(circuit.unitary())


def _cirq_unitary(value: object) -> np.ndarray:
    """``cirq.unitary(value)``: Cirq orders a circuit's qubits sorted, the first the most significant, as qas does."""
    import cirq

    if isinstance(value, cirq.Operation):  # its own unitary lists its qubits as given, not sorted: CNOT(b, a) is CNOT
        value = cirq.Circuit(value)
    if not cirq.has_unitary(value):
        raise InvalidUnitaryError(f"the Cirq {type(value).__name__} has no unitary (a measurement, noise or a symbol?)")
    _check_circuit_size(cirq.num_qubits(value))
    return validate_unitary(cirq.unitary(value))


def _check_circuit_size(n_qubits: int) -> None:
    if n_qubits > MAX_CIRCUIT_TARGET_QUBITS:
        raise InvalidUnitaryError(
            f"a {n_qubits}-qubit circuit is too large to be a unitary target "
            f"(at most {MAX_CIRCUIT_TARGET_QUBITS} qubits)"
        )


def resolve_hamiltonian(target: str) -> tuple[PauliSum, float | None, str]:
    """(Hamiltonian, exact energy or None, display name) for a molecule name or a JSON file."""
    if is_file_reference(target):
        hamiltonian, exact = load_hamiltonian_file(target)
        return hamiltonian, exact, Path(target).stem
    try:
        from qas.molecules import load_hamiltonian
    except ImportError:
        raise UnknownTargetError(
            f"unknown ground-state target {target!r}: molecule names need qas.molecules, which is not installed; "
            "give a .json file of Pauli terms instead"
        ) from None
    hamiltonian, exact = load_hamiltonian(target)
    return hamiltonian, exact, target.lower()


TASK_KINDS = ("state", "unitary", "ground-state")


def parse_task(text: str, noise: NoiseModel | str | None = None) -> Task:
    """The task written as ``KIND:TARGET`` (see the module docstring), under ``noise`` (default noiseless)."""
    kind, sep, target = str(text).partition(":")
    kind = kind.strip().lower()
    target = target.strip()
    if not sep or not target:
        raise UnknownTargetError(
            f"task {text!r} must look like KIND:TARGET, e.g. state:bell, unitary:toffoli or ground-state:h2"
        )
    noise = as_noise_model(noise)
    if kind == "state":
        state, name = resolve_state(target)
        return StatePreparation(state, noise=noise, name=name)
    if kind == "unitary":
        unitary, name = resolve_unitary(target)
        return UnitarySynthesis(unitary, noise=noise, name=name)
    if kind == "ground-state":
        hamiltonian, exact, name = resolve_hamiltonian(target)
        return GroundState(hamiltonian, noise=noise, name=name, exact_energy=exact)
    close = difflib.get_close_matches(kind, TASK_KINDS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownTargetError(f"unknown task kind {kind!r} in {text!r}.{hint} Use one of: {', '.join(TASK_KINDS)}")
