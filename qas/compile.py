"""``qas.compile``: a circuit for a target unitary, state or Hamiltonian's ground state.

A unitary compiles from a generator where one succeeds, else by exact synthesis. A state compiles by exact state
preparation (:mod:`qas.state_prep`), and a Hamiltonian by preparing its lowest eigenvector, found by dense
diagonalisation: the circuit reaches the exact ground energy, where a variational search (``qas train``, ``qas search``)
trades that for a shorter, hardware-efficient circuit.

Two methods are built in. ``exact`` synthesises any unitary with Cirq's analytic decompositions (two-qubit KAK with
at most 3 CZs, the three-qubit decomposition with at most 20; Qiskit's too when installed, keeping the shorter) and,
above three qubits, the quantum Shannon decomposition (Qiskit's when installed, else Cirq's), a diagonal unitary
from its phase polynomial (:mod:`qas.phase_polynomial`) and a Clifford from its tableau (Qiskit's), then translates
the result into the requested gates.
``numerical`` also fits CNOT skeletons below exact's count (:mod:`qas.numerical_synthesis`: 14 CNOTs for a
Haar-random three-qubit unitary where exact takes 19, 61 for four qubits where it takes 95; five qubits as a Shannon
decomposition into fitted four-qubit blocks, 292 where it takes 423; on three qubits it also searches below 14 for
structured targets: a Toffoli in 6, a Fredkin in 7; on four and five, controlled gates and nearest-neighbour Trotter
steps by their structure) and keeps the exact circuit where no fit is shorter; it handles
unitaries of up to 5 qubits and states of up to 6. Both are exact to rounding (numerical fits to an infidelity of at
most 1e-12) unless a ``tolerance`` is given: numerical synthesis then trades fidelity for CNOTs, to the fewest whose
fit is within it (approximate synthesis: a Haar-random three-qubit unitary in 12 CNOTs within 1e-3), for hardware
whose CNOT errors cost more than that.

Every method compiles a target's tensor factors (:mod:`qas.tensor_factors`) one by one and sets them side by side:
the syntheses do not see that a product needs no CNOT between its factors (a Toffoli beside two idle qubits took 72
CNOTs as one five-qubit unitary, and takes 6).

Other methods are plugins: every ``qas.compilers`` entry point is a method named by its entry-point name (the
diffusion generator registers ``diffusion``), called as::

    method(target: np.ndarray, *, gates: GateSet, device: Device | None, tolerance: float, **options) -> CompileResult

and returning :meth:`CompileResult.from_circuit`. ``auto`` (the default) tries each registered generator and takes
the first circuit whose infidelity is within ``tolerance`` (``DEFAULT_TOLERANCE`` when none is given), falling back
to ``numerical`` where the target's size allows and to ``exact`` above, so a call always returns a circuit. Where
``numerical`` handles the size, a generator's circuit is then compared with exact synthesis's and with numerical
synthesis below its two-qubit count, as they run on the device (:func:`_cheapest_with_fit`): the generator is the
quick first answer, not the last word.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qas import targets
from qas.circuit import CIRCUIT_SUFFIXES, Circuit, load_circuit
from qas.devices import Device, load_device
from qas.errors import ConfigError, InputFileError, QasError
from qas.export import ExportResult, to_device
from qas.gate_sets import GateSet, get_gate_set
from qas.linalg import state_fidelity, unitary_fidelity
from qas.plugins import plugins
from qas.settings import check_keywords, is_finite_number
from qas.sim import final_state
from qas.state_prep import state_candidates
from qas.synthesis import qiskit_basis, qiskit_synthesis, synthesis_cost, unitary_candidates
from qas.tasks import GroundState, StatePreparation, Task, UnitarySynthesis
from qas.translate import translate

# Output gates when neither ``gates`` nor a device is given: the universal pair every toolchain reads.
DEFAULT_GATES = ("u3", "cx")
# Infidelity up to which ``auto`` accepts a generator's circuit when no tolerance is given.
DEFAULT_TOLERANCE = 1e-6
# Exact synthesis emits O(4**n) gates; beyond this many qubits the circuit is too large to be useful.
MAX_EXACT_QUBITS = 8

CompileMethod = Callable[..., "CompileResult"]
BUILT_IN_METHODS = ("exact", "numerical")


@dataclass(frozen=True)
class CompileResult:
    """A compiled circuit and how good it is.

    Attributes:
        circuit: the circuit on the target's qubits, in the requested gates.
        infidelity: against a unitary ``1 - |Tr(U^dagger V)|^2 / d^2``, against a state ``1 - |<target|psi>|^2`` with
            ``psi`` the circuit's output on |0...0> (0 for an exact circuit, up to rounding); for a Hamiltonian the
            target state is its lowest eigenvector.
        method: the method that produced the circuit (``input``: the given circuit, translated, was the shortest).
        export: the circuit laid out on the device, when one was given.
        attempts: what ``auto`` tried, in order: (method, infidelity) or (method, error message).
        energy: for a Hamiltonian, ``<psi|H|psi>``; ``exact_energy`` is its lowest eigenvalue.
    """

    circuit: Circuit
    infidelity: float
    method: str
    export: ExportResult | None = None
    attempts: tuple[tuple[str, float | str], ...] = field(default=())
    energy: float | None = None
    exact_energy: float | None = None

    @classmethod
    def from_circuit(cls, circuit: Circuit, target: np.ndarray, method: str) -> CompileResult:
        """Score ``circuit`` against ``target``, a unitary (what a compiler plugin returns) or a state vector."""
        if circuit.n_qubits != int(np.log2(target.shape[0])):
            raise QasError(f"method {method!r} returned a {circuit.n_qubits}-qubit circuit for a different target")
        if target.ndim == 1:
            fidelity = state_fidelity(target, final_state(circuit))
        else:
            fidelity = unitary_fidelity(target, circuit.unitary())
        return cls(circuit, max(0.0, 1.0 - fidelity), method)

    @property
    def fidelity(self) -> float:
        return 1.0 - self.infidelity

    def metrics(self) -> dict[str, int]:
        return self.circuit.metrics()

    def energy_summary(self) -> dict[str, float]:
        """For a Hamiltonian: ``energy`` and ``energy_error`` (above the exact ground energy), as ``qas evaluate``
        reports them; empty otherwise."""
        if self.energy is None or self.exact_energy is None:
            return {}
        return {"energy": self.energy, "energy_error": self.energy - self.exact_energy}

    def to_qasm(self, version: str = "3.0") -> str:
        """OpenQASM of the device circuit (its layout in comments) when there is one, else of the logical circuit."""
        return (self.export or self.circuit).to_qasm(version)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: fidelity, infidelity, method, OpenQASM 3, the cost metrics and, for a
        Hamiltonian, the energy."""
        data: dict[str, Any] = {
            "method": self.method,
            "fidelity": self.fidelity,
            "infidelity": self.infidelity,
            "circuit": self.circuit.to_qasm("3.0"),
            **self.metrics(),
            "attempts": [{"method": m, "result": r} for m, r in self.attempts],
        }
        data |= self.energy_summary()
        if self.export is not None:
            data["device"] = self.export.summary() | {"circuit": self.export.to_qasm("3.0")}
        return data


