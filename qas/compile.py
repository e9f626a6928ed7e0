"""``qas.compile``: a circuit for a target unitary, from a generator where one succeeds, else by exact synthesis.

Methods are plugins: every ``qas.compilers`` entry point is a method named by its entry-point name (the diffusion
generator registers ``diffusion``), called as::

    method(target: np.ndarray, *, gates: GateSet, device: Device | None, tolerance: float, **options) -> CompileResult

and returning :meth:`CompileResult.from_circuit`. The built-in ``exact`` method synthesises any unitary with Cirq's
analytic decompositions (two-qubit KAK with at most 3 CZs, the three-qubit decomposition with at most 20; Qiskit's
too when installed, keeping the shorter) and, above three qubits, the quantum Shannon decomposition (Qiskit's when
installed, else Cirq's), then translates the result into the requested gates. ``auto`` (the default) tries each
registered generator and keeps the first whose infidelity is within ``tolerance``, falling back to ``exact``, so a
call always returns a circuit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qas import targets
from qas.circuit import Circuit
from qas.devices import Device, load_device
from qas.errors import ConfigError, InputFileError, QasError
from qas.export import ExportResult, to_device
from qas.gate_sets import GateSet, get_gate_set
from qas.gates import GATES
from qas.linalg import unitary_fidelity
from qas.plugins import plugins
from qas.settings import check_keywords, is_finite_number
from qas.tasks import UnitarySynthesis
from qas.translate import translate

# Output gates when neither ``gates`` nor a device is given: the universal pair every toolchain reads.
DEFAULT_GATES = ("u3", "cx")
# Infidelity up to which ``auto`` accepts a generator's circuit.
DEFAULT_TOLERANCE = 1e-6
# Exact synthesis emits O(4**n) gates; beyond this many qubits the circuit is too large to be useful.
MAX_EXACT_QUBITS = 8

CompileMethod = Callable[..., "CompileResult"]


@dataclass(frozen=True)
class CompileResult:
    """A compiled circuit and how good it is.

    Attributes:
        circuit: the circuit on the target's qubits, in the requested gates.
        infidelity: ``1 - |Tr(U^dagger V)|^2 / d^2`` against the target (0 for an exact circuit, up to rounding).
        method: the method that produced the circuit.
        export: the circuit laid out on the device, when one was given.
        attempts: what ``auto`` tried, in order: (method, infidelity) or (method, error message).
    """

    circuit: Circuit
    infidelity: float
    method: str
    export: ExportResult | None = None
    attempts: tuple[tuple[str, float | str], ...] = field(default=())

    @classmethod
    def from_circuit(cls, circuit: Circuit, target: np.ndarray, method: str) -> CompileResult:
        """Score ``circuit`` against ``target`` (what a compiler plugin returns)."""
        if circuit.n_qubits != int(np.log2(target.shape[0])):
            raise QasError(f"method {method!r} returned a {circuit.n_qubits}-qubit circuit for a different target")
        return cls(circuit, max(0.0, 1.0 - unitary_fidelity(target, circuit.unitary())), method)

    @property
    def fidelity(self) -> float:
        return 1.0 - self.infidelity

    def metrics(self) -> dict[str, int]:
        return self.circuit.metrics()

    def to_qasm(self, version: str = "3.0") -> str:
        """OpenQASM of the device circuit (its layout in comments) when there is one, else of the logical circuit."""
        return (self.export or self.circuit).to_qasm(version)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: fidelity, infidelity, method, OpenQASM 3 and the cost metrics."""
        data: dict[str, Any] = {
            "method": self.method,
            "fidelity": self.fidelity,
            "infidelity": self.infidelity,
            "circuit": self.circuit.to_qasm("3.0"),
            **self.metrics(),
            "attempts": [{"method": m, "result": r} for m, r in self.attempts],
        }
        if self.export is not None:
            data["device"] = self.export.summary() | {"circuit": self.export.to_qasm("3.0")}
        return data


