"""Asynchronous advantage actor-critic (A3C) for variational-circuit policies, as in DiffQAS-QRL (Chen 2024).

Mnih et al. (2016) A3C, Hogwild-style: the model lives in shared memory, and each worker process (torch.multiprocessing)
copies it, plays ``rollout`` steps of its own Gymnasium environment, computes the n-step actor-critic loss and
writes its gradients straight into the shared parameters, which its own Adam then updates (the "non-shared optimiser"
variant of the reference PyTorch implementation). With a supernet policy the structure logits train jointly with the
circuit weights, by the same asynchronous updates. DiffQAS-QRL acts with the softmax mixture of every candidate and
backpropagates into the logits (``structure="mixture"``); by default each episode acts instead with one architecture
drawn from the structure distribution, and the logits follow the REINFORCE gradient of the episode returns (DQAS'
probabilistic ensemble, ``structure="sample-tied"``: over the architectures that repeat one layer block, the ones the
policy search ranks). The mixture's ranking favours the parameter-free candidates, DARTS' known bias, and the
circuits it led to scored lower on CartPole (362.3 against 420.6 over seeds 0-9; docs/diffqas-cartpole.md).

The actor and the critic share the circuit: a :class:`VariationalModel` with ``n_actions + 1`` outputs (action
logits, then the state value).

Measuring a policy: greedy returns are noisy (one CartPole episode can end at 9 steps or at 500) and swing by
hundreds between evaluations of one training. So every ``eval_every`` steps the policy plays ``eval_episodes`` greedy
episodes from fixed start states (``eval_seed``: the same episodes for every circuit and training seed, so comparisons
are paired), and with ``keep_best`` (the default) training ends with the weights of the best evaluation, as SB3's
``EvalCallback`` keeps its ``best_model``. Those evaluations chose the weights, so they would flatter them;
:attr:`A3CResult.score` is the kept policy's mean return on ``score_episodes`` other start states (on the hand
designs of ``bench/diffqas.py``: 405 and 439 on two sets of five seeds, against 319 and 273 for the final weights).
Evaluations draw none of training's random numbers, so how often a training is evaluated changes only which
checkpoints it can keep. With ``workers=1`` the learner runs in the calling process and training is deterministic per
seed; with more workers the Hogwild interleaving is not.

The defaults: a 50k-step CartPole training either solves the task or gets stuck, and it varies far more between
seeds than between settings. Of some thirty settings screened on the hand-designed circuits (rollout length,
learning rates, entropy, discount, clipping, critics, advantage estimation, budgets), only the input encoding helped:
per-feature scales started from the observation bounds (see :func:`make_policy`) and trained at ``input_lr``, four
times ``lr``, scored 303 against 247 over 60 trainings; letting that input map mix features (a full matrix, see
:class:`VariationalModel`) ended most stuck trainings. Every screen's figures are in ``docs/diffqas-cartpole.md``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import multiprocessing as mp
from torch import nn

from qas.errors import ConfigError
from qas.generators.diffqas.model import VariationalModel
from qas.generators.diffqas.space import SearchSpace
from qas.settings import check_counts, check_numbers

logger = logging.getLogger(__name__)


STRUCTURES = ("mixture", "sample", "sample-tied")


@dataclass(frozen=True)
class A3CConfig:
    """A3C settings; rollout, gamma and the loss weights are Mnih et al.'s usual values."""

    env_id: str = "CartPole-v1"
    # Environment steps over all workers: the budget the CartPole benchmark gives every circuit, and the policy
    # search's validation_steps, so the final training of a search is as long as the validations that chose it.
    total_steps: int = 50_000
    workers: int = 2  # processes (one per core on the project's 2-core machines)
    envs_per_worker: int = 8  # environments each worker steps as one batch (amortises the simulator's overhead)
    rollout: int = 20  # steps per update (n-step returns)
    gamma: float = 0.99
    lr: float = 0.05  # circuit angles and read-out
    # The input map's scales must grow several-fold to turn small features (CartPole's pole angle stays within 0.21 rad)
    # into large rotations; at lr they lag the rest of the model (docs/diffqas-cartpole.md, section 1).
    input_lr: float = 0.2
    structure_lr: float = 0.05  # structure logits (supernet policies only)
    # How a supernet policy acts and its structure logits learn: "mixture" (DiffQAS: the softmax mixture of every
    # candidate, logits trained by backpropagation), "sample" (DQAS: each episode acts with one architecture drawn from
    # the structure distribution, logits trained by REINFORCE on the episode returns), "sample-tied" (the same over the
    # architectures that repeat one layer block). No effect on a fixed circuit. See the module docstring.
    structure: str = "sample-tied"
    # Decay both learning rates linearly to 0 over total_steps (SB3's linear schedule): at a constant rate the greedy
    # return of a circuit policy still swings by hundreds late in training (measured on CartPole, e.g. 474 -> 177 ->
    # 185 between evaluations 5k steps apart), so where training stops would decide more than the circuit does.
    anneal_lr: bool = True
    entropy_coef: float = 0.01
    value_coef: float = 0.5
    max_grad_norm: float = 10.0
    # Environment steps between greedy evaluations (0: only at the end). A CartPole policy can solve the task for a few
    # thousand steps and then lose it, so evaluating twice as often as every 5k keeps such policies: the same 45
    # trainings (training is unchanged by evaluations) scored 484.4 against 479.6, at 46% more wall time
    # (docs/diffqas-cartpole.md, section 7).
    eval_every: int = 2_500
    eval_episodes: int = 10  # greedy episodes per evaluation
    eval_seed: int = 10_000  # evaluation episode i starts from env.reset(seed=eval_seed + i)
    keep_best: bool = True  # end with the best evaluation's weights rather than the last ones
    score_episodes: int = 20  # greedy episodes that score the kept policy, from the start states after the evaluations'
    seed: int = 0

    def __post_init__(self) -> None:
        check_numbers(self)
        check_counts(self, ("workers", "envs_per_worker", "rollout", "total_steps", "eval_episodes", "score_episodes"))
        if self.eval_every < 0:
            raise ConfigError(f"eval_every must be >= 0, got {self.eval_every}")
        for name in ("lr", "input_lr", "structure_lr", "value_coef", "max_grad_norm"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.entropy_coef < 0:
            raise ConfigError(f"entropy_coef must be >= 0, got {self.entropy_coef}")
        if self.structure not in STRUCTURES:
            raise ConfigError(f"structure must be one of {list(STRUCTURES)}, got {self.structure!r}")
        if not 0 <= self.gamma < 1:  # the critic works in units of 1 / (1 - gamma)
            raise ConfigError(f"gamma must be in [0, 1), got {self.gamma}")


@dataclass(frozen=True)
class Evaluation:
    """Greedy returns of the policy after ``step`` environment steps, its structure probabilities and its weights."""

    step: int
    returns: list[float]
    probabilities: list[list[float]]  # [position][candidate]; one-candidate positions of a fixed circuit too
    # The model's state dict as arrays: they travel between processes by value (a shared-memory tensor would need
    # its sending worker alive until read) and keep_best restores them.
    weights: dict[str, np.ndarray]

    @property
    def mean_return(self) -> float:
        return float(np.mean(self.returns))


@dataclass
class A3CResult:
    """The trained model (holding the kept evaluation's weights), every finished training episode as (global step,
    return), the greedy evaluations, and the kept policy's returns on the score episodes."""

    model: VariationalModel
    config: A3CConfig
    kept: Evaluation
    score_returns: list[float]
    episodes: list[tuple[int, float]] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)  # in step order; the last one is the final policy
    wall_time: float = 0.0

    @property
    def eval_returns(self) -> list[float]:
        """The final policy's greedy returns."""
        return self.evaluations[-1].returns

    @property
    def eval_return(self) -> float:
        """The final policy's mean greedy return."""
        return self.evaluations[-1].mean_return

    @property
    def score(self) -> float:
        """The kept policy's mean greedy return on the score episodes (which did not choose it)."""
        return float(np.mean(self.score_returns))


