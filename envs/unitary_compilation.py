"""``qas/UnitaryCompilation-v0``: build, gate by gate, a circuit that implements a target unitary."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qas.envs.actions import Connectivity
from qas.envs.base import FidelityEnv
from qas.envs.rewards import RewardScheme
from qas.errors import ConfigError
from qas.gate_sets import GateSet
from qas.noise import NoiseModel
from qas.targets import resolve_unitary

MAX_QUBITS = 4


class UnitaryCompilationEnv(FidelityEnv):
    """Compile a 2-4 qubit target unitary ``T`` gate by gate.

    ## Description
    The register holds the Choi state ``(V ⊗ I)|Φ+>`` of the circuit so far (``V``) on the system qubits and as many
    reference qubits, so each step applies one gate to it, as in state preparation. Its overlap with
    ``(T ⊗ I)|Φ+>`` is exactly the Hilbert-Schmidt fidelity ``|Tr(T^dagger V)|^2 / d^2`` (1 when ``V = T`` up to a
    global phase); under noise the register is the exact density matrix and the value is the entanglement
    (process) fidelity of the noisy channel.

    ## Action Space
    As :class:`~qas.envs.state_preparation.StatePreparationEnv`: ``Discrete(A)`` over the gate set and qubit tuples.

    ## Observation Space
    ``unitary`` (default when noiseless): real and imaginary parts of ``T^dagger V``, ``2 d^2`` values in [-1, 1]; it
    is the identity exactly when the task is solved. ``circuit``: the binary circuit tensor (default under noise).
    ``encoding``: the shared :class:`qas.encoding.CircuitEncoding` one-hot grid.

    ## Rewards
    ``kanqas`` (default, threshold 0.99): ``50 F`` once ``F >= threshold`` else ``F``; or ``kuo``.

    ## Starting State
    The empty circuit (``V = I``).

    ## Episode End
    Terminated on success; truncated after ``max_gates`` gates (default 20 per qubit beyond the first).

    ## Arguments
    ``target`` (``cnot``, ``cz``, ``swap``, ``toffoli``, ``fredkin``, ``qft2``, ``qft3``..., a unitary, a
    ``.npy``/``.txt``/``.csv`` file, or a circuit or ``.qasm``/``.json`` circuit file whose unitary is the target;
    default ``cz``, which is CNOT-class: ``h 1, cx 0,1, h 1``), ``preset``
    (``unitary``), ``gate_set``, ``connectivity``, ``max_gates``, ``threshold``, ``noise``, ``observation``,
    ``reward``, ``seed``, ``render_mode``, as for state preparation.

    >>> import gymnasium as gym, qas
    >>> env = gym.make("qas/UnitaryCompilation-v0")  # CZ from Clifford+T gates
    >>> _ = env.reset(seed=0)
    >>> labels = [str(a) for a in env.unwrapped.table.actions]
    >>> for gate in ("h 1", "cx 0,1", "h 1"):
    ...     obs, reward, terminated, truncated, info = env.step(labels.index(gate))
    >>> round(info["fidelity"], 6), terminated
    (1.0, True)

    ## Version History
    - v0: initial version.
    """

    presets = ("unitary",)
    observations = ("unitary", "circuit", "encoding")

    def __init__(
        self,
        target: object = "cz",
        *,
        preset: str = "unitary",
        gate_set: str | GateSet | Sequence[str] | None = None,
        connectivity: Connectivity | None = None,
        max_gates: int | None = None,
        threshold: float | None = None,
        noise: NoiseModel | str | None = None,
        observation: str | None = None,
        reward: str | RewardScheme | None = None,
        seed: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.target, self.target_name = resolve_unitary(target)
        d = self.target.shape[0]
        n = int(np.log2(d))
        if n > MAX_QUBITS:
            raise ConfigError(f"unitary compilation supports 2-{MAX_QUBITS} qubits, the target has {n}")
        super().__init__(
            n,
            self.target.reshape(-1) / np.sqrt(d),  # (T ⊗ I)|Φ+> = sum_ij T_ij |i>|j> / sqrt(d)
            with_reference=True,
            preset=preset,
            gate_set=gate_set,
            connectivity=connectivity,
            max_gates=max_gates,
            threshold=threshold,
            noise=noise,
            observation=observation,
            reward=reward,
            seed=seed,
            render_mode=render_mode,
            target_unitary=self.target,
        )