def compile(
    target: object,
    *,
    method: str = "auto",
    gates: str | Sequence[str] | GateSet | None = None,
    device: str | Path | Device | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    **options: Any,
) -> CompileResult:
    """Compile a target unitary into a circuit.

    Args:
        target: a unitary matrix, a :class:`~qas.tasks.UnitarySynthesis`, a ``.npy`` file, or a named target
            (``toffoli``, ``unitary:qft3``, ...).
        method: ``auto``, ``exact`` or a registered generator (``qas info`` lists them).
        gates: output gate set (preset name, names, or :class:`GateSet`); defaults to the device's native gates, else
            ``u3, cx``.
        device: also lay the circuit out on this device (name, file or :class:`Device`); see :func:`qas.to_device`.
        tolerance: the infidelity up to which ``auto`` accepts a generator's circuit (also passed to the method).
        **options: passed to the generator method (with ``auto``, to every generator tried).

    Raises:
        QasError: bad target or tolerance, unknown method or device, or a gate set the circuit cannot be written in.
    """
    unitary = resolve_unitary(target)
    validate_tolerance(tolerance)
    dev = load_device(device) if device is not None else None
    gate_set = get_gate_set(gates if gates is not None else dev.gates if dev is not None else DEFAULT_GATES)
    methods = available_methods()
    if method != "auto" and method not in methods:
        raise QasError(f"unknown compile method {method!r}; available: auto, {', '.join(methods)}")
    if options and (method == "exact" or (method == "auto" and len(methods) == 1)):
        raise QasError(f"the exact method takes no options, got {', '.join(sorted(options))}")
    supplied = ("target", "gates", "device", "tolerance")  # the protocol's own arguments (module docstring)
    for name in [m for m in methods if m != "exact"] if method == "auto" else [method]:
        check_keywords(methods[name], options, "option(s)", f"compile method {name!r}", supplied=supplied)
    if method == "auto":
        result = _auto(unitary, methods, gate_set, dev, tolerance, options)
    else:
        result = methods[method](unitary, gates=gate_set, device=dev, tolerance=tolerance, **options)
    # A generator may place gates outside the requested set; rewriting them keeps the promise of ``gates``.
    circuit = translate(result.circuit, gate_set)
    if circuit is not result.circuit:
        result = replace(CompileResult.from_circuit(circuit, unitary, result.method), attempts=result.attempts)
    if dev is not None:
        result = replace(result, export=to_device(result.circuit, dev))
    return result


def _auto(
    unitary: np.ndarray,
    methods: dict[str, CompileMethod],
    gate_set: GateSet,
    device: Device | None,
    tolerance: float,
    options: dict[str, Any],
) -> CompileResult:
    attempts: list[tuple[str, float | str]] = []
    for name, generate in methods.items():
        if name == "exact":
            continue
        try:
            candidate = generate(unitary, gates=gate_set, device=device, tolerance=tolerance, **options)
        except (ConfigError, InputFileError):
            raise  # a bad option or weights file is the caller's to fix; falling back to exact would hide it
        except QasError as err:
            attempts.append((name, f"error: {err}"))
            continue
        attempts.append((name, candidate.infidelity))
        if candidate.infidelity <= tolerance:
            return replace(candidate, attempts=tuple(attempts))
    exact = _exact(unitary, gates=gate_set, device=device, tolerance=tolerance)
    return replace(exact, attempts=(*attempts, ("exact", exact.infidelity)))


def validate_tolerance(tolerance: float) -> None:
    """A :class:`QasError` unless ``tolerance`` is an infidelity a circuit can meet: a finite number in [0, 1)."""
    if not (is_finite_number(tolerance) and 0 <= tolerance < 1):
        raise QasError(f"tolerance is an infidelity and must be a number in [0, 1), got {tolerance!r}")


def available_methods() -> dict[str, CompileMethod]:
    """``exact`` plus every ``qas.compilers`` plugin, by name."""
    return {"exact": _exact, **plugins("qas.compilers")}


def resolve_unitary(target: object) -> np.ndarray:
    """The target as a validated unitary: a matrix, a task, a circuit, a named target or a file (see
    :func:`qas.targets.resolve_unitary`)."""
    if isinstance(target, UnitarySynthesis):
        return target.target
    if isinstance(target, str) and target.startswith("unitary:"):
        target = target.removeprefix("unitary:")
    return targets.resolve_unitary(target)[0]