def make_policy(space: SearchSpace, env_id: str = "CartPole-v1", seed: int = 0) -> VariationalModel:
    """An actor-critic model for ``env_id``: action logits plus a value from one circuit over ``space``.

    The observation space must be a Box of ``space.num_inputs`` features and the action space Discrete.
    """
    import gymnasium as gym

    env = gym.make(env_id)
    high, n_actions = env.observation_space.high, env.action_space.n  # type: ignore[attr-defined]
    env.close()
    if space.num_inputs != len(high):
        raise ConfigError(f"{env_id} has {len(high)} observation features but the space encodes {space.num_inputs}")
    # A feature with a finite bound starts scaled so that half its bound becomes the angle arctan(1) = pi/4 (for
    # CartPole, whose bounds are twice its termination limits, the limits themselves); unbounded ones start at 1.
    scale = np.where(np.isfinite(high), 2 / high, 1.0).tolist()
    return VariationalModel(space, n_actions + 1, generator=torch.Generator().manual_seed(seed), input_scale=scale)


def train_a3c(model: VariationalModel, config: A3CConfig) -> A3CResult:
    """Train ``model`` in place with ``config.workers`` asynchronous workers; return its episodes and evaluations."""
    start = time.perf_counter()
    # One learner needs no second process: running it here keeps training deterministic per seed.
    run = _train_here if config.workers == 1 else _train_in_processes
    steps, episodes, evaluations = run(model, config)
    evaluations.append(evaluate(model, config, steps))
    # The latest of equally good evaluations: it trained longest.
    kept = max(reversed(evaluations), key=lambda e: e.mean_return) if config.keep_best else evaluations[-1]
    model.load_state_dict({name: torch.from_numpy(value) for name, value in kept.weights.items()})
    first_score_seed = config.eval_seed + config.eval_episodes
    scored = greedy_returns(
        model, config.env_id, first_score_seed, config.score_episodes, acting_architecture(model, config)
    )
    result = A3CResult(model, config, kept, scored, sorted(episodes), evaluations, time.perf_counter() - start)
    logger.info(
        "A3C: %d episodes, kept step %d, score %.1f, %.0f s",
        len(result.episodes),
        kept.step,
        result.score,
        result.wall_time,
    )
    return result


