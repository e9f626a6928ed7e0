"""Hardware export: translate a circuit to a device's gates, route it onto the device, check it, and write it out.

``to_device`` is the pipeline users run before submitting a circuit:

1. **translate** to the device's native gates (:func:`qas.translate.translate` with ``optimize``: two-qubit blocks
   re-synthesised where fewer entangling gates do them, one-qubit runs merged and written in the device's basis);
2. **route** onto the coupling graph when the circuit does not fit as laid out (:mod:`qas.routing`: ``cirq.RouteCQC``
   from several initial layouts, or Qiskit's Sabre where it needs fewer SWAPs; SWAPs as CNOTs), then re-synthesise
   the two-qubit blocks the SWAPs joined;
3. **verify** that the routed circuit equals the original up to the qubit permutation routing introduced, by
   simulating both on random input states (on the physical qubits the routed circuit touches).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qas.circuit import Circuit
from qas.devices import Device, load_device
from qas.errors import InvalidCircuitError, MissingDependencyError, QasError
from qas.gates import GATES
from qas.sim import final_state
from qas.sim.statevector import zero_state
from qas.translate import translate

FORMATS = ("qasm3", "qasm2", "cirq-json", "qiskit")

# The verification's overlap tolerance. Looser than double precision for two reasons measured: qsim, which simulates
# it from AUTO_QSIM_MIN_QUBITS qubits on (50x faster than numpy at 20), works in single precision (an error of 2e-8
# after 1,151 gates), and Cirq's sqrt-iSWAP synthesis of a CNOT-class block is accurate to 4e-8 only (a square root
# of rounding error at its case split; 1e-8 failed a routed CNOT triangle). A wrong qubit or gate moves random states'
# overlaps far more.
_VERIFY_ATOL = 1e-5
# Largest number of touched physical qubits the verification simulates (2**20 amplitudes per input state).
_MAX_VERIFY_QUBITS = 20


@dataclass(frozen=True)
class ExportResult:
    """A circuit laid out on a device.

    Attributes:
        circuit: the circuit on the device's physical qubits, in its native gates.
        device: the device.
        initial_mapping: ``initial_mapping[i]`` is the physical qubit that logical qubit ``i`` starts on.
        final_mapping: ``final_mapping[i]`` is the physical qubit holding logical qubit ``i`` at the end (routing
            SWAPs move qubits; read results through this map).
        verified: True when simulation showed the routed circuit equals the original up to that permutation (and a
            global phase); None when the circuit touches too many qubits to simulate.
    """

    circuit: Circuit
    device: Device
    initial_mapping: tuple[int, ...]
    final_mapping: tuple[int, ...]
    verified: bool | None = field(default=None)

    def to_qasm(self, version: str = "3.0") -> str:
        """OpenQASM of the placed circuit, its layout in comments below the version line.

        Results measured on physical qubits are read back through ``final_mapping``; a file without it loses that.
        """
        version_line, rest = self.circuit.to_qasm(version).split("\n", 1)
        layout = (
            f"// on {self.device.name}: logical qubit i starts on q[initial_mapping[i]], ends on q[final_mapping[i]]\n"
            f"// initial_mapping = {list(self.initial_mapping)}\n"
            f"// final_mapping = {list(self.final_mapping)}\n"
        )
        return f"{version_line}\n{layout}{rest}"

    def to_qiskit(self) -> Any:
        """A ``qiskit.QuantumCircuit`` of the placed circuit, its layout in ``metadata`` (QPY files keep it)."""
        quantum_circuit = to_qiskit(self.circuit)
        quantum_circuit.metadata = {
            "device": self.device.name,
            "initial_mapping": list(self.initial_mapping),
            "final_mapping": list(self.final_mapping),
        }
        return quantum_circuit

    def summary(self) -> dict[str, Any]:
        """Plain data for ``--json`` output."""
        return {
            "device": self.device.name,
            "initial_mapping": list(self.initial_mapping),
            "final_mapping": list(self.final_mapping),
            "verified": self.verified,
            **self.circuit.metrics(),
        }


# ----- layout on a device --------------------------------------------------------------------------------------------


def to_device(circuit: Circuit, device: str | Path | Device, *, seed: int = 0) -> ExportResult:
    """Translate ``circuit`` to ``device``'s native gates, route it onto its coupling graph, and verify the result.

    Args:
        circuit: the logical circuit.
        device: a :class:`Device`, a built-in device name, or a JSON/YAML device file.
        seed: seeds the random initial layouts routing tries and the verification's random input states.

    Raises:
        UnknownDeviceError: the device cannot be resolved.
        InvalidCircuitError: the circuit has more qubits than the device.
        QasError: the circuit needs routing and the device's coupling graph is not connected.
    """
    import networkx as nx

    device = load_device(device)
    if circuit.n_qubits > device.n_qubits:
        raise InvalidCircuitError(
            f"a {circuit.n_qubits}-qubit circuit does not fit on {device.name} ({device.n_qubits} qubits)"
        )
    native = translate(circuit, device.gates, optimize=True)
    widened = Circuit(device.n_qubits, native.operations)
    if device.fits(widened):
        identity = tuple(range(circuit.n_qubits))
        return ExportResult(widened, device, identity, identity, _verify(circuit, widened, identity, identity, seed))
    graph = device.graph  # built anew at each access
    if not nx.is_connected(graph):
        parts = sorted(sorted(c) for c in nx.connected_components(graph))
        raise QasError(
            f"cannot route onto {device.name}: its coupling graph falls apart into {parts}; routing needs every "
            "qubit reachable (drop the unreachable qubits from the device, or add their couplings)"
        )
    if any(len(o.qubits) > 2 for o in native.operations):
        # Routing moves qubits for two-qubit gates only: a native three-qubit gate that does not fit is written in
        # CNOTs (Cirq's router refused the circuit with a ValueError).
        native = translate(native, [g for g in device.gates if GATES[g].num_qubits < 3], optimize=True)
    from qas.routing import route

    routed = route(native, graph, seed=seed)
    # Re-synthesis merges the routing's CNOTs with the gates beside them where that saves entangling gates.
    placed = translate(routed.circuit, device.gates, optimize=True)
    verified = _verify(circuit, placed, routed.initial_mapping, routed.final_mapping, seed)
    return ExportResult(placed, device, routed.initial_mapping, routed.final_mapping, verified)


def _verify(
    logical: Circuit, placed: Circuit, initial: tuple[int, ...], final: tuple[int, ...], seed: int, n_states: int = 4
) -> bool | None:
    """Whether ``placed`` maps ``psi`` on the ``initial`` qubits (others |0>) to ``U psi`` on the ``final`` ones.

    Checked on ``n_states`` random states with one common global phase; qubits ``placed`` never touches are left out.
    """
    touched = sorted(set(initial) | set(final) | {q for o in placed.operations for q in o.qubits})
    if len(touched) > _MAX_VERIFY_QUBITS:
        return None
    local = {p: i for i, p in enumerate(touched)}
    compact = Circuit(len(touched), tuple(o.moved(local) for o in placed))
    rng = np.random.default_rng(seed)
    overlaps = []
    for _ in range(n_states):
        psi = rng.normal(size=2**logical.n_qubits) + 1j * rng.normal(size=2**logical.n_qubits)
        psi /= np.linalg.norm(psi)
        actual = final_state(compact, initial_state=_embed(psi, [local[p] for p in initial], len(touched)))
        expected = _embed(final_state(logical, initial_state=psi), [local[p] for p in final], len(touched))
        overlaps.append(np.vdot(expected, actual))
    return bool(all(abs(o - overlaps[0]) < _VERIFY_ATOL for o in overlaps) and abs(abs(overlaps[0]) - 1) < _VERIFY_ATOL)


def _embed(psi: np.ndarray, positions: list[int], m: int) -> np.ndarray:
    """``psi`` on ``m`` qubits: its qubit ``i`` on qubit ``positions[i]``, the rest |0>."""
    n = len(positions)
    others = [p for p in range(m) if p not in positions]
    full = np.kron(psi, zero_state(m - n)) if m > n else psi
    # Axis k of ``full`` is qubit (positions + others)[k]; move each to its place.
    return full.reshape((2,) * m).transpose(np.argsort(positions + others)).reshape(-1)


# ----- output formats ------------------------------------------------------------------------------------------------


def export(circuit: Circuit | ExportResult, fmt: str) -> str:
    """``circuit`` as text in ``fmt``: ``qasm3``, ``qasm2`` or ``cirq-json`` (``qiskit`` is :func:`to_qiskit`).

    An :class:`ExportResult`'s OpenQASM carries its layout in comments; cirq-json holds the placed circuit only.
    """
    if fmt == "qasm3":
        return circuit.to_qasm("3.0")
    if fmt == "qasm2":
        return circuit.to_qasm("2.0")
    if fmt == "cirq-json":
        import cirq

        placed = circuit.circuit if isinstance(circuit, ExportResult) else circuit
        return cirq.to_json(placed.to_cirq())
    raise QasError(f"unknown export format {fmt!r}; text formats are qasm3, qasm2, cirq-json (and qiskit in Python)")


def to_qiskit(circuit: Circuit) -> Any:
    """A ``qiskit.QuantumCircuit`` with the same unitary, global phase included (needs the ``qiskit`` extra)."""
    try:
        from qiskit import QuantumCircuit
        from qiskit.circuit.library import UnitaryGate, get_standard_gate_name_mapping
    except ImportError:
        raise MissingDependencyError('Qiskit export needs Qiskit: pip install "qas[qiskit]"') from None
    standard = get_standard_gate_name_mapping()
    renamed = {"i": "id", "u3": "u"}
    qc = QuantumCircuit(circuit.n_qubits)
    for o in circuit.operations:
        name = renamed.get(o.gate, o.gate)
        if name in standard:
            qc.append(standard[name].base_class(*o.params), list(o.qubits))
        else:
            # Qiskit reads a matrix little-endian (first qubit least significant), so list our qubits reversed.
            qc.append(UnitaryGate(o.matrix(), label=o.gate), list(reversed(o.qubits)))
    return qc