def compile(
    target: object,
    *,
    method: str = "auto",
    gates: str | Sequence[str] | GateSet | None = None,
    device: str | Path | Device | None = None,
    tolerance: float | None = None,
    **options: Any,
) -> CompileResult:
    """Compile a target unitary, state, or Hamiltonian's ground state into a circuit.

    Args:
        target: a unitary matrix or a state vector; a task (:class:`~qas.tasks.UnitarySynthesis`,
            :class:`~qas.tasks.StatePreparation`, :class:`~qas.tasks.GroundState`); a ``.npy`` file or a named target
            (``toffoli``, ``unitary:qft3``, ``state:ghz3``, ``state:psi.npy``, ``ground-state:h2``, ...). A task's
            noise model plays no part: the circuit is exact (:func:`qas.evaluate` scores it under noise). A circuit
            (or ``.qasm``/``.json`` file) is re-synthesised, and is itself a candidate in the requested gates: the
            result is never longer (method ``input`` when it wins). With ``auto`` or ``numerical``, a three-qubit
            circuit also has CNOTs removed from its own skeleton where its unitary allows.
        method: ``auto``, ``exact``, ``numerical`` or a registered generator (``qas info`` lists them). Generators
            compile unitaries; states and Hamiltonians compile with ``exact`` or ``numerical`` (``auto``'s choice).
        gates: output gate set (preset name, names, or :class:`GateSet`); defaults to the device's native gates, else
            ``u3, cx``.
        device: also lay the circuit out on this device (name, file or :class:`Device`); see :func:`qas.to_device`.
        tolerance: the infidelity the circuit may have: ``auto`` accepts a generator's circuit within it, and
            ``numerical`` (``auto``'s fallback) goes below the fewest CNOTs of an exact circuit to the fewest whose fit
            is within it. None (the default): exact synthesis, and generators accepted within ``DEFAULT_TOLERANCE``.
        **options: passed to the generator method (with ``auto``, to every generator tried).

    Raises:
        QasError: bad target or tolerance, unknown method or device, or a gate set the circuit cannot be written in.
    """
    source = _source_circuit(target)  # read once: it is the task's unitary and, below, a candidate itself
    task = resolve_target(source if source is not None else target)
    if tolerance is not None:
        validate_tolerance(tolerance)
    dev = load_device(device) if device is not None else None
    gate_set = get_gate_set(gates if gates is not None else dev.gates if dev is not None else DEFAULT_GATES)
    methods = available_methods()
    if method != "auto" and method not in methods:
        raise QasError(f"unknown compile method {method!r}; available: auto, {', '.join(methods)}")
    unitary_target = isinstance(task, UnitarySynthesis)
    if not unitary_target and method not in ("auto", *BUILT_IN_METHODS):
        raise QasError(
            f"method {method!r} compiles unitaries; a {task.kind} target compiles with auto, exact or numerical"
        )
    generators = [m for m in methods if m not in BUILT_IN_METHODS]
    if options and (method in BUILT_IN_METHODS or (method == "auto" and not (generators and unitary_target))):
        which = f"the {method} method takes" if method in BUILT_IN_METHODS else "the exact and numerical methods take"
        raise QasError(f"{which} no options, got {', '.join(sorted(options))}")
    numerical = method in ("auto", "numerical")  # and the size allows: see _runs_numerical
    if isinstance(task, UnitarySynthesis):
        # A circuit target is a candidate itself, in the requested gates: re-synthesis must not lengthen it.
        given = translate(source, gate_set, optimize=True) if source is not None else None
        shortened = None
        if given is not None and numerical and _below_numerical_bound(given):
            shortened = _remove_input_cnots(given, task.target, gate_set, dev, tolerance)
            numerical = method == "numerical"  # fitting from the bound cannot beat a circuit already below it

        def compile_factor(unitary: np.ndarray, share: float | None) -> CompileResult:
            n = int(np.log2(unitary.shape[0]))
            if n == 1 and method == "auto":  # one u3: no generator can write it shorter
                return _exact(unitary, gates=gate_set)
            fallback = "numerical" if numerical and _runs_numerical(method, n, state=False) else "exact"
            return _compile_unitary(unitary, method, methods, fallback, gate_set, dev, share, options)

        result = _by_tensor_factors(task.target, compile_factor, tolerance)
        for name, candidate in (("input", given), ("numerical", shortened)):
            if candidate is not None and synthesis_cost(candidate) < synthesis_cost(result.circuit):
                kept = CompileResult.from_circuit(candidate, task.target, name)
                result = replace(kept, attempts=(*result.attempts, (name, kept.infidelity)))
    else:
        result = _prepare_state(task, gate_set, dev, method=method, tolerance=tolerance)
        if method == "auto":
            result = replace(result, attempts=((result.method, result.infidelity),))
    if dev is not None and result.export is None:
        result = replace(result, export=to_device(result.circuit, dev))
    return result


