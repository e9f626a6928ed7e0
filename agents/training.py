"""Train an agent on a circuit-search environment into a run folder, resume it, and roll out what it learned.

A run folder ``runs/<agent>/<env>_<n>/`` holds the resolved ``config.yaml``, ``progress.csv``, TensorBoard logs
(``tb/``), ``checkpoints/`` (model, replay buffer, search state), ``best_model.zip`` (the model when the best
circuit was found), ``final_model.zip``, the best circuit (``best_circuit.{json,qasm,svg}``, with its score from the
shared evaluator) and ``learning_curve.png``.

The configuration is resolved in this order, later winning: the agent's ``hyperparams/<agent>.yml`` (``default``,
then the env id's section), a ``config`` file, ``hyperparams``, the explicit arguments, then ``key=value``
overrides.
"""

from __future__ import annotations

import csv
import inspect
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from sb3_contrib import MaskablePPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecMonitor
from torch import nn

from qas.agents.callbacks import (
    CHECKPOINT_BUFFER,
    CHECKPOINT_DIR,
    CHECKPOINT_MODEL,
    Checkpointer,
    SearchState,
    SearchTracker,
    load_checkpoint_state,
)
from qas.agents.kanq import KANDQN
from qas.agents.masked_dqn import MaskedDQN
from qas.agents.ppr import PPRDQN
from qas.circuit import Circuit
from qas.errors import ConfigError, InputFileError
from qas.evaluate import Score, evaluate
from qas.runs import (
    MetricsLog,
    apply_overrides,
    atomic_write,
    atomic_write_text,
    load_config,
    new_run_dir,
    reading,
    save_circuit_artifacts,
    save_line_plot,
    write_yaml,
)
from qas.settings import check_keywords, check_seed, is_finite_number, is_integer
from qas.sim.torch_backend import torch_device
from qas.tasks import GroundState, StatePreparation, Task

AGENTS: dict[str, type[BaseAlgorithm]] = {"dqn": MaskedDQN, "kanq": KANDQN, "ppr": PPRDQN, "ppo": MaskablePPO}
HYPERPARAMS_DIR = Path(__file__).parent / "hyperparams"
# Config keys that describe the run; every other key is a keyword argument of the algorithm.
RUN_KEYS = (
    "agent",
    "env_id",
    "seed",
    "n_timesteps",
    "n_envs",
    "policy",
    "policy_kwargs",
    "env_kwargs",
    "checkpoint_freq",
    "log_interval",
)
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "silu": nn.SiLU, "elu": nn.ELU}


@dataclass
class TrainResult:
    """What a training run produced."""

    run_dir: Path
    best_circuit: Circuit | None
    best_score: Score | None
    model: BaseAlgorithm
    config: dict[str, Any]
    first_success_episode: int | None = None

    def summary(self) -> dict[str, Any]:
        """The JSON summary printed by ``qas train --json``."""
        score = self.best_score
        value_key = "best_energy" if score is not None and score.energy is not None else "best_fidelity"
        value = None if score is None else (score.energy if score.energy is not None else score.fidelity)
        return {
            value_key: value,
            "circuit": self.best_circuit.to_qasm("3.0") if self.best_circuit else None,
            "run_dir": str(self.run_dir),
            "agent": self.config["agent"],
            "env_id": self.config["env_id"],
            "timesteps": int(self.model.num_timesteps),
            "metrics": self.best_circuit.metrics() if self.best_circuit else None,
            "first_success_episode": self.first_success_episode,
        }


# ----- configuration -------------------------------------------------------------------------------------------------
def _check_agent(agent: str) -> type[BaseAlgorithm]:
    if agent not in AGENTS:
        raise ConfigError(f"unknown agent {agent!r}; choose one of {sorted(AGENTS)}")
    return AGENTS[agent]


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``update``; the nested ``env_kwargs`` and ``policy_kwargs`` merge key by key."""
    out = dict(base)
    for key, value in update.items():
        if key in ("env_kwargs", "policy_kwargs") and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def load_hyperparams(agent: str, env_id: str) -> dict[str, Any]:
    """The agent's ``default`` hyperparameters merged with its section for ``env_id`` (rl-zoo3 layout)."""
    _check_agent(agent)
    table = load_config(HYPERPARAMS_DIR / f"{agent}.yml")
    return _merge(table.get("default", {}), table.get(env_id, {}))


