"""The single gate-by-gate Gymnasium environment: one episode of a batched search, plus its circuit and pictures.

:class:`CircuitEnv` turns a :mod:`qas.envs.search` engine of batch one into a ``gymnasium.Env``; :class:`FidelityEnv`
adds the argument handling shared by state preparation and unitary compilation (presets, gate set, noise,
observation, reward). Each environment also builds engines of any batch size (:meth:`CircuitEnv.make_search`),
which is how :func:`qas.envs.make_vec` steps thousands of copies in one kernel call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from qas.circuit import Circuit
from qas.envs.actions import ActionTable, Connectivity
from qas.envs.kernel import Register
from qas.envs.observations import make_observation
from qas.envs.presets import preset_defaults, resolve_noise
from qas.envs.rewards import RewardScheme, make_reward
from qas.envs.search import FidelitySearch, GateByGateSearch
from qas.errors import ConfigError
from qas.gate_sets import GateSet
from qas.noise import NoiseModel
from qas.settings import is_integer

# The longest episode an environment takes: observations grow with it (GroundState-v0's circuit tensor is 28 values a
# gate on H2, 280,001 floats at this limit), and 10**9 failed with numpy's MemoryError instead of an error naming it.
MAX_GATES = 10_000


def check_max_gates(max_gates: object) -> int:
    """``max_gates`` as an int, or a :class:`ConfigError` naming the bad value."""
    if not is_integer(max_gates) or not 1 <= max_gates <= MAX_GATES:
        raise ConfigError(f"max_gates must be an integer from 1 to {MAX_GATES}, got {max_gates!r}")
    return int(max_gates)


def resolve_reward(reward: str | RewardScheme, threshold: float | None, **kwargs: Any) -> RewardScheme:
    """A scheme by name (``threshold`` overriding its own), or a ready :class:`~qas.envs.rewards.RewardScheme`."""
    if isinstance(reward, str):
        return make_reward(reward, threshold, **kwargs)
    if not callable(reward) or not hasattr(reward, "threshold"):
        raise ConfigError(f"reward must be a scheme name or a RewardScheme, got {reward!r}")
    return reward


class CircuitEnv(gym.Env[np.ndarray, np.int64]):
    """Base of the gate-by-gate environments: one episode of ``self.search`` (a batch of one).

    Subclasses set ``self._build`` (batch size -> engine, picklable), build ``self.search = self._build(1)`` and call
    :meth:`_setup_spaces`; ``value_key`` names the task value in ``info``.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}  # noqa: RUF012 (Gymnasium's convention)
    value_key = "fidelity"
    search: GateByGateSearch
    _build: Callable[[int], GateByGateSearch]

    def __init__(self, n_qubits: int, render_mode: str | None, seed: int | None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.n_qubits = n_qubits
        self._first_seed = seed
        self._last_success = False

    def _setup_spaces(self, table: ActionTable) -> None:
        observation = self.search.observation
        self.table = table
        self.action_space = gym.spaces.Discrete(len(table))
        self.observation_space = gym.spaces.Box(
            observation.low, observation.high, shape=(observation.size,), dtype=np.float32
        )

    def draw_limits(self, rng: np.random.Generator, count: int) -> np.ndarray | None:
        """Gate limits for ``count`` new episodes, or None for ``max_gates`` (random halting overrides this)."""
        return None

    def make_search(self, batch: int) -> GateByGateSearch:
        """A fresh engine of ``batch`` episodes with this environment's settings (the vector env's engine)."""
        return self._build(batch)

    @property
    def circuit(self) -> Circuit:
        """The circuit built so far in this episode."""
        return self.search.circuit(0)

    def action_masks(self) -> np.ndarray:
        """Legal actions now (sb3-contrib MaskablePPO's hook): no gate repeated back to back on the same qubits."""
        return self.search.masks()[0]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        if seed is None and self._first_seed is not None:
            seed, self._first_seed = self._first_seed, None
        super().reset(seed=seed)
        self._last_success = False
        self.search.reset(np.arange(1), self.draw_limits(self.np_random, 1))
        return self.search.observe()[0], self._info()

    def step(self, action: int | np.integer) -> tuple[np.ndarray, float, bool, bool, dict]:
        if not self.action_space.contains(action):
            raise ConfigError(f"action {action!r} is not in {self.action_space}")
        if self.search.n_gates[0] >= self.search.limits[0]:
            raise ConfigError(f"the episode already has its {self.search.limits[0]} gates; call reset()")
        rewards, terminated, truncated = self.search.step(np.array([int(action)]))
        self._last_success = bool(terminated[0])
        return self.search.observe()[0], float(rewards[0]), bool(terminated[0]), bool(truncated[0]), self._info()

    def _info(self) -> dict[str, Any]:
        metrics = {k: int(v[0]) for k, v in self.search.metrics().items()}
        return {
            self.value_key: float(self.search.values[0]),
            "circuit": self.circuit,
            "n_qubits": self.n_qubits,
            **metrics,
            "is_success": self._last_success,
            "action_mask": self.action_masks(),
        }

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "ansi":
            return str(self.circuit)
        if self.render_mode == "rgb_array":
            return circuit_picture(self.circuit)
        return None


class FidelityEnv(CircuitEnv):
    """The shared set-up of the fidelity tasks: a pure target on the register, reached gate by gate.

    Subclasses resolve their target and pass it as ``register_target`` (the state, or ``vec(T)/sqrt(d)`` on the
    system + reference register), with the presets and observations they accept.
    """

    presets: tuple[str, ...]
    observations: tuple[str, ...]

    def __init__(
        self,
        n_qubits: int,
        register_target: np.ndarray,
        *,
        with_reference: bool,
        preset: str,
        gate_set: str | GateSet | Sequence[str] | None,
        connectivity: Connectivity | None,
        max_gates: int | None,
        threshold: float | None,
        noise: NoiseModel | str | None,
        observation: str | None,
        reward: str | RewardScheme | None,
        seed: int | None,
        render_mode: str | None,
        target_unitary: np.ndarray | None = None,
    ) -> None:
        super().__init__(n_qubits, render_mode, seed)
        defaults = preset_defaults(preset, n_qubits, self.presets)
        self.noise = resolve_noise(noise if noise is not None else defaults["noise"])
        table = ActionTable(gate_set or defaults["gate_set"], n_qubits, connectivity)
        register = Register(n_qubits, self.noise, with_reference=with_reference)
        limit = check_max_gates(max_gates if max_gates is not None else defaults["max_gates"])
        kind = observation or defaults["observation"]
        if kind == "unitary" and register.mixed and observation is None:
            kind = "circuit"  # the unitary observation needs a pure register; noisy presets fall back
        scheme = resolve_reward(
            reward or defaults["reward"],
            threshold if threshold is not None else defaults.get("threshold"),
            energy=False,
        )

        observe = functools.partial(
            make_observation, kind, self.observations, table, register, limit, target_unitary=target_unitary
        )
        # A partial, not a closure, so environments pickle (SubprocVecEnv, Gymnasium's pickle checks).
        self._build = functools.partial(FidelitySearch, table, register, register_target, observe, scheme, limit)
        self.search = self._build(1)
        self._setup_spaces(table)


def circuit_picture(circuit: Circuit) -> np.ndarray:
    """The circuit drawn by :func:`qas.draw.to_figure`, rasterised: (H, W, 3) uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from qas.draw import to_figure

    canvas = FigureCanvasAgg(to_figure(circuit))
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
