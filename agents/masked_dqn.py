"""DQN with action masking and an optional double-DQN target, on stable-baselines3.

SB3 has no masked DQN (SB3 issue #1876). The environments forbid some actions (the same gate twice in a row on the
same qubits, KANQAS' ``update_illegal_actions``); an agent that may still pick them wastes its budget. The mask is
fetched from the environment's ``action_masks()`` (the hook sb3-contrib's MaskablePPO uses), and applied in three
places:

- the greedy action: masked Q-values are -inf before the argmax;
- the exploration branch: a random *legal* action, drawn per environment (SB3 draws one coin for the whole batch);
- the TD target: ``max_a' Q(s', a')`` over the legal actions of ``s'``, whose mask is stored in the replay buffer.

Randomness goes through ``np.random``, which SB3 seeds from ``seed`` (``set_random_seed``), as its own DQN does.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib.common.maskable.utils import get_action_masks
from stable_baselines3 import DQN
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.vec_env import VecNormalize
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork
from torch.nn import functional

from qas.errors import ConfigError
from qas.settings import is_finite_number


class MaskedReplayBufferSamples(NamedTuple):
    """SB3's replay samples plus the legal actions of each next observation."""

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    dones: th.Tensor
    rewards: th.Tensor
    next_action_masks: th.Tensor


class MaskedReplayBuffer(ReplayBuffer):
    """A replay buffer that also stores the action mask of every next observation (``infos[i]["next_action_mask"]``)."""

    def __init__(self, buffer_size: int, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any):
        super().__init__(buffer_size, observation_space, action_space, **kwargs)
        if not isinstance(action_space, spaces.Discrete):
            raise ConfigError(f"masked DQN needs a Discrete action space, got {action_space}")
        self.next_action_masks = np.ones((self.buffer_size, self.n_envs, int(action_space.n)), dtype=bool)

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        self.next_action_masks[self.pos] = np.stack([info["next_action_mask"] for info in infos])
        super().add(obs, next_obs, action, reward, done, infos)

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> MaskedReplayBufferSamples:
        # Draw the env column once and reuse it for the transition and its mask (SB3 draws it inside _get_samples).
        env_indices = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        data = (
            self._normalize_obs(self.observations[batch_inds, env_indices, :], env),
            self.actions[batch_inds, env_indices, :],
            self._normalize_obs(self.next_observations[batch_inds, env_indices, :], env),
            # Timeouts are not terminal: bootstrap from the last observation (SB3's handle_timeout_termination).
            (self.dones[batch_inds, env_indices] * (1 - self.timeouts[batch_inds, env_indices])).reshape(-1, 1),
            self._normalize_reward(self.rewards[batch_inds, env_indices].reshape(-1, 1), env),
        )
        masks = th.as_tensor(self.next_action_masks[batch_inds, env_indices], device=self.device)
        return MaskedReplayBufferSamples(*tuple(map(self.to_torch, data)), next_action_masks=masks)


def masked_q_values(q_net: QNetwork, observations: th.Tensor, masks: th.Tensor) -> th.Tensor:
    """Q-values with illegal actions at -inf (every row of ``masks`` has at least one legal action)."""
    return q_net(observations).masked_fill(~masks, -th.inf)


def sample_legal(masks: np.ndarray) -> np.ndarray:
    """One uniformly random legal action per row of a (batch, n_actions) bool mask."""
    scores = np.random.random_sample(masks.shape)
    return np.where(masks, scores, -1.0).argmax(axis=1)