def _compile_unitary(
    unitary: np.ndarray,
    method: str,
    methods: dict[str, CompileMethod],
    fallback: str,
    gate_set: GateSet,
    device: Device | None,
    tolerance: float | None,
    options: dict[str, Any],
) -> CompileResult:
    generators = [m for m in methods if m not in BUILT_IN_METHODS]
    supplied = ("target", "gates", "device", "tolerance")  # the protocol's own arguments (module docstring)
    for name in generators if method == "auto" else [method]:
        check_keywords(methods[name], options, "option(s)", f"compile method {name!r}", supplied=supplied)
    accepted = DEFAULT_TOLERANCE if tolerance is None else tolerance

    def run(name: str) -> CompileResult:
        if name in BUILT_IN_METHODS:  # they take no options (compile checks), and None for exact synthesis
            return methods[name](unitary, gates=gate_set, device=device, tolerance=tolerance)
        return methods[name](unitary, gates=gate_set, device=device, tolerance=accepted, **options)

    result = _auto(run, generators, fallback, accepted) if method == "auto" else run(method)
    # A generator may place gates outside the requested set; rewriting them keeps the promise of ``gates``.
    circuit = translate(result.circuit, gate_set)
    if circuit is not result.circuit:
        result = replace(CompileResult.from_circuit(circuit, unitary, result.method), attempts=result.attempts)
    if method == "auto" and fallback == "numerical" and result.method in generators:
        # A generator's circuit is quick but not always the shortest: on 40 of the diffusion generator's validation
        # targets numerical synthesis took fewer CNOTs on 6 and more on none; auto takes 4.53 on average in 3.3 s
        # a target, the generator alone 4.72 in 1.1 s, numerical alone 4.53 in 4.2 s. On a device the generator's
        # pairs may also need SWAPs that a line skeleton does not.
        candidates = [result, _exact(unitary, gates=gate_set)]
        kept = _cheapest_with_fit(candidates, unitary, lambda c: translate(c, gate_set), device, tolerance)
        if kept.method != result.method:
            kept = replace(kept, attempts=(*result.attempts, (kept.method, kept.infidelity)))
        result = kept
    return result


