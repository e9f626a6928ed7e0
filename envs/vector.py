"""A natively batched stable-baselines3 ``VecEnv``: all copies step in one batched kernel call.

SB3 does not accept Gymnasium's vector envs, so :class:`CircuitVecEnv` implements SB3's ``VecEnv`` directly on a
:class:`~qas.envs.search.GateByGateSearch` engine of ``num_envs`` episodes. Finished episodes reset automatically (SB3's
convention: the last observation goes to ``infos[i]["terminal_observation"]``). Every step's info carries the task
value and gate count; an episode's last info adds its cost metrics, ``is_success``, the terminal observation's
``action_mask``, its ``actions`` and (unless ``record_circuits=False``) its ``circuit``: building a circuit object
for every copy on every step would cost more than the step itself.

Every qas environment has such an engine; for ``qas/GroundState-v0`` the per-step angle refit still runs episode by
episode inside it (each circuit has its own parameters), the rest of the step is batched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from qas.circuit import Circuit
from qas.envs.base import CircuitEnv, circuit_picture
from qas.envs.search import one_blas_thread
from qas.errors import ConfigError
from qas.settings import is_integer


class CircuitVecEnv(VecEnv):
    """``num_envs`` copies of a gate-by-gate environment stepped together.

    Args:
        env: a single environment (its unwrapped instance) whose settings all copies share.
        num_envs: number of copies.
        record_circuits: put each finished episode's :class:`~qas.Circuit` in its last info (its action indices
            are always there, as ``info["actions"]``; :meth:`circuit_of` turns them into a circuit later).
    """

    def __init__(self, env: CircuitEnv, num_envs: int, *, record_circuits: bool = True) -> None:
        self.template = env
        self.record_circuits = record_circuits
        self.search = env.make_search(num_envs)
        self.value_key = env.value_key
        self._actions = np.zeros(num_envs, dtype=np.int64)
        self._rng = np.random.default_rng()
        super().__init__(num_envs, env.observation_space, env.action_space)

    # ----- VecEnv API -----------------------------------------------------------------------------------------------
    def reset(self) -> np.ndarray:
        # Steps are deterministic; the only randomness is an optional per-episode gate limit (CRLQAS random
        # halting), drawn from one generator seeded by VecEnv.seed() (SB3 keeps that seed until the next reset).
        self._rng = np.random.default_rng(self._seeds[0])
        self._reset_seeds()
        self._reset_options()
        self.search.reset(np.arange(self.num_envs), self.template.draw_limits(self._rng, self.num_envs))
        self.reset_infos = [{self.value_key: self.search.initial_value} for _ in range(self.num_envs)]
        return self.search.observe()

    def step_async(self, actions: np.ndarray) -> None:
        actions = np.asarray(actions).reshape(-1).astype(np.int64)
        if actions.shape != (self.num_envs,) or actions.min() < 0 or actions.max() >= len(self.search.table):
            raise ConfigError(f"expected {self.num_envs} actions in 0..{len(self.search.table) - 1}")
        self._actions = actions

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        search = self.search
        with one_blas_thread():
            rewards, terminated, truncated = search.step(self._actions)
            observations = search.observe()
        infos: list[dict[str, Any]] = [
            {self.value_key: v, "gate_count": g}
            for v, g in zip(search.values.tolist(), search.n_gates.tolist(), strict=True)
        ]
        done = terminated | truncated
        finished = np.flatnonzero(done)
        if finished.size:
            metrics = search.metrics()
            final_masks = search.masks(finished)
            for i, mask in zip(finished, final_masks, strict=True):
                info = infos[i]
                info.update({k: int(v[i]) for k, v in metrics.items()})
                info["terminal_observation"] = observations[i].copy()
                info["action_mask"] = mask  # the terminal observation's mask (the next episode's is action_masks())
                info["is_success"] = bool(terminated[i])
                info["TimeLimit.truncated"] = bool(truncated[i])
                info["actions"] = search.history[i, : search.n_gates[i]].copy()
                if self.record_circuits:
                    info["circuit"] = search.circuit(int(i))
            search.reset(finished, self.template.draw_limits(self._rng, finished.size))
            observations[finished] = search.observe()[finished]
        return observations, rewards.astype(np.float32), done, infos

    def close(self) -> None:
        """Nothing to release."""

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self.template, attr_name) for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        raise ConfigError(f"the copies of a CircuitVecEnv share their settings; cannot set {attr_name!r} per copy")

    def env_method(self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any) -> list[Any]:
        if method_name == "action_masks":
            masks = self.action_masks()
            return [masks[i] for i in self._indices(indices)]
        raise ConfigError(f"CircuitVecEnv supports env_method('action_masks') only, not {method_name!r}")

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: Any = None) -> list[bool]:
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [circuit_picture(self.circuit(i)) for i in range(self.num_envs)]

    # ----- qas extras -----------------------------------------------------------------------------------------------
    def action_masks(self) -> np.ndarray:
        """Legal actions of every copy, (num_envs, n_actions) bool (what MaskablePPO asks for)."""
        return self.search.masks()

    def circuit(self, index: int) -> Circuit:
        """The circuit copy ``index`` has built so far in its current episode."""
        return self.search.circuit(index)

    def circuit_of(self, actions: Sequence[int]) -> Circuit:
        """The circuit of a sequence of actions (e.g. a finished episode's ``info["actions"]``)."""
        return self.search.circuit_of(np.asarray(actions))

    def _indices(self, indices: Any) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else indices


def make_vec(env_id: str, num_envs: int, *, record_circuits: bool = True, **kwargs: Any) -> VecEnv:
    """``num_envs`` copies of ``env_id`` (with ``kwargs``) as a stable-baselines3 ``VecEnv``, batched natively.

    >>> import qas
    >>> from qas.envs import make_vec
    >>> venv = make_vec("qas/StatePreparation-v0", 1024, target="ghz3", preset="kuo")
    >>> venv.reset().shape
    (1024, 9)
    """
    if not is_integer(num_envs) or num_envs < 1:
        raise ConfigError(f"num_envs must be a positive integer, got {num_envs!r}")
    env = gym.make(env_id, **kwargs).unwrapped
    if not isinstance(env, CircuitEnv):
        raise ConfigError(f"make_vec builds qas environments only; {env_id!r} is not one (use SB3's make_vec_env)")
    return CircuitVecEnv(env, int(num_envs), record_circuits=record_circuits)
