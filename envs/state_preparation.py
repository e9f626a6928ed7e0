"""``qas/StatePreparation-v0``: build, gate by gate, a circuit that prepares a target state from |0...0>."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qas.envs.actions import Connectivity
from qas.envs.base import FidelityEnv
from qas.envs.rewards import RewardScheme
from qas.gate_sets import GateSet
from qas.noise import NoiseModel
from qas.targets import resolve_state


class StatePreparationEnv(FidelityEnv):
    """Prepare a target state from |0...0> by appending one gate per step.

    ## Description
    The agent builds a circuit gate by gate; the environment keeps the state (or, with noise, the exact density
    matrix) and applies only the new gate each step. The set-ups of Kuo et al. 2021 and KANQAS 2024 are presets
    (:mod:`qas.envs.presets`).

    ## Action Space
    ``Discrete(A)``: one action per gate of the gate set on each allowed qubit tuple (one-qubit gates qubit by qubit,
    then multi-qubit gates; see :class:`~qas.envs.actions.ActionTable`). Kuo on Bell gives 12 actions, KANQAS on Bell
    12 and on GHZ-3 21. :meth:`action_masks` forbids repeating a gate back to back on the same qubits.

    ## Observation Space
    ``Box(float32)``: ``pauli`` = ``<X_i>, <Y_i>, <Z_i>`` per qubit (3n values in [-1, 1], after readout noise), or
    ``circuit`` = the binary ``max_gates x rows x n`` circuit tensor (KANQAS), flattened, or ``encoding`` = the
    shared :class:`qas.encoding.CircuitEncoding` one-hot grid (what agents and generators use).

    ## Rewards
    From the fidelity ``F = <t|rho|t>`` (exact, density matrix under noise): ``kuo`` gives ``F - 0.01`` once
    ``F > threshold`` else ``-0.01``; ``kanqas`` gives ``50 F`` once ``F >= threshold`` else ``F``.

    ## Starting State
    The empty circuit on |0...0>.

    ## Episode End
    Terminated when the reward scheme's success condition holds; truncated after ``max_gates`` gates.

    ## Info
    ``fidelity``, ``circuit`` (a :class:`qas.Circuit`), its cost metrics (``gate_count``, ``two_qubit_count``,
    ``cnot_count``, ``depth``, ``parameter_count``, ``n_qubits``), ``is_success`` and ``action_mask``.

    ## Arguments
    | argument | meaning | default (preset ``kuo``) |
    |---|---|---|
    | ``target`` | ``bell``, ``ghz<n>``, ``w<n>``, a state vector, or a ``.npy``/``.txt``/``.csv`` file | ``bell`` |
    | ``preset`` | ``kuo``, ``kuo-noisy``, ``kanqas``, ``kanqas-noisy`` | ``kuo`` |
    | ``gate_set`` | a gate-set preset, a list of gates, or a :class:`~qas.GateSet` | preset's |
    | ``connectivity`` | ``all``, ``ring``, ``line`` or directed pairs | the gate set's |
    | ``max_gates`` | gate limit per episode | 20 |
    | ``threshold`` | success fidelity | 0.95 |
    | ``noise`` | a :class:`~qas.NoiseModel` or ``none``/``kuo``/``kanqas`` | ``none`` |
    | ``observation`` | ``pauli``, ``circuit`` or ``encoding`` | ``pauli`` |
    | ``reward`` | ``kuo``, ``kanqas`` or a :class:`~qas.envs.rewards.RewardScheme` | ``kuo`` |
    | ``seed`` | seed of the first reset | None |

    >>> import gymnasium as gym, qas
    >>> env = gym.make("qas/StatePreparation-v0", target="bell", preset="kuo")
    >>> obs, info = env.reset(seed=0)
    >>> for a in (4, 10):  # h on qubit 0, then cx(0, 1)
    ...     obs, reward, terminated, truncated, info = env.step(a)
    >>> round(info["fidelity"], 6), terminated
    (1.0, True)

    ## Version History
    - v0: initial version.
    """

    presets = ("kuo", "kuo-noisy", "kanqas", "kanqas-noisy")
    observations = ("pauli", "circuit", "encoding")

    def __init__(
        self,
        target: object = "bell",
        *,
        preset: str = "kuo",
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
        self.target, self.target_name = resolve_state(target)
        super().__init__(
            int(np.log2(len(self.target))),
            self.target,
            with_reference=False,
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
        )