def _by_tensor_factors(
    target: np.ndarray, compile_factor: Callable[[np.ndarray, float | None], CompileResult], tolerance: float | None
) -> CompileResult:
    """``target`` (a unitary or a state) compiled as its tensor factors side by side (:mod:`qas.tensor_factors`),
    each by ``compile_factor(factor, its share of tolerance)``; as one when it has none. The factors' fidelities
    multiply, so each of k factors may lose ``1 - (1 - tolerance)^(1/k)``, where one-qubit factors, written exactly,
    do not count. The result takes the method and attempts of its largest factor (most qubits, then most two-qubit
    gates)."""
    from qas.tensor_factors import tensor_factors

    n = int(np.log2(target.shape[0]))
    factors = tensor_factors(target) if n <= MAX_EXACT_QUBITS else []  # larger: an error below, not 12 s of SVDs
    if len(factors) <= 1:
        return compile_factor(target, tolerance)
    approximate = max(1, sum(len(f.qubits) > 1 for f in factors))
    share = None if tolerance is None else 1 - (1 - tolerance) ** (1 / approximate)
    parts = [(f.qubits, compile_factor(f.target, share)) for f in factors]
    ops = tuple(o.moved(qubits) for qubits, part in parts for o in part.circuit)
    circuit = Circuit(n, ops)
    largest = max(parts, key=lambda p: (len(p[0]), p[1].circuit.two_qubit_count))[1]
    return replace(CompileResult.from_circuit(circuit, target, largest.method), attempts=largest.attempts)