def resolve_config(
    agent: str,
    env_id: str,
    *,
    env_kwargs: dict[str, Any] | None = None,
    timesteps: int | None = None,
    seed: int = 0,
    n_envs: int | None = None,
    config: str | Path | dict[str, Any] | None = None,
    hyperparams: dict[str, Any] | None = None,
    overrides: Sequence[str] = (),
) -> dict[str, Any]:
    """The full configuration of a run (see the module docstring for the order)."""
    resolved = {"agent": agent, "env_id": env_id, "seed": seed, **load_hyperparams(agent, env_id)}
    if config is not None:
        resolved = _merge(resolved, config if isinstance(config, dict) else load_config(config))
    resolved = _merge(resolved, hyperparams or {})
    explicit = {"env_kwargs": env_kwargs or {}, "n_timesteps": timesteps, "n_envs": n_envs}
    resolved = _merge(resolved, {k: v for k, v in explicit.items() if v is not None})
    resolved = apply_overrides(resolved, overrides)
    _validate(resolved)
    return resolved


def _validate(config: dict[str, Any]) -> None:
    algorithm = _check_agent(config["agent"])
    try:
        spec = gym.spec(config["env_id"])
    except gym.error.Error as err:
        raise ConfigError(f"unknown Gymnasium environment {config['env_id']!r}: {err}") from None
    for key, value in config.items():
        # The run's own env_kwargs and policy_kwargs are mappings; SB3's (replay_buffer_kwargs...) may also be null.
        if key.endswith("_kwargs") and not (isinstance(value, dict) or (value is None and key not in RUN_KEYS)):
            raise ConfigError(f"{key} must be a mapping, got {value!r}")
    creator = spec.entry_point
    if isinstance(creator, str):
        creator = gym.envs.registration.load_env_creator(creator)
    check_keywords(creator, env_kwargs_of(config), "env_kwargs", spec.id)  # type: ignore[arg-type]
    for key in ("n_timesteps", "n_envs", "checkpoint_freq", "log_interval"):
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} must be a positive integer, got {value!r}")
    defaults = _algorithm_parameters(algorithm)
    unknown = sorted(set(config) - set(RUN_KEYS) - set(defaults))
    if unknown:
        raise ConfigError(f"unknown setting(s) {unknown} for agent {config['agent']!r}")
    _check_hyperparameters(config, defaults)


# SB3 checks none of these: a NaN rate fails deep in torch, an exploration fraction of 0 divides by zero, and gamma 2,
# batch size 0 or an exploration_final_eps of [1, 2] train silently until the step that uses them.
_UNIT_INTERVAL = ("gamma", "tau", "gae_lambda", "exploration_initial_eps", "exploration_final_eps")
_POSITIVE = (
    "learning_rate", "batch_size", "buffer_size", "n_steps", "n_epochs", "target_update_interval",
    "exploration_fraction", "clip_range", "max_grad_norm", "stats_window_size",
)  # fmt: skip
_OPTIONAL_POSITIVE = ("target_kl", "clip_range_vf")  # None (off) or a positive number; SB3's default is None
_NON_NEGATIVE = ("learning_starts", "ent_coef", "vf_coef", "kan_regularization", "grid_update_interval")
_INTEGERS = (
    "batch_size", "buffer_size", "learning_starts", "n_steps", "n_epochs", "target_update_interval", "gradient_steps",
    "stats_window_size", "grid_update_interval",
)  # fmt: skip