RESTART_OFFSET = 104_729
"""Added to the seed once per restart of :func:`train_with_restarts`: far from the validation seeds' offsets."""


def train_with_restarts(
    space: SearchSpace,
    config: A3CConfig,
    restarts: int,
    done: Sequence[A3CResult] = (),
    save: Callable[[A3CResult], None] | None = None,
) -> A3CResult:
    """A fresh policy over ``space`` trained by A3C, and trained again from scratch while it is stuck.

    A training is stuck when its kept evaluation stays below the environment's reward threshold (Gymnasium's
    "solved" level, CartPole-v1: 475): such a policy typically balances the pole and lets the cart run off the track,
    and more steps rarely free it, but a training on another seed usually solves the task. Up to ``restarts`` more
    trainings run, restart ``k`` on seed ``config.seed + k * RESTART_OFFSET`` with the same evaluation and score
    episodes; the first that is not stuck is returned, else the one with the best kept evaluation (the earliest of
    equals). The score episodes choose nothing. An environment without a threshold is never restarted.

    Continues after the trainings ``done`` (for a resumed run) and hands each new one to ``save``.
    """
    import gymnasium as gym

    threshold = gym.spec(config.env_id).reward_threshold
    trainings = list(done)
    while not trainings or (
        threshold is not None and trainings[-1].kept.mean_return < threshold and len(trainings) <= restarts
    ):
        seed = config.seed + RESTART_OFFSET * len(trainings)
        if trainings:
            logger.info(
                "training stuck (kept evaluation %.1f < %s), restart %d on seed %d",
                trainings[-1].kept.mean_return,
                threshold,
                len(trainings),
                seed,
            )
        trainings.append(train_a3c(make_policy(space, config.env_id, seed=seed), replace(config, seed=seed)))
        if save:
            save(trainings[-1])
    return max(trainings, key=lambda t: t.kept.mean_return)


class _Counter:
    """The shared step counter's interface (``value``, ``get_lock``) for a learner in this process."""

    def __init__(self) -> None:
        self.value = 0

    def get_lock(self) -> contextlib.nullcontext:
        return contextlib.nullcontext()


def _train_here(model: VariationalModel, config: A3CConfig) -> tuple[int, list, list[Evaluation]]:
    counter, episodes, evaluations = _Counter(), queue.SimpleQueue(), queue.SimpleQueue()
    _worker(0, model, config, counter, episodes, evaluations)
    return counter.value, _drain(episodes), _drain(evaluations)


