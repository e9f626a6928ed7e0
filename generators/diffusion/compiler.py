"""The ``diffusion`` method of :func:`qas.compile` (entry point ``qas.compilers``).

It picks shipped weights whose gates cover the requested gate set (sampling is then restricted to those gates);
when none covers it (the core's default output set is ``u3, cx``), every shipped model is tried unrestricted and
:func:`qas.compile` translates the result. Models are tried in order until one reaches ``tolerance``.
An exact answer that must be rewritten into the requested gates anyway (a ccx for ``u3, cx``) is rewritten with as
few CNOTs as :func:`.resynthesis.fewer_cnots` finds, when the requested gates can write its general one-qubit gates.
A device's coupling map constrains sampling when the device has exactly the target's qubit count; for a larger
device the core routes the circuit afterwards. Sampling is seeded (``seed``, 0 unless given), so a compile gives the
same circuit every time, as a compiler should; ``qas generate`` is the sampler.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qas.circuit import Circuit
from qas.compile import CompileResult
from qas.devices import Device
from qas.errors import QasError
from qas.gate_sets import GateSet
from qas.translate import translate

from .pipeline import DiffusionGenerator, load_generator, shipped_weights
from .resynthesis import fewer_cnots

# Infidelity at which a model's answer is accepted without trying the next model (and up to which pruning may drop
# gates): exact compilations reach ~1e-13 after refinement, so this only separates exact from approximate ones.
DEFAULT_TOLERANCE = 1e-7


def choose_generators(
    gates: tuple[str, ...] | None, n_qubits: int, weights: str | Path | None, torch_device: str
) -> list[tuple[DiffusionGenerator, list[str] | None]]:
    """(generator, gate restriction) pairs to try, in order; ``gates=None`` allows every model's own gates."""
    names = [str(weights)] if weights is not None else list(shipped_weights())
    if not names:
        raise QasError("no diffusion weights are installed; train some with `qas train-generator`")
    generators = [load_generator(name, torch_device) for name in names]
    generators = [g for g in generators if g.n_qubits >= n_qubits]
    if not generators:
        raise QasError(f"no diffusion weights handle {n_qubits} qubits (shipped models are for up to 3)")
    if gates is None:
        return [(g, None) for g in generators]
    covering = [(g, list(gates)) for g in generators if set(gates) <= set(g.gates)]
    return covering or [(g, None) for g in generators]


def compile(
    target: np.ndarray,
    *,
    gates: GateSet,
    device: Device | None = None,
    samples: int = 64,
    weights: str | Path | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    seed: int = 0,
    torch_device: str = "cpu",
) -> CompileResult:
    """Compile ``target`` with the diffusion generator (see the module docstring)."""
    n_qubits = int(np.log2(target.shape[0]))
    coupling = list(device.edges) if device is not None and device.n_qubits == n_qubits else None
    best = None
    for generator, allowed in choose_generators(gates.gate_names, n_qubits, weights, torch_device):
        generation = generator.generate(
            target, samples=samples, gates=allowed, coupling=coupling, tolerance=tolerance, stop_early=True, seed=seed
        )
        if best is None or generation.best.infidelity < best.infidelity:
            best = generation.best
        if best.infidelity <= tolerance:
            break
    circuit = _fewest_cnots(target, best.circuit, gates, seed) if best.infidelity <= tolerance else best.circuit
    return CompileResult.from_circuit(circuit, target, "diffusion")


def _fewest_cnots(target: np.ndarray, circuit: Circuit, gates: GateSet, seed: int) -> Circuit:
    """``circuit`` in ``gates`` with fewer CNOTs when it needs rewriting into them and the shorter form exists."""
    if "cx" not in gates.gate_names or {o.gate for o in circuit} <= set(gates.gate_names):
        return circuit
    shorter = fewer_cnots(target, circuit, seed=seed)
    if shorter is None:
        return circuit
    try:
        return translate(shorter, gates)
    except QasError:  # the gates cannot write a general one-qubit gate (e.g. Clifford+T): keep the answer
        return circuit