def _auto(run: Callable[[str], CompileResult], generators: list[str], fallback: str, tolerance: float) -> CompileResult:
    """The first generator's circuit within ``tolerance``, else the ``fallback`` method's; every attempt recorded."""
    attempts: list[tuple[str, float | str]] = []
    for name in generators:
        try:
            candidate = run(name)
        except (ConfigError, InputFileError):
            raise  # a bad option or weights file is the caller's to fix; falling back to exact would hide it
        except QasError as err:
            attempts.append((name, f"error: {err}"))
            continue
        attempts.append((name, candidate.infidelity))
        if candidate.infidelity <= tolerance:
            return replace(candidate, attempts=tuple(attempts))
    result = run(fallback)
    return replace(result, attempts=(*attempts, (result.method, result.infidelity)))


def validate_tolerance(tolerance: float) -> None:
    """A :class:`QasError` unless ``tolerance`` is an infidelity a circuit can meet: a finite number in [0, 1)."""
    if not (is_finite_number(tolerance) and 0 <= tolerance < 1):
        raise QasError(f"tolerance is an infidelity and must be a number in [0, 1), got {tolerance!r}")


def available_methods() -> dict[str, CompileMethod]:
    """The built-in methods plus every ``qas.compilers`` plugin, by name."""
    return {"exact": _exact, "numerical": _numerical, **plugins("qas.compilers")}


def resolve_unitary(target: object) -> np.ndarray:
    """The target as a validated unitary: a matrix, a task, a circuit, a named target or a file (see
    :func:`qas.targets.resolve_unitary`)."""
    if isinstance(target, UnitarySynthesis):
        return target.target
    if isinstance(target, str) and target.startswith("unitary:"):
        target = target.removeprefix("unitary:")
    return targets.resolve_unitary(target)[0]


def resolve_target(target: object) -> Task:
    """The task ``target`` asks for: a task as it is, ``KIND:TARGET`` text parsed (``state:ghz3``), a vector or column
    (or an array file holding one) as a state, anything else as a unitary (:func:`resolve_unitary`)."""
    if isinstance(target, UnitarySynthesis | StatePreparation | GroundState):
        return target
    if isinstance(target, str) and target.partition(":")[0] in targets.TASK_KINDS:
        return targets.parse_task(target)
    if isinstance(target, str | Path) and Path(target).suffix.lower() in targets.ARRAY_SUFFIXES:
        target = targets.load_array(target)
    if isinstance(target, np.ndarray | list | tuple) and (np.ndim(target) == 1 or np.shape(target)[1:] == (1,)):
        return StatePreparation(targets.resolve_state(target)[0])  # a vector, or a column of one
    return UnitarySynthesis(resolve_unitary(target))


def _exact(
    unitary: np.ndarray, *, gates: GateSet, device: Device | None = None, tolerance: float | None = None
) -> CompileResult:
    """Analytic synthesis (exact up to float rounding, so any ``tolerance`` is met), written in ``gates``.

    Cirq's decompositions, and Qiskit's where it is installed (see :func:`qas.synthesis.qiskit_synthesis`); the
    circuit with the fewest two-qubit gates, then gates, wins.

    The device is laid out by :func:`compile` afterwards; it is a parameter only to share the plugin signature.
    """
    n = int(np.log2(unitary.shape[0]))
    _check_exact_size(n)
    circuits = unitary_candidates(unitary)
    if n == 2 and len(circuits) == 2 and (names := qiskit_basis(gates)) is not None:
        # Qiskit's two-qubit decomposer picks the KAK's local gates for the basis it is given: 28 gates on IBM's
        # basis for Haar-random targets, where its u3/cx circuit translated takes 30 (Cirq's 36). Above two qubits
        # its output in the basis is longer than the u3/cx one translated (160 against 134 gates at three qubits).
        circuits.append(qiskit_synthesis(unitary, names))
    candidates = [translate(c, gates) for c in circuits if c is not None]
    return CompileResult.from_circuit(min(candidates, key=synthesis_cost), unitary, "exact")