def _train_in_processes(model: VariationalModel, config: A3CConfig) -> tuple[int, list, list[Evaluation]]:
    model.share_memory()
    # Forkserver: workers fork from a clean single-threaded server (a plain fork after torch's thread pools have
    # started can deadlock) that has imported torch and this module once, so later trainings start their workers fast.
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    counter, episodes, evaluations = ctx.Value("i", 0), ctx.Queue(), ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(rank, model, config, counter, episodes, evaluations), daemon=True)
        for rank in range(config.workers)
    ]
    for w in workers:
        w.start()
    # Both queues are drained while the workers run: a worker cannot exit while its queued items are unread (past
    # the pipe's 64 KiB, e.g. ~180 evaluations of a CartPole policy, training would hang).
    finished, evaluated = [], []
    while any(w.is_alive() for w in workers) or not episodes.empty():
        evaluated += _drain(evaluations)
        try:
            finished.append(episodes.get(timeout=0.2))
        except queue.Empty:
            continue
    for w in workers:
        w.join()
        if w.exitcode != 0:
            raise RuntimeError(f"A3C worker exited with code {w.exitcode}")
    model.supernet.clear_cache()  # the workers changed the shared weights behind this process's back
    return counter.value, finished, evaluated + _drain(evaluations)


def _drain(q: Any) -> list:
    items = []
    while not q.empty():
        items.append(q.get())
    return items


def _optimizer(model: VariationalModel, config: A3CConfig) -> torch.optim.Optimizer:
    groups = [
        {"params": [model.input_map], "lr": config.input_lr},
        {"params": model.circuit_and_readout_parameters(), "lr": config.lr},
        {"params": model.structure_parameters(), "lr": config.structure_lr},
    ]
    for group in groups:
        group["initial_lr"] = group["lr"]  # the start of the annealing schedule (torch's schedulers use this key too)
    return torch.optim.Adam(groups)


