"""Shared gate-by-gate machinery: a batch of episodes stepped in one kernel call, and the single Gymnasium env on it.

:class:`FidelitySearch` holds B episodes of a fidelity task (state preparation or unitary compilation) as arrays:
the registers, the last action on each qubit (for the masks), gate counts, fidelities and the observation's own
bookkeeping. One step applies every episode's gate with one batched call per qubit tuple, using (super)operators
built once per action. The single environment (:class:`CircuitEnv`) is a batch of one; the SB3 vector environment
(:mod:`qas.envs.vector`) is a batch of ``num_envs``. Both therefore share every line of the step logic.
"""

from __future__ import annotations

from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from qas.circuit import Circuit, Operation
from qas.envs.actions import ActionTable
from qas.envs.kernel import Register
from qas.envs.rewards import RewardScheme
from qas.errors import ConfigError


class Observation(Protocol):
    """What the observation encodings in :mod:`qas.envs.observations` provide."""

    size: int
    low: float
    high: float

    def reset(self, rows: np.ndarray) -> None: ...
    def record(self, actions: np.ndarray, moments: np.ndarray) -> None: ...
    def build(self, states: np.ndarray, values: np.ndarray) -> np.ndarray: ...


def check_max_gates(max_gates: object) -> int:
    if isinstance(max_gates, bool) or not isinstance(max_gates, (int, np.integer)) or max_gates < 1:
        raise ConfigError(f"max_gates must be a positive integer, got {max_gates!r}")
    return int(max_gates)


class FidelitySearch:
    """``batch`` episodes that build circuits gate by gate towards a pure ``target`` on the register.

    Args:
        table: the actions (all with fixed parameters).
        register: the simulated register (state, Choi state, or their density matrices).
        target: the pure target on the register (a state, or ``vec(T) / sqrt(d)`` for a unitary).
        observation: the observation encoding.
        reward: the reward scheme.
        max_gates: episode length limit (truncation).
        batch: number of episodes.
    """

    def __init__(
        self,
        table: ActionTable,
        register: Register,
        target: np.ndarray,
        observation: Observation,
        reward: RewardScheme,
        max_gates: int,
        batch: int,
    ) -> None:
        self.table, self.register, self.target = table, register, target
        self.observation, self.reward, self.max_gates, self.batch = observation, reward, max_gates, batch
        # Each action's (super)operator is built once; a step applies each distinct action to its rows at once.
        self.operators = [register.operator(a.operation().matrix(), a.qubits) for a in table.actions]
        self.initial_state = register.initial(1)[0]
        self.initial_value = float(register.fidelity(self.initial_state[None], target)[0])
        self.states = np.tile(self.initial_state, (batch, 1))
        self.last_action = np.full((batch, table.n_qubits), -1, dtype=np.int64)
        self.free_at = np.zeros((batch, table.n_qubits), dtype=np.int64)  # next free moment of each qubit
        self.n_gates = np.zeros(batch, dtype=np.int64)
        self.n_multi_qubit = np.zeros(batch, dtype=np.int64)
        self.n_cnots = np.zeros(batch, dtype=np.int64)
        self.values = np.full(batch, self.initial_value)
        self._is_multi = np.array([len(a.qubits) > 1 for a in table.actions])
        self._is_cnot = np.array([a.gate == "cx" for a in table.actions])
        self.observation.reset(np.arange(batch))

    def reset(self, rows: np.ndarray) -> None:
        """Start the episodes ``rows`` again from the empty circuit."""
        self.states[rows] = self.initial_state
        self.last_action[rows] = -1
        self.free_at[rows] = 0
        self.n_gates[rows] = 0
        self.n_multi_qubit[rows] = 0
        self.n_cnots[rows] = 0
        self.values[rows] = self.initial_value
        self.observation.reset(rows)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Append ``actions[b]`` to episode b for every b; returns (rewards, terminated, truncated)."""
        if self.batch == 1:
            operator, qubits = self.operators[actions[0]]
            self.states = self.register.apply(self.states, operator, qubits)
        else:
            # Sort the episodes by action: one batched kernel call per distinct action.
            order = np.argsort(actions, kind="stable")
            for rows in np.split(order, np.flatnonzero(np.diff(actions[order])) + 1):
                operator, qubits = self.operators[actions[rows[0]]]
                if rows.size == self.batch:
                    self.states = self.register.apply(self.states, operator, qubits)
                else:
                    self.states[rows] = self.register.apply(self.states[rows], operator, qubits)
        touched = self.table.touches[actions]
        moments = np.where(touched, self.free_at, 0).max(axis=1)  # ASAP: the first moment all its qubits are free
        self.free_at = np.where(touched, moments[:, None] + 1, self.free_at)
        self.last_action = np.where(touched, actions[:, None], self.last_action)
        self.n_gates += 1
        self.n_multi_qubit += self._is_multi[actions]
        self.n_cnots += self._is_cnot[actions]
        self.observation.record(actions, moments)
        previous, self.values = self.values, self.register.fidelity(self.states, self.target)
        at_limit = self.n_gates >= self.max_gates
        rewards, success = self.reward(self.values, previous, at_limit)
        return rewards.astype(np.float64), success, at_limit & ~success

    def metrics(self) -> dict[str, np.ndarray]:
        """The cost metrics of every episode's circuit so far (the keys of :meth:`qas.Circuit.metrics`)."""
        return {
            "gate_count": self.n_gates,
            "two_qubit_count": self.n_multi_qubit,
            "cnot_count": self.n_cnots,
            "depth": self.free_at.max(axis=1),
            "parameter_count": np.zeros_like(self.n_gates),
        }

    def observe(self) -> np.ndarray:
        return self.observation.build(self.states, self.values)

    def masks(self) -> np.ndarray:
        return self.table.masks(self.last_action)


