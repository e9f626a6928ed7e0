"""Faithful presets of the published environment set-ups, so results compare with the literature.

A preset is a set of default keyword arguments; any argument given explicitly to an environment overrides it.
Sources (see ``/work/shared/notes/published-setups.md``):

- ``kuo``: Kuo et al. 2021, arXiv:2104.07715 (qas-gym): ``rz(pi/4), x, y, z, h`` per qubit and ``cx(i, i+1 mod n)``,
  observation ``<X_i>, <Y_i>, <Z_i>``, reward ``F - 0.01`` once ``F > 0.95`` else ``-0.01``, at most 20 gates.
  ``kuo-noisy`` adds ``depolarize(0.001)`` after every gate on each qubit it touches and ``bit_flip(0.001)`` before
  measurement (the observation).
- ``kanqas``: KANQAS 2024, arXiv:2406.17630: all directed CNOTs and ``x, y, z, h, t``, binary circuit-tensor
  observation ``depth x (n+5) x n``, reward ``50 F`` once ``F >= 0.98`` else ``F``, depth 6 (Bell) / 12 (GHZ-3).
  ``kanqas-noisy`` adds an X error with p = 0.3 after one-qubit gates and two-qubit depolarising 0.2 (Qiskit's
  definition, = Cirq's ``depolarize(0.1875, 2)``) after CNOTs; its best reachable Bell fidelity is 0.85.
- ``crlqas``: CRLQAS 2024, arXiv:2402.03500, for VQE: all directed CNOTs and fitted ``rx, ry, rz``, circuit-tensor
  observation plus the previous energy, reward +5 / -5 / clipped relative improvement, chemical accuracy 1.6e-3 Ha,
  depth 40 (H2, LiH-4q) / 70 (LiH-6q).
- ``unitary``: our default for unitary compilation (see :data:`PRESETS`).
"""

from __future__ import annotations

import difflib
from typing import Any

from qas.errors import ConfigError, QasError
from qas.noise import NOISELESS, NoiseModel, as_noise_model, bit_flip, depolarize

NOISE_PRESETS: dict[str, NoiseModel] = {
    "none": NOISELESS,
    "kuo": NoiseModel(
        after_one_qubit=depolarize(1e-3), after_two_qubit=depolarize(1e-3), before_measurement=bit_flip(1e-3)
    ),
    # Qiskit's depolarizing_error(0.2, 2) is Cirq's depolarize(0.2 * 15 / 16, 2).
    "kanqas": NoiseModel(after_one_qubit=bit_flip(0.3), after_two_qubit=depolarize(0.2 * 15 / 16, 2)),
}


def _kanqas_depth(n_qubits: int) -> int:
    # KANQAS configs: 6 layers for Bell, 12 for GHZ-3; beyond that we extrapolate linearly (our choice).
    return 6 * (n_qubits - 1)


def _crlqas_depth(n_qubits: int) -> int:
    # CRLQAS configs: D = 40 for H2 (2-4 qubits) and LiH-4q, 70 for LiH-6q.
    return 40 if n_qubits <= 4 else 70


def _unitary_gates(n_qubits: int) -> int:
    return 20 * (n_qubits - 1)


_KUO = {"gate_set": "kuo", "max_gates": 20, "observation": "pauli", "reward": "kuo", "noise": "none"}
_KANQAS = {
    "gate_set": "kanqas",
    "max_gates": _kanqas_depth,
    "observation": "circuit",
    "reward": "kanqas",
    "noise": "none",
}

# preset -> default keyword arguments; a callable value is evaluated on the number of qubits.
PRESETS: dict[str, dict[str, Any]] = {
    "kuo": _KUO,
    "kuo-noisy": {**_KUO, "noise": "kuo"},
    "kanqas": _KANQAS,
    "kanqas-noisy": {**_KANQAS, "noise": "kanqas"},
    # Our own default for unitary compilation (no published RL set-up is faithful here): Clifford+T with all
    # directed CNOTs, the T^dagger V observation and the dense KANQAS-style reward, success at F >= 0.99.
    "unitary": {
        "gate_set": "kanqas",
        "max_gates": _unitary_gates,
        "observation": "unitary",
        "reward": "kanqas",
        "threshold": 0.99,
        "noise": "none",
    },
    "crlqas": {
        "gate_set": "crlqas",
        "max_gates": _crlqas_depth,
        "observation": "circuit+energy",
        "reward": "crlqas",
        "noise": "none",
    },
}


def preset_defaults(preset: str, n_qubits: int, allowed: tuple[str, ...]) -> dict[str, Any]:
    """The defaults of ``preset`` for an environment on ``n_qubits`` qubits that accepts the presets ``allowed``."""
    if preset not in allowed:
        close = difflib.get_close_matches(str(preset), allowed, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown preset {preset!r} for this environment; choose one of {list(allowed)}.{hint}")
    return {k: (v(n_qubits) if callable(v) else v) for k, v in PRESETS[preset].items()}


def resolve_noise(noise: NoiseModel | str | None) -> NoiseModel:
    """A noise model, a preset name (``none``, ``kuo``, ``kanqas``), a spec for :func:`qas.noise.parse_noise`
    (``depolarize:0.01``, ``1q=bit_flip:0.3,2q=depolarize:0.2``) or None (noiseless)."""
    if isinstance(noise, str) and noise in NOISE_PRESETS:
        return NOISE_PRESETS[noise]
    if noise is None or isinstance(noise, NoiseModel) or (isinstance(noise, str) and ":" in noise):
        try:
            return as_noise_model(noise)
        except QasError as err:
            raise ConfigError(str(err)) from None
    raise ConfigError(
        f"noise must be a qas.NoiseModel, a spec like depolarize:0.01, or one of {sorted(NOISE_PRESETS)}, got {noise!r}"
    )