def _worker(
    rank: int, shared: VariationalModel, config: A3CConfig, counter: Any, episodes: Any, evaluations: Any
) -> None:
    """One asynchronous learner: ``config.envs_per_worker`` environments stepped together as one batch.

    Worker 0 also evaluates the policy every ``config.eval_every`` steps (on its fresh copy of the shared weights).
    """
    import gymnasium as gym

    torch.set_num_threads(1)
    seed = config.seed * 1000 + rank * config.envs_per_worker
    generator = torch.Generator().manual_seed(seed)
    envs = [gym.make(config.env_id) for _ in range(config.envs_per_worker)]
    obs = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])
    episode_returns = np.zeros(len(envs))
    local = copy.deepcopy(shared)
    tied = config.structure == "sample-tied"
    sampler = _ArchitectureSampler(local, len(envs), tied, generator) if samples_architectures(local, config) else None
    optimizer = _optimizer(shared, config)
    next_eval = config.eval_every or config.total_steps
    while counter.value < config.total_steps:
        local.load_state_dict(shared.state_dict())
        if rank == 0 and counter.value >= next_eval:
            evaluations.put(evaluate(local, config, counter.value))
            next_eval += config.eval_every
        inputs, actions, rewards, ended, chosen_architectures = [], [], [], [], []
        # ----- rollout (no gradients: the loss below recomputes the forward pass as one batch) -----
        for _ in range(config.rollout):
            x = torch.tensor(obs, dtype=torch.float32)  # (E, F); a copy: obs is overwritten in place below
            architectures = None if sampler is None else sampler.current.clone()  # (E, positions)
            with torch.no_grad():
                probs = torch.softmax(local(x, architectures)[:, :-1], -1)
            action = torch.multinomial(probs, 1, generator=generator)[:, 0]  # (E,)
            step_rewards, step_ended = np.zeros(len(envs)), np.zeros(len(envs))
            for i, env in enumerate(envs):
                obs[i], step_rewards[i], terminated, truncated, _ = env.step(int(action[i]))
                episode_returns[i] += step_rewards[i]
                if truncated and not terminated:
                    # A time limit (CartPole's 500-step cap) is not a failure: bootstrap from the critic's value of
                    # the final observation, as SB3 does. Treating it as an end taught solved policies that
                    # balancing leads nowhere (rx-rot-ring on seeds 200-203: 218 that way, 333 bootstrapped; on
                    # seeds 100-104, 207.5 and 208.8).
                    own = None if architectures is None else architectures[i : i + 1]
                    value = _critic_returns(local, obs[i : i + 1], config.gamma, own)
                    step_rewards[i] += config.gamma * float(value[0])
                if terminated or truncated:
                    step_ended[i] = 1
                    episodes.put((counter.value, float(episode_returns[i])))
                    if sampler is not None:
                        sampler.episode_ended(i, float(episode_returns[i]))
                    episode_returns[i] = 0.0
                    obs[i] = env.reset()[0]
            inputs.append(x)
            actions.append(action)
            rewards.append(step_rewards)
            ended.append(step_ended)
            chosen_architectures.append(architectures)
        # ----- n-step returns, bootstrapped from the critic where the episode goes on -----
        running = _critic_returns(local, obs, config.gamma, None if sampler is None else sampler.current)  # (E,)
        returns = []
        for r, e in zip(reversed(rewards), reversed(ended), strict=True):
            running = torch.as_tensor(r) + config.gamma * running * (1 - torch.as_tensor(e))
            returns.append(running)
        # The critic predicts returns in units of the largest possible one, 1 / (1 - gamma): a read-out of bounded
        # <Z> expectations reaches that range without huge weights, and its gradients do not swamp the actor's.
        returns_t = (torch.stack(returns[::-1]).reshape(-1) * (1 - config.gamma)).float()  # (T*E,)
        # ----- actor-critic loss on the whole rollout -----
        out = local(torch.cat(inputs), None if sampler is None else torch.cat(chosen_architectures))  # (T*E, A + 1)
        log_probs = torch.log_softmax(out[:, :-1], -1)
        advantages = returns_t - out[:, -1]
        # Normalised advantages keep the actor's step size independent of the return scale.
        actor_weights = advantages.detach()
        actor_weights = (actor_weights - actor_weights.mean()) / (actor_weights.std() + 1e-8)
        chosen = log_probs.gather(1, torch.cat(actions)[:, None])[:, 0]
        entropy = -(log_probs.exp() * log_probs).sum(-1)
        loss = (
            -(chosen * actor_weights).mean()
            + config.value_coef * (advantages**2).mean()
            - config.entropy_coef * entropy.mean()
        )
        if sampler is not None:
            loss = loss + sampler.structure_loss()
        local.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(local.parameters(), config.max_grad_norm)
        # Hogwild: hand the local gradients to the shared parameters and step them without a lock.
        for shared_p, local_p in zip(shared.parameters(), local.parameters(), strict=True):
            shared_p.grad = None if local_p.grad is None else local_p.grad.clone()
        if config.anneal_lr:
            remaining = max(0.0, 1 - counter.value / config.total_steps)
            for group in optimizer.param_groups:
                group["lr"] = group["initial_lr"] * remaining
        optimizer.step()
        with counter.get_lock():
            counter.value += config.rollout * len(envs)
    for env in envs:
        env.close()


def _critic_returns(
    model: VariationalModel, observations: np.ndarray, gamma: float, architectures: torch.Tensor | None = None
) -> torch.Tensor:
    """The critic's discounted return of each observation ``(E, F)``, as float64 ``(E,)``: its output is in units
    of the largest possible return, 1 / (1 - gamma) (see the loss). ``architectures``: each one's, when sampled."""
    with torch.no_grad():
        return model(torch.as_tensor(observations, dtype=torch.float32), architectures)[:, -1].double() / (1 - gamma)