def _numerical(
    unitary: np.ndarray, *, gates: GateSet, device: Device | None = None, tolerance: float | None = None
) -> CompileResult:
    """Exact synthesis's circuit, or numerical synthesis's (:mod:`qas.numerical_synthesis`) where it fits one with
    fewer two-qubit gates (within ``tolerance``, exactly without), compared as they run (:func:`_cheapest_with_fit`)."""
    candidates = [_exact(unitary, gates=gates)]
    return _cheapest_with_fit(candidates, unitary, lambda c: translate(c, gates), device, tolerance)


def _cheapest_with_fit(
    candidates: list[CompileResult],
    target: np.ndarray,
    write: Callable[[Circuit], Circuit] | None,
    device: Device | None,
    tolerance: float | None,
) -> CompileResult:
    """Of ``candidates`` and, unless ``write`` is None, numerical synthesis's circuit below their fewest two-qubit
    gates within ``tolerance`` (see :func:`_fit_below`; written in the requested gates by ``write``), the one with
    the fewest two-qubit gates, then gates, as it runs: laid out on ``device`` where one is given, since routing adds
    SWAPs to some circuits and not others (a line skeleton needs none: a Toffoli on ``ibm-line`` takes 8 CNOTs, exact
    synthesis's 7 take 11). The first candidate wins a tie."""
    placed = [_placed(c, device) for c in candidates]
    if write is not None:
        fitted = _fit_below(target, min(_routed(c).two_qubit_count for c in placed), device, tolerance)
        if fitted is not None:
            placed.append(_placed(CompileResult.from_circuit(write(fitted), target, "numerical"), device))
    return min(placed, key=lambda c: synthesis_cost(_routed(c)))


def _placed(result: CompileResult, device: Device | None) -> CompileResult:
    """``result`` laid out on ``device`` (its ``export``), or as it is without one."""
    return result if device is None else replace(result, export=to_device(result.circuit, device))


def _routed(result: CompileResult) -> Circuit:
    """The circuit as it runs: laid out on the device where there is one."""
    return result.circuit if result.export is None else result.export.circuit


def _runs_numerical(method: str, n_qubits: int, *, state: bool) -> bool:
    """Whether ``method`` runs numerical synthesis: ``numerical`` does (a target too large for it is an error),
    ``auto`` where the target's size allows."""
    if method not in ("numerical", "auto"):
        return False
    from qas import numerical_synthesis  # loads torch, so imported here: `import qas` stays light

    if method == "numerical":
        numerical_synthesis.check_size(n_qubits, state=state)
    return numerical_synthesis.handles(n_qubits, state=state)


def _source_circuit(target: object) -> Circuit | None:
    """The target as a circuit when it is one (a :class:`Circuit` or a ``.qasm``/``.json`` file, ``unitary:`` or
    not), else None."""
    if isinstance(target, Circuit):
        return target
    if isinstance(target, str | Path):
        path = str(target).removeprefix("unitary:")
        if path.partition(":")[0] not in targets.TASK_KINDS and Path(path).suffix.lower() in CIRCUIT_SUFFIXES:
            return load_circuit(path)
    return None


def _below_numerical_bound(circuit: Circuit) -> bool:
    """Whether ``circuit`` has no more two-qubit gates than numerical synthesis's first try for its size: fitting
    from there cannot shorten it, so ``auto`` does not spend the seconds (a four-qubit circuit of 10 CNOTs: 2 s for
    61); a three-qubit one has CNOTs removed from its own skeleton instead (:func:`_remove_input_cnots`)."""
    from qas.skeletons import parameter_bound  # loads torch (see _runs_numerical)

    return circuit.two_qubit_count <= parameter_bound(circuit.n_qubits)


def _fit_below(
    target: np.ndarray, two_qubit_gates: int, device: Device | None, tolerance: float | None
) -> Circuit | None:
    """Numerical synthesis of ``target`` with fewer than ``two_qubit_gates`` CNOTs on :func:`_skeleton_pairs`, within
    ``tolerance`` (exact without one)."""
    from qas import numerical_synthesis as ns  # loads torch (see _runs_numerical)

    pairs = _skeleton_pairs(int(np.log2(target.shape[0])), device)
    return ns.numerical_synthesis(target, fewer_than=two_qubit_gates, pairs=pairs, tolerance=_fit_tolerance(tolerance))