class CircuitEnv(gym.Env[np.ndarray, np.int64]):
    """Base of the single gate-by-gate environments: one episode of a batched search, plus the circuit and render.

    Subclasses build ``self.search`` (a batch of one) and call :meth:`_setup_spaces`; ``value_key`` names the task
    value in ``info`` ("fidelity" or "energy").
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}  # noqa: RUF012 (Gymnasium's convention)
    value_key = "fidelity"
    search: FidelitySearch

    def __init__(self, n_qubits: int, render_mode: str | None, seed: int | None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.n_qubits = n_qubits
        self._first_seed = seed
        self._operations: list[Operation] = []
        self._last_success = False

    def _setup_spaces(self, table: ActionTable, observation: Observation) -> None:
        self.table = table
        self._action_operations = [a.operation() if not a.is_fitted else None for a in table.actions]
        self.action_space = gym.spaces.Discrete(len(table))
        self.observation_space = gym.spaces.Box(
            observation.low, observation.high, shape=(observation.size,), dtype=np.float32
        )

    @property
    def circuit(self) -> Circuit:
        """The circuit built so far in this episode."""
        return Circuit(self.n_qubits, tuple(self._operations))

    def action_masks(self) -> np.ndarray:
        """Legal actions now (sb3-contrib MaskablePPO's hook): no gate repeated back to back on the same qubits."""
        return self.search.masks()[0]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        if seed is None and self._first_seed is not None:
            seed, self._first_seed = self._first_seed, None
        super().reset(seed=seed)
        self._operations = []
        self._last_success = False
        self.search.reset(np.arange(1))
        return self.search.observe()[0], self._info()

    def step(self, action: int | np.integer) -> tuple[np.ndarray, float, bool, bool, dict]:
        if not self.action_space.contains(action):
            raise ConfigError(f"action {action!r} is not in {self.action_space}")
        a = int(action)
        self._operations.append(self._operation_for(a))
        rewards, terminated, truncated = self.search.step(np.array([a]))
        self._last_success = bool(terminated[0])
        return self.search.observe()[0], float(rewards[0]), bool(terminated[0]), bool(truncated[0]), self._info()

    def _operation_for(self, action: int) -> Operation:
        operation = self._action_operations[action]
        assert operation is not None, "fitted actions are handled by the subclass"
        return operation

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


def circuit_picture(circuit: Circuit) -> np.ndarray:
    """The circuit drawn by :func:`qas.draw.to_figure`, rasterised: (H, W, 3) uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from qas.draw import to_figure

    canvas = FigureCanvasAgg(to_figure(circuit))
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