class _ArchitectureSampler:
    """DQAS' sampled architectures (Zhang et al. 2020) for a supernet policy's worker.

    Each environment plays a whole episode with one architecture drawn from the structure distribution, so a return
    measures that architecture as it acts alone, not a mixture of all of them. The structure logits then follow the
    score-function (REINFORCE) gradient of the expected return: each finished episode's advantage (its return less
    a running mean, in running standard deviations) times the gradient of its architecture's log-probability.
    """

    RATE = 0.05  # of the running mean and variance per episode: they follow returns as the weights improve

    def __init__(self, model: VariationalModel, n_envs: int, tied: bool, generator: torch.Generator) -> None:
        self.model, self.tied, self.generator = model, tied, generator
        self.current = model.supernet.sample(n_envs, generator, tied=tied)  # (E, positions)
        self.finished: list[tuple[torch.Tensor, float]] = []
        self.mean: float | None = None  # of the episode returns, and their variance below
        self.variance = 0.0

    def episode_ended(self, env: int, episode_return: float) -> None:
        """Record the episode of environment ``env`` and draw the architecture of its next one."""
        self.finished.append((self.current[env].clone(), episode_return))
        self.current[env] = self.model.supernet.sample(1, self.generator, tied=self.tied)[0]

    def structure_loss(self) -> torch.Tensor:
        """The REINFORCE loss of the episodes finished since the last call (0 when none did)."""
        if not self.finished:
            return torch.zeros(())
        choices = torch.stack([c for c, _ in self.finished])
        returns = torch.tensor([r for _, r in self.finished], dtype=torch.float64)
        self.finished.clear()
        # The statistics take these returns in first: a return far off an almost constant past then weighs about
        # 1 / sqrt(RATE) standard deviations, not an unbounded number.
        for r in returns.tolist():
            if self.mean is None:
                self.mean = r
            self.mean += self.RATE * (r - self.mean)
            self.variance += self.RATE * ((r - self.mean) ** 2 - self.variance)
        advantages = (returns - self.mean) / (self.variance**0.5 + 1e-8)
        log_probs = self.model.supernet.log_probability(choices, tied=self.tied)
        return -(advantages.to(log_probs.dtype) * log_probs).mean()


def evaluate(model: VariationalModel, config: A3CConfig, step: int) -> Evaluation:
    """An :class:`Evaluation` of ``model`` after ``step`` training steps, on the evaluation episodes."""
    probabilities = [p.detach().tolist() for p in model.supernet.probabilities()]
    returns = greedy_returns(
        model, config.env_id, config.eval_seed, config.eval_episodes, acting_architecture(model, config)
    )
    weights = {name: value.detach().numpy().copy() for name, value in model.state_dict().items()}
    return Evaluation(step, returns, probabilities, weights)


def samples_architectures(model: VariationalModel, config: A3CConfig) -> bool:
    """Whether training acts with sampled architectures: a supernet (not a fixed circuit) and a sampling structure."""
    return config.structure != "mixture" and model.supernet.space.size > 1


def acting_architecture(model: VariationalModel, config: A3CConfig) -> list[int] | None:
    """The architecture a greedy evaluation acts with: for a supernet trained on sampled architectures, the most
    probable one (of repeated blocks with "sample-tied"), the policy that the search derives; None for the mixture."""
    if not samples_architectures(model, config):
        return None
    return model.supernet.choice(tied=config.structure == "sample-tied")


def greedy_returns(
    model: VariationalModel, env_id: str, first_seed: int, episodes: int, architecture: Sequence[int] | None = None
) -> list[float]:
    """Returns of ``episodes`` greedy episodes from the fixed start states ``env.reset(seed=first_seed + i)``, acting
    with the model's mixture or, if given, the one ``architecture`` of its supernet.

    The episodes run side by side, one batched forward pass per step for those still going.
    """
    import gymnasium as gym

    envs = [gym.make(env_id) for _ in range(episodes)]
    obs = np.stack([env.reset(seed=first_seed + i)[0] for i, env in enumerate(envs)])
    returns = np.zeros(len(envs))
    running = np.ones(len(envs), dtype=bool)
    every = None if architecture is None else torch.tensor([list(architecture)] * len(envs))  # one row per episode
    while running.any():
        index = np.flatnonzero(running)
        choices = None if every is None else every[index]
        with torch.no_grad():
            actions = torch.argmax(model(torch.as_tensor(obs[index], dtype=torch.float32), choices)[:, :-1], -1)
        for i, action in zip(index, actions.tolist(), strict=True):
            obs[i], reward, terminated, truncated, _ = envs[i].step(action)
            returns[i] += float(reward)
            running[i] = not (terminated or truncated)
    for env in envs:
        env.close()
    return returns.tolist()
