"""``qas/StatePreparation-v0``: build, gate by gate, a circuit that prepares a target state from |0...0>."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qas.envs.actions import ActionTable, Connectivity
from qas.envs.base import CircuitEnv, FidelitySearch, check_max_gates
from qas.envs.kernel import Register
from qas.envs.observations import CircuitTensorObservation, PauliObservation
from qas.envs.presets import preset_defaults, resolve_noise
from qas.envs.rewards import RewardScheme, make_reward
from qas.errors import ConfigError
from qas.gate_sets import GateSet
from qas.noise import NoiseModel
from qas.targets import resolve_state


def build_observation(
    kind: str, table: ActionTable, register: Register, max_gates: int, allowed: Sequence[str]
) -> PauliObservation | CircuitTensorObservation:
    """The ``pauli`` or ``circuit`` observation; other kinds are the subclasses' own."""
    if kind not in allowed:
        raise ConfigError(f"unknown observation {kind!r} for this environment; choose one of {list(allowed)}")
    if kind == "pauli":
        return PauliObservation(register)
    return CircuitTensorObservation(table, max_gates)


class StatePreparationEnv(CircuitEnv):
    """Prepare a target state from |0...0> by appending one gate per step.

    ## Description
    The agent builds a circuit gate by gate; the environment keeps the state (or, with noise, the exact density
    matrix) and applies only the new gate each step. Set-ups of Kuo et al. 2021 and KANQAS 2024 are presets.

    ## Action Space
    ``Discrete(A)``: one action per gate of the gate set on each allowed qubit tuple (see
    :class:`~qas.envs.actions.ActionTable`); Kuo on Bell gives 12, KANQAS on Bell 12, on GHZ-3 21.
    :meth:`action_masks` forbids repeating a gate back to back on the same qubits.

    ## Observation Space
    ``Box(float32)``: ``pauli`` = ``<X_i>, <Y_i>, <Z_i>`` per qubit (3n values in [-1, 1], after readout noise), or
    ``circuit`` = the binary ``max_gates x rows x n`` circuit tensor (KANQAS), flattened.

    ## Rewards
    From the fidelity ``F = <t|rho|t>``: ``kuo`` gives ``F - 0.01`` once ``F > threshold`` else ``-0.01``;
    ``kanqas`` gives ``50 F`` once ``F >= threshold`` else ``F``.

    ## Starting State
    The empty circuit on |0...0>.

    ## Episode End
    Terminated when the reward scheme's success condition holds; truncated after ``max_gates`` gates.

    ## Arguments
    | argument | meaning | default (preset ``kuo``) |
    |---|---|---|
    | ``target`` | ``bell``, ``ghz<n>``, ``w<n>``, a state vector, or a ``.npy``/``.txt`` file | ``bell`` |
    | ``preset`` | ``kuo``, ``kuo-noisy``, ``kanqas``, ``kanqas-noisy`` | ``kuo`` |
    | ``gate_set`` | a gate-set preset, a list of gates, or a :class:`~qas.GateSet` | preset's |
    | ``connectivity`` | ``all``, ``ring``, ``line`` or directed pairs | the gate set's |
    | ``max_gates`` | gate limit per episode | 20 |
    | ``threshold`` | success fidelity | 0.95 |
    | ``noise`` | a :class:`~qas.NoiseModel` or ``none``/``kuo``/``kanqas`` | ``none`` |
    | ``observation`` | ``pauli`` or ``circuit`` | ``pauli`` |
    | ``reward`` | ``kuo`` or ``kanqas`` | ``kuo`` |
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
        state, self.target_name = resolve_state(target)
        n = int(np.log2(len(state)))
        super().__init__(n, render_mode, seed)
        self.target = state
        defaults = preset_defaults(preset, n, ("kuo", "kuo-noisy", "kanqas", "kanqas-noisy"))
        table = ActionTable(gate_set or defaults["gate_set"], n, connectivity)
        self.noise = resolve_noise(noise if noise is not None else defaults["noise"])
        register = Register(n, self.noise)
        limit = check_max_gates(max_gates if max_gates is not None else defaults["max_gates"])
        scheme = reward if reward is not None and not isinstance(reward, str) else None
        scheme = scheme or make_reward(reward or defaults["reward"], threshold, energy=False)
        self._parts = (table, register, state, scheme, limit, observation or defaults["observation"])
        self.search = self.make_search(1)
        self._setup_spaces(table, self.search.observation)

    def make_search(self, batch: int) -> FidelitySearch:
        """A fresh batch of ``batch`` episodes of this environment (the vector env's engine)."""
        table, register, state, scheme, limit, obs_kind = self._parts
        obs = build_observation(obs_kind, table, register, limit, ("pauli", "circuit"))
        return FidelitySearch(table, register, state, obs, scheme, limit, batch)