def _exact(
    unitary: np.ndarray, *, gates: GateSet, device: Device | None = None, tolerance: float = DEFAULT_TOLERANCE
) -> CompileResult:
    """Analytic synthesis (exact up to float rounding, so ``tolerance`` is met), written in ``gates``.

    Cirq's decompositions, and Qiskit's where it is installed (see :func:`_qiskit_synthesis`); the circuit with the
    fewest two-qubit gates, then gates, wins.

    The device is laid out by :func:`compile` afterwards; it is a parameter only to share the plugin signature.
    """
    n = int(np.log2(unitary.shape[0]))
    if n > MAX_EXACT_QUBITS:
        raise QasError(f"exact synthesis handles at most {MAX_EXACT_QUBITS} qubits, the target has {n}")
    qiskit_circuit = _qiskit_synthesis(unitary) if n > 1 else None
    circuits = [qiskit_circuit]
    if n == 2 and qiskit_circuit is not None and (names := _qiskit_names(gates)) is not None:
        # Qiskit's two-qubit decomposer picks the KAK's local gates for the basis it is given: 28 gates on IBM's
        # basis for Haar-random targets, where its u3/cx circuit translated takes 30 (Cirq's 36). Above two qubits
        # its output in the basis is longer than the u3/cx one translated (160 against 134 gates at three qubits).
        circuits.append(_qiskit_synthesis(unitary, names))
    if n <= 3 or qiskit_circuit is None:
        circuits.append(_cirq_synthesis(unitary))
    candidates = [translate(c, gates) for c in circuits if c is not None]
    best = min(candidates, key=lambda c: (c.two_qubit_count, len(c.operations)))
    return CompileResult.from_circuit(best, unitary, "exact")


def _cirq_synthesis(unitary: np.ndarray) -> Circuit:
    """Cirq's analytic decomposition: KAK up to two qubits, its three-qubit decomposition, Shannon's above."""
    import cirq

    from qas.cirq_interop import from_cirq

    n = int(np.log2(unitary.shape[0]))
    qubits = cirq.LineQubit.range(n)
    if n == 1:
        ops = [cirq.MatrixGate(unitary).on(qubits[0])]
    elif n == 2:
        ops = cirq.two_qubit_matrix_to_cz_operations(*qubits, unitary, allow_partial_czs=False)
    elif n == 3:
        ops = cirq.three_qubit_matrix_to_operations(*qubits, unitary)
    else:
        ops = list(cirq.quantum_shannon_decomposition(qubits, unitary))
    return from_cirq(cirq.Circuit(ops), qubits=qubits)


def _qiskit_synthesis(unitary: np.ndarray, basis: Sequence[str] = ("u", "cx")) -> Circuit | None:
    """Qiskit's synthesis into ``basis`` (Qiskit's gate names; two-qubit KAK, quantum Shannon decomposition above), or
    None without Qiskit or where Qiskit cannot write the unitary in ``basis``.

    Above three qubits it replaces Cirq's: on Haar-random 4-qubit unitaries it emits ~5% fewer CNOTs (95 vs 100)
    about 80x faster (``bench/export.py``). Up to three qubits both run and the shorter circuit wins: Cirq's analytic
    decompositions find the short circuits of structured targets (Toffoli in 7 CNOTs where Qiskit's takes 8), Qiskit's
    one CNOT fewer on most Haar-random 3-qubit unitaries (19 vs 20).
    """
    try:
        import qiskit
        from qiskit import qasm2
        from qiskit.circuit.library import UnitaryGate
        from qiskit.transpiler.exceptions import TranspilerError
    except ImportError:
        return None
    n = int(np.log2(unitary.shape[0]))
    qc = qiskit.QuantumCircuit(n)
    # Qiskit reads matrices little-endian: list the qubits reversed for qas's big-endian matrix. Level 1 keeps the
    # qubit order (higher levels may fold a final permutation into the layout).
    qc.append(UnitaryGate(unitary, check_input=False), list(reversed(range(n))))
    try:
        transpiled = qiskit.transpile(qc, basis_gates=list(basis), optimization_level=1)
    except TranspilerError:
        return None
    return Circuit.from_qasm(qasm2.dumps(transpiled))


def _qiskit_names(gates: GateSet) -> list[str] | None:
    """The one-qubit gates of ``gates`` and its CX or CZ by Qiskit's names, or None where there is no CX or CZ, or a
    one-qubit gate has no Qiskit name or a fixed angle (rz(pi/4) as a gate).

    One entangler only: given two (IBM's cx and ecr), Qiskit picks between them at random from call to call, even
    with a seed, and its ECR circuits are longer here (40 gates against 28).
    """
    from qiskit.circuit.library import get_standard_gate_name_mapping

    entangler = next((g for g in ("cx", "cz") if g in gates.gate_names), None)
    one_qubit = [c for c in gates.choices if GATES[c.gate].num_qubits == 1]
    if entangler is None or any(c.fixed_params is not None for c in one_qubit):
        return None
    names = [{"u3": "u", "i": "id"}.get(c.gate, c.gate) for c in one_qubit]
    return [*names, entangler] if set(names) <= set(get_standard_gate_name_mapping()) else None