def _check_hyperparameters(config: dict[str, Any], defaults: dict[str, Any]) -> None:
    """A :class:`ConfigError` for an algorithm setting of the wrong type (judged by its default) or out of range."""
    for key, value in config.items():
        default = defaults.get(key)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        if key == "train_freq":
            _check_train_freq(value)
            continue
        if key.endswith("_class"):
            # SB3's buffer classes: text cannot name one (it was "'str' object is not callable" from SB3).
            if value is not None and not isinstance(value, type):
                raise ConfigError(f"{key} takes a Python class, which a setting cannot name; got {value!r}")
            continue
        # A callable is a schedule (SB3 takes one for learning_rate and clip_range from Python).
        if is_finite_number(default) and not (is_finite_number(value) or callable(value)):
            raise ConfigError(f"{key} must be a finite number, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value}")
    check_seed(config.get("seed"))
    numbers = {k: v for k, v in config.items() if is_finite_number(v)}
    for key in _INTEGERS:
        if key in numbers and not is_integer(numbers[key]):
            raise ConfigError(f"{key} must be an integer, got {numbers[key]!r}")
    for key in _UNIT_INTERVAL:
        if key in numbers and not 0 <= numbers[key] <= 1:
            raise ConfigError(f"{key} must be in [0, 1], got {numbers[key]}")
    for key in _POSITIVE:
        if key in numbers and not numbers[key] > 0:
            raise ConfigError(f"{key} must be positive, got {numbers[key]}")
    for key in _OPTIONAL_POSITIVE:
        value = config.get(key)
        if value is not None and not (key in numbers and value > 0):
            raise ConfigError(f"{key} must be a positive number or null, got {value!r}")
    for key in _NON_NEGATIVE:
        if key in numbers and numbers[key] < 0:
            raise ConfigError(f"{key} must be >= 0, got {numbers[key]}")
    if config.get("device", "auto") != "auto":
        torch_device(config["device"])


def _check_train_freq(value: object) -> None:
    """SB3's ``train_freq``: a number of steps, or a (frequency, unit) pair such as ``[1, episode]``."""
    number, unit = tuple(value) if isinstance(value, list | tuple) and len(value) == 2 else (value, "step")
    if not (isinstance(number, int) and not isinstance(number, bool) and number >= 1 and unit in ("step", "episode")):
        raise ConfigError(f"train_freq must be a positive integer or a pair [N, step|episode], got {value!r}")


def _algorithm_parameters(algorithm: type[BaseAlgorithm]) -> dict[str, Any]:
    """Keyword arguments the algorithm accepts (through every ``**kwargs`` up to SB3's own class), with their
    defaults (``inspect.Parameter.empty`` where there is none); a subclass's default wins."""
    defaults: dict[str, Any] = {}
    for cls in algorithm.__mro__:
        if "__init__" in vars(cls):
            params = inspect.signature(cls.__init__).parameters.values()
            for p in params:
                if p.kind is not p.VAR_KEYWORD:
                    defaults.setdefault(p.name, p.default)
            if not any(p.kind is p.VAR_KEYWORD for p in params):
                break
    for name in ("self", "policy", "env", "_init_setup_model"):
        defaults.pop(name, None)
    return defaults


# ----- building ------------------------------------------------------------------------------------------------------
def env_kwargs_of(config: dict[str, Any]) -> dict[str, Any]:
    """The environment's keyword arguments, as written in the run's config.

    Configs stay plain YAML: noise is written as a spec string (``kuo``, ``depolarize:0.01``), which the
    environments resolve themselves.
    """
    return dict(config.get("env_kwargs") or {})


def make_env(config: dict[str, Any]) -> VecEnv:
    """The run's vector environment (natively batched where the env supports it), with episode statistics."""
    from qas.envs import make_vec

    return VecMonitor(make_vec(config["env_id"], config["n_envs"], **env_kwargs_of(config)))


def _policy_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(config.get("policy_kwargs") or {})
    if isinstance(kwargs.get("activation_fn"), str):
        name = kwargs["activation_fn"].lower()
        if name not in ACTIVATIONS:
            raise ConfigError(f"unknown activation_fn {name!r}; choose one of {sorted(ACTIVATIONS)}")
        kwargs["activation_fn"] = ACTIVATIONS[name]
    return kwargs


def build_model(config: dict[str, Any], env: VecEnv) -> BaseAlgorithm:
    algorithm = AGENTS[config["agent"]]
    kwargs = {k: v for k, v in config.items() if k not in RUN_KEYS}
    if isinstance(kwargs.get("train_freq"), list):  # YAML has no tuples; SB3 reads (1, "episode") only as a tuple
        kwargs["train_freq"] = tuple(kwargs["train_freq"])
    try:
        return algorithm(
            config["policy"], env, policy_kwargs=_policy_kwargs(config), seed=config["seed"], verbose=0, **kwargs
        )
    except (KeyError, TypeError, AssertionError) as err:
        raise ConfigError(f"cannot build agent {config['agent']!r}: {err}") from None


