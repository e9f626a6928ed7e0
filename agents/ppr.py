"""Probabilistic policy reuse (PPR; Ye & Chen 2021, after Fernandez & Veloso's PRQ-learning) on masked DQN.

The agent keeps a library of policies trained on earlier tasks (saved models). Each episode it picks an option:
one of the library policies, or its own. The choice is a softmax over the options' average episode returns ``W``,
``P(j) ~ exp(tau * W_j)``, with the temperature ``tau`` rising by ``temperature_step`` per episode, so it explores
the options first and settles on the best later. Within an episode that reuses policy j, each step follows j's
greedy action with probability ``psi`` (decaying by ``psi_decay`` per step), else the learner's own
epsilon-greedy action. Everything it does goes into its own replay buffer, so it learns the new task from the
reused behaviour. :func:`train_sequence` learns a sequence of tasks and adds each result to the library.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch as th
from sb3_contrib.common.maskable.utils import get_action_masks
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.dqn.policies import DQNPolicy

from qas.agents.masked_dqn import MaskedDQN, masked_q_values
from qas.errors import ConfigError, InputFileError
from qas.runs import reading

if TYPE_CHECKING:
    from qas.agents.training import TrainResult


class PPRDQN(MaskedDQN):
    """Masked (double) DQN with probabilistic policy reuse of a library of earlier models.

    :param library: paths of saved models (``.zip``) of any masked DQN agent on the same action and observation
        spaces; empty = plain masked DQN.
    :param psi: probability of following the reused policy at an episode's first step.
    :param psi_decay: factor applied to ``psi`` after each step.
    :param temperature: initial softmax temperature over the options' average returns (0 = uniform choice).
    :param temperature_step: added to the temperature after every episode.
    """

    def __init__(
        self,
        policy: str | type[DQNPolicy],
        env: Any,
        *,
        library: Sequence[str] = (),
        psi: float = 1.0,
        psi_decay: float = 0.95,
        temperature: float = 0.0,
        temperature_step: float = 0.25,
        **kwargs: Any,
    ) -> None:
        if not 0.0 <= psi <= 1.0 or not 0.0 <= psi_decay <= 1.0:
            raise ConfigError(f"psi and psi_decay must lie in [0, 1], got {psi} and {psi_decay}")
        self.library = [str(p) for p in library]
        self.psi, self.psi_decay = psi, psi_decay
        self.temperature, self.temperature_step = temperature, temperature_step
        # Per option (library policies, then the learner's own): sum and count of episode returns.
        self.option_return_sum = np.zeros(len(self.library) + 1)
        self.option_episodes = np.zeros(len(self.library) + 1, dtype=np.int64)
        self._library_nets: list[Any] | None = None
        # Per environment: the episode's option, its current psi and its return so far (set on first use).
        self._option = np.zeros(0, dtype=np.int64)
        self._step_psi = np.zeros(0)
        self._episode_return = np.zeros(0)
        super().__init__(policy, env, **kwargs)

    def _setup_model(self) -> None:
        super()._setup_model()
        self._library_nets = None
        self._library_q_nets()  # load and check the library now, not at the first reuse

    def _excluded_save_params(self) -> list[str]:
        # Library networks are reloaded from their paths; episodes in flight restart after a load.
        return [*super()._excluded_save_params(), "_library_nets", "_option", "_step_psi", "_episode_return"]

    def _library_q_nets(self) -> list[Any]:
        if self._library_nets is None:
            nets = []
            for path in self.library:
                if not Path(path).is_file():
                    raise InputFileError(f"PPR library model {path} does not exist")
                with reading(path):
                    reused = MaskedDQN.load(path, device=self.device)
                if reused.action_space != self.action_space or reused.observation_space != self.observation_space:
                    raise ConfigError(f"PPR library model {path} was trained on other action or observation spaces")
                nets.append(reused.q_net.eval())
            self._library_nets = nets
        return self._library_nets

    def option_probabilities(self) -> np.ndarray:
        """Softmax over the options' average returns at the current temperature."""
        mean = self.option_return_sum / np.maximum(self.option_episodes, 1)
        logits = self.temperature * mean
        weights = np.exp(logits - logits.max())
        return weights / weights.sum()

    def _start_episode(self, i: int) -> None:
        # With an empty library there is nothing to choose (and no random draw: the run matches plain masked DQN).
        own = len(self.library)
        self._option[i] = np.random.choice(own + 1, p=self.option_probabilities()) if self.library else own
        self._step_psi[i] = self.psi
        self._episode_return[i] = 0.0

    def _sample_action(
        self, learning_starts: int, action_noise: Any = None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        if len(self._option) != n_envs:  # a fresh or freshly loaded model: every environment starts an episode
            self._option = np.zeros(n_envs, dtype=np.int64)
            self._step_psi, self._episode_return = np.zeros(n_envs), np.zeros(n_envs)
            for i in range(n_envs):
                self._start_episode(i)
        action, _ = super()._sample_action(learning_starts, action_noise, n_envs)
        if self.library:
            self._reuse(action)
        self._step_psi *= self.psi_decay
        return action, action

    def _reuse(self, action: np.ndarray) -> None:
        """Overwrite ``action`` where an episode reusing a library policy follows it this step (probability psi)."""
        reusing = (self._option < len(self.library)) & (np.random.random_sample(len(action)) < self._step_psi)
        if not reusing.any():
            return
        masks = get_action_masks(self.env)
        obs_tensor, _ = self.policy.obs_to_tensor(self._last_obs)
        for j, net in enumerate(self._library_q_nets()):
            rows = np.flatnonzero(reusing & (self._option == j))
            if rows.size:
                legal = th.as_tensor(np.asarray(masks[rows]), device=self.device)
                action[rows] = masked_q_values(net, obs_tensor[rows], legal).argmax(dim=1).cpu().numpy()

    def _store_transition(
        self,
        replay_buffer: ReplayBuffer,
        buffer_action: np.ndarray,
        new_obs: np.ndarray,
        reward: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        self._episode_return += reward
        for i in np.flatnonzero(dones):
            option = self._option[i]
            self.option_return_sum[option] += self._episode_return[i]
            self.option_episodes[option] += 1
            self.temperature += self.temperature_step
            self._start_episode(int(i))
        super()._store_transition(replay_buffer, buffer_action, new_obs, reward, dones, infos)

    def _on_step(self) -> None:
        super()._on_step()
        if self.library:
            probabilities = self.option_probabilities()
            self.logger.record("ppr/temperature", self.temperature)
            self.logger.record("ppr/own_policy_probability", float(probabilities[-1]))


def train_sequence(
    env_id: str, tasks: Sequence[dict[str, Any]], *, library: Sequence[str] = (), **train_kwargs: Any
) -> list[TrainResult]:
    """Learn ``tasks`` (env kwargs each, e.g. the same target under changing noise) one after another with PPR.

    Each run reuses the library built so far, then adds its own final model to it. ``train_kwargs`` go to
    :func:`qas.agents.train` (``timesteps``, ``seed``, ``root``, ...).
    """
    from qas.agents.training import train

    grown = [str(p) for p in library]
    results = []
    for env_kwargs in tasks:
        result = train("ppr", env_id, env_kwargs=env_kwargs, hyperparams={"library": list(grown)}, **train_kwargs)
        grown.append(str(result.run_dir / "final_model.zip"))
        results.append(result)
    return results