class MaskedDQN(DQN):
    """Deep Q-learning that never picks an illegal action (see the module docstring); double DQN optional.

    Takes every :class:`stable_baselines3.DQN` argument (except ``n_steps`` > 1 and the replay buffer class) and:

    :param double_q: choose the next action with the online network and value it with the target network
        (van Hasselt et al. 2016), as KANQAS' DDQN does.
    :param exploration_decay: if set, epsilon is ``exploration_initial_eps * exploration_decay ** n_updates``
        (floored at ``exploration_final_eps``): multiplied by the decay at every gradient step, as KANQAS does
        (0.99995 per replay), instead of SB3's linear schedule over ``exploration_fraction`` of the run.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": DQNPolicy}

    def __init__(
        self,
        policy: str | type[DQNPolicy],
        env: Any,
        *,
        double_q: bool = True,
        exploration_decay: float | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("n_steps", 1) != 1:
            raise ConfigError("masked DQN supports n_steps=1 only (its replay buffer stores one-step masks)")
        # Popped: SB3 is handed MaskedReplayBuffer below, and a second value (even None) was a TypeError.
        if kwargs.pop("replay_buffer_class", None) not in (None, MaskedReplayBuffer):
            raise ConfigError("masked DQN brings its own replay buffer; remove replay_buffer_class")
        if kwargs.get("optimize_memory_usage"):
            raise ConfigError("masked DQN does not support optimize_memory_usage=True")
        if exploration_decay is not None and not (is_finite_number(exploration_decay) and 0 < exploration_decay <= 1):
            raise ConfigError(f"exploration_decay must lie in (0, 1], got {exploration_decay}")
        self.double_q = double_q
        self.exploration_decay = exploration_decay
        super().__init__(policy, env, replay_buffer_class=MaskedReplayBuffer, **kwargs)

    # ----- acting ---------------------------------------------------------------------------------------------------
    def predict(
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Epsilon-greedy (or greedy, when ``deterministic``) among the legal actions.

        ``action_masks``: (n_actions,) or (batch, n_actions) bool; None allows every action.
        """
        vectorized = self.policy.is_vectorized_observation(observation)
        obs = np.asarray(observation).reshape((-1, *self.observation_space.shape))
        n_actions = int(self.action_space.n)
        masks = np.ones((len(obs), n_actions), bool) if action_masks is None else np.asarray(action_masks, bool)
        masks = masks.reshape(len(obs), n_actions)
        actions = self.greedy_actions(obs, masks)
        if not deterministic:
            explore = np.random.random_sample(len(obs)) < self.exploration_rate
            actions = np.where(explore, sample_legal(masks), actions)
        return (actions if vectorized else actions[0]), state

    def greedy_actions(self, observations: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """argmax of the online Q-network over the legal actions, for a batch of observations."""
        self.policy.set_training_mode(False)
        obs_tensor, _ = self.policy.obs_to_tensor(observations)
        with th.no_grad():
            q = masked_q_values(self.q_net, obs_tensor, th.as_tensor(masks, device=self.device))
        return q.argmax(dim=1).cpu().numpy()

    def _sample_action(
        self, learning_starts: int, action_noise: Any = None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        masks = get_action_masks(self.env)
        if self.num_timesteps < learning_starts:
            action = sample_legal(masks)  # warm-up: uniform over the legal actions
        else:
            action, _ = self.predict(self._last_obs, deterministic=False, action_masks=masks)
        return action, action

    def _store_transition(
        self,
        replay_buffer: ReplayBuffer,
        buffer_action: np.ndarray,
        new_obs: np.ndarray,
        reward: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        # The mask of each transition's next observation. A single env reports it in info["action_mask"] (before
        # any auto-reset). Otherwise the env's current masks belong to new_obs, except after an episode end, where
        # new_obs is already the next episode's start: the finished state's mask is unknown there, so all actions
        # count. That only matters when a time limit truncates (termination does not bootstrap).
        current = get_action_masks(self.env)
        for i, info in enumerate(infos):
            if "action_mask" in info:
                info["next_action_mask"] = info["action_mask"]
            else:
                info["next_action_mask"] = np.ones_like(current[i]) if dones[i] else current[i]
        super()._store_transition(replay_buffer, buffer_action, new_obs, reward, dones, infos)

    def _on_step(self) -> None:
        super()._on_step()
        if self.exploration_decay is not None:
            decayed = self.exploration_initial_eps * self.exploration_decay**self._n_updates
            self.exploration_rate = max(self.exploration_final_eps, decayed)
            self.logger.record("rollout/exploration_rate", self.exploration_rate)

    # ----- learning -------------------------------------------------------------------------------------------------
    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        losses = []
        for _ in range(gradient_steps):
            data: MaskedReplayBufferSamples = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr,assignment]
            with th.no_grad():
                next_q_target = self.q_net_target(data.next_observations)
                if self.double_q:
                    # The online network picks the legal next action, the target network values it.
                    next_actions = masked_q_values(self.q_net, data.next_observations, data.next_action_masks)
                    next_q = next_q_target.gather(1, next_actions.argmax(dim=1, keepdim=True))
                else:
                    next_q = next_q_target.masked_fill(~data.next_action_masks, -th.inf).max(dim=1, keepdim=True)[0]
                target_q = data.rewards + (1 - data.dones) * self.gamma * next_q
            current_q = self.q_net(data.observations).gather(1, data.actions.long())
            loss = functional.smooth_l1_loss(current_q, target_q) + self._auxiliary_loss()
            losses.append(loss.item())
            self.policy.optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", float(np.mean(losses)))

    def _auxiliary_loss(self) -> th.Tensor | float:
        """A term added to the TD loss (KAN-Q adds its spline regulariser); none here."""
        return 0.0