def task_of(env: gym.Env) -> Task:
    """The evaluator task an environment optimises (its own ``task`` if it has one)."""
    env = env.unwrapped
    task = getattr(env, "task", None)
    if task is not None:
        return task
    name = getattr(env, "target_name", "custom")
    if getattr(env, "value_key", "") == "energy" and hasattr(env, "hamiltonian"):
        return GroundState(env.hamiltonian, noise=env.noise, name=name, exact_energy=env.exact_energy)
    if hasattr(env, "target") and np.ndim(env.target) == 1:
        return StatePreparation(target=env.target, noise=env.noise, name=name)
    raise ConfigError(f"cannot tell which task {type(env).__name__} optimises (it has no .task)")


def single_env(config: dict[str, Any]) -> gym.Env:
    """One (unbatched) copy of the run's environment, for greedy rollouts."""
    return gym.make(config["env_id"], **env_kwargs_of(config))


# ----- training ------------------------------------------------------------------------------------------------------
def train(
    agent: str,
    env_id: str,
    *,
    env_kwargs: dict[str, Any] | None = None,
    timesteps: int | None = None,
    seed: int = 0,
    n_envs: int | None = None,
    config: str | Path | dict[str, Any] | None = None,
    hyperparams: dict[str, Any] | None = None,
    overrides: Sequence[str] = (),
    resume: str | Path | None = None,
    root: str | Path = "runs",
    progress_bar: bool = False,
    callbacks: Sequence[BaseCallback] = (),
) -> TrainResult:
    """Train ``agent`` (``dqn``, ``kanq``, ``ppr``, ``ppo``) on ``env_id`` and return the run and its best circuit.

    With ``resume`` (a run folder), the run continues from its last checkpoint, replay buffer and search state
    included, up to its configured ``n_timesteps`` (or ``timesteps``, when given). ``callbacks`` are extra SB3
    callbacks (``qas tune`` reports to Optuna through one).
    """
    import torch

    torch.set_num_threads(1)  # tiny networks: threads cost more than they save, and the machine is shared
    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / "config.yaml").is_file():
            raise InputFileError(f"{run_dir} is not a run folder (no config.yaml)")
        cfg = load_config(run_dir / "config.yaml")
        cfg = apply_overrides(cfg, [*overrides, *([f"n_timesteps={timesteps}"] if timesteps else [])])
        _validate(cfg)
    else:
        cfg = resolve_config(
            agent,
            env_id,
            env_kwargs=env_kwargs,
            timesteps=timesteps,
            seed=seed,
            n_envs=n_envs,
            config=config,
            hyperparams=hyperparams,
            overrides=overrides,
        )
    env = make_env(cfg)
    probe = single_env(cfg)
    value_key, task = probe.unwrapped.value_key, task_of(probe)
    if resume is None:
        run_dir = new_run_dir(cfg["agent"], cfg["env_id"], root)
        write_yaml(run_dir / "config.yaml", cfg)
    model, tracker_state = _restore(run_dir, cfg, env) if resume is not None else (None, None)
    if model is None:
        model = build_model(cfg, env)
    _trim_progress(run_dir, model.num_timesteps)
    model.set_logger(configure(str(run_dir / "tb"), ["tensorboard"]))

    def save_best(tracker: SearchTracker) -> None:
        # The model that found the best circuit; the circuit itself is in the tracker's state (saved with each
        # checkpoint) and its artifacts are drawn once at the end, since drawing an SVG costs ~0.1-1 s.
        atomic_write(run_dir / "best_model.zip", lambda p: tracker.model.save(p))

    tracker = SearchTracker(run_dir, value_key, save_best, cfg["log_interval"], tracker_state)
    checkpointer = Checkpointer(run_dir, tracker, cfg["checkpoint_freq"])
    remaining = cfg["n_timesteps"] - model.num_timesteps
    if remaining > 0:
        model.learn(
            remaining,
            callback=[tracker, checkpointer, *callbacks],
            reset_num_timesteps=resume is None,
            progress_bar=progress_bar,
        )
    atomic_write(run_dir / "final_model.zip", lambda p: model.save(p))
    _plot(run_dir, value_key)
    best = tracker.best_circuit
    score = evaluate(best, task) if best is not None else None
    if best is not None:
        save_circuit_artifacts(run_dir, best, score.to_dict())  # type: ignore[union-attr]
    env.close()
    return TrainResult(run_dir, best, score, model, cfg, tracker.state.first_success_episode)