def _fit_tolerance(tolerance: float | None) -> float:
    """The infidelity up to which numerical synthesis accepts a fit: ``tolerance``, or an exact fit's without one
    (no fit is accepted closer than that)."""
    from qas.skeletons import FIT_EXACT  # loads torch (see _runs_numerical)

    return FIT_EXACT if tolerance is None else max(FIT_EXACT, tolerance)


def _skeleton_pairs(n_qubits: int, device: Device | None) -> list[tuple[int, int]]:
    """The pairs numerical synthesis puts CNOTs on: every pair of qubits, or a line of neighbours on a device that
    does not couple every pair (a line routes without SWAPs onto any device with a path of that many qubits)."""
    from qas.skeletons import all_pairs, line_pairs  # loads torch (see _runs_numerical)

    every_pair = device is None or len(device.edges) == device.n_qubits * (device.n_qubits - 1) // 2
    return all_pairs(n_qubits) if every_pair else line_pairs(n_qubits)


def _remove_input_cnots(
    given: Circuit, target: np.ndarray, gates: GateSet, device: Device | None, tolerance: float | None
) -> Circuit | None:
    """A three-qubit circuit target with CNOTs removed from its own skeleton where the rest still fits within
    ``tolerance`` (:func:`qas.numerical_synthesis.remove_cnots`, the search numerical synthesis runs from the bound),
    in ``gates``; ``None`` for other sizes or when no CNOT can go."""
    from qas import numerical_synthesis as ns  # loads torch (see _runs_numerical)
    from qas.skeletons import cnot_skeleton

    if given.n_qubits != ns.MAX_SEARCH_QUBITS:
        return None
    pairs = _skeleton_pairs(given.n_qubits, device)
    shorter = ns.trim_skeleton(target, cnot_skeleton(given), pairs, tolerance=_fit_tolerance(tolerance))
    return None if shorter is None else translate(shorter, gates, optimize=True)


def _prepare_state(
    task: StatePreparation | GroundState,
    gates: GateSet,
    device: Device | None,
    *,
    method: str,
    tolerance: float | None,
) -> CompileResult:
    """Exact state preparation (:mod:`qas.state_prep`) of the task's state, or of a Hamiltonian's lowest eigenvector,
    written in ``gates``, and where ``method`` runs numerical synthesis a fit below its two-qubit count (within
    ``tolerance``): of these circuits, the cheapest as it runs (:func:`_cheapest_with_fit`), for each tensor factor
    of the state."""
    _check_exact_size(task.n_qubits)
    state = task.target if isinstance(task, StatePreparation) else task.hamiltonian.ground_state()

    def write(circuit: Circuit) -> Circuit:
        # optimize: re-synthesis merges the blocks the constructions put side by side (lih6's ground state: 48 -> 41).
        return translate(circuit, gates, optimize=True)

    def prepare_factor(factor: np.ndarray, share: float | None) -> CompileResult:
        numerical = _runs_numerical(method, int(np.log2(factor.shape[0])), state=True)
        candidates = [CompileResult.from_circuit(write(c), factor, "exact") for c in state_candidates(factor)]
        return _cheapest_with_fit(candidates, factor, write if numerical else None, device, share)

    result = _by_tensor_factors(state, prepare_factor, tolerance)
    if isinstance(task, GroundState):
        energy = task.hamiltonian.expectation(final_state(result.circuit))
        result = replace(result, energy=energy, exact_energy=task.exact_energy)
    return result


def _check_exact_size(n_qubits: int) -> None:
    if n_qubits > MAX_EXACT_QUBITS:
        raise QasError(f"exact synthesis handles at most {MAX_EXACT_QUBITS} qubits, the target has {n_qubits}")