def _restore(run_dir: Path, cfg: dict[str, Any], env: VecEnv) -> tuple[BaseAlgorithm | None, SearchState | None]:
    """The model and search state of the run's last checkpoint; (None, None) when it has none."""
    state = load_checkpoint_state(run_dir)
    model_path = run_dir / CHECKPOINT_DIR / CHECKPOINT_MODEL
    if state is None or not model_path.is_file():
        return None, None
    with reading(model_path):
        model = AGENTS[cfg["agent"]].load(model_path, env=env, device=cfg.get("device", "cpu"))
    buffer = run_dir / CHECKPOINT_DIR / CHECKPOINT_BUFFER
    if isinstance(model, OffPolicyAlgorithm) and buffer.is_file():
        with reading(buffer):
            model.load_replay_buffer(buffer)
    return model, state


def _trim_progress(run_dir: Path, up_to: int) -> None:
    """Drop progress rows after step ``up_to``: the resumed run writes them again (from its last checkpoint)."""
    log = MetricsLog(run_dir / "progress.csv")
    rows = log.rows()
    kept = [r for r in rows if int(r["timesteps"]) <= up_to]
    if len(kept) == len(rows):
        return
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(kept)
    atomic_write_text(log.path, text.getvalue())


def _plot(run_dir: Path, value_key: str) -> None:
    rows = MetricsLog(run_dir / "progress.csv").rows()
    if not rows:
        return
    steps = [float(r["timesteps"]) for r in rows]
    series = {
        "mean return (last 100 episodes)": (steps, [float(r["mean_return_100"]) for r in rows]),
        "success rate (last 100 episodes)": (steps, [float(r["success_rate_100"]) for r in rows]),
        f"best {value_key}": (steps, [float(r[f"best_{value_key}"]) for r in rows]),
    }
    save_line_plot(run_dir / "learning_curve.png", series, "environment steps", "value", run_dir.name)


# ----- using a trained agent -----------------------------------------------------------------------------------------
def rollout(model: BaseAlgorithm, env: gym.Env) -> tuple[Circuit, float]:
    """(circuit, episode return) when the model acts greedily among the legal actions for one episode."""
    obs, info = env.reset()
    done, episode_return = False, 0.0
    while not done:
        action, _ = model.predict(obs, deterministic=True, action_masks=env.unwrapped.action_masks())  # type: ignore[call-arg]
        obs, reward, terminated, truncated, info = env.step(int(action))
        episode_return += float(reward)
        done = terminated or truncated
    return info["circuit"], episode_return


def evaluate_agent(run: str | Path, model_file: str = "final_model.zip") -> tuple[Circuit, Score]:
    """Load a run's model (``final_model.zip``, ``best_model.zip``, ...), roll it out greedily and score the circuit."""
    run_dir = Path(run)
    if not (run_dir / "config.yaml").is_file():
        raise InputFileError(f"{run_dir} is not a run folder (no config.yaml)")
    cfg = load_config(run_dir / "config.yaml")
    path = run_dir / model_file
    if not path.is_file() and model_file != "final_model.zip":
        # A model asked for by name is that model, or an error: never silently the final one.
        models = ", ".join(sorted(p.name for p in run_dir.glob("*.zip"))) or "none"
        raise InputFileError(f"{run_dir} has no model file {model_file!r} (models there: {models})")
    if not path.is_file():  # an interrupted run has no final model: its last checkpoint
        path = run_dir / CHECKPOINT_DIR / CHECKPOINT_MODEL
    if not path.is_file():
        raise InputFileError(f"{run_dir} holds no trained model ({model_file} or a checkpoint)")
    with reading(path):
        model = AGENTS[cfg["agent"]].load(path, device=cfg.get("device", "cpu"))
    env = single_env(cfg)
    circuit, _ = rollout(model, env)
    return circuit, evaluate(circuit, task_of(env))
