"""``qas tune``: hyperparameter search for an agent with Optuna (TPE sampler, median pruner).

Every trial is a short training run (its own run folder under ``runs/tune/<study>/``) that reports the greedy
policy's episode return every ``n_timesteps / n_evaluations`` steps, so the median pruner can stop trials that lag.
Workers share a study through its storage: start the same command on several processes or machines with one
``--storage`` URL (PostgreSQL or MySQL across machines; ``*.log`` for a journal file on one machine; SQLite only for
one process at a time, as Optuna's documentation warns), and each adds its trials to the study.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import optuna
from stable_baselines3.common.callbacks import BaseCallback

from qas.agents.training import env_kwargs_of, resolve_config, rollout, train
from qas.errors import ConfigError
from qas.runs import safe_name
from qas.settings import check_seed


def _dqn_family(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 3e-3, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "gamma": trial.suggest_categorical("gamma", [0.9, 0.95, 0.99]),
        "target_update_interval": trial.suggest_categorical("target_update_interval", [100, 250, 500, 1000]),
        "exploration_fraction": trial.suggest_float("exploration_fraction", 0.1, 0.6),
        "exploration_final_eps": trial.suggest_float("exploration_final_eps", 0.01, 0.1),
        "train_freq": trial.suggest_categorical("train_freq", [1, 2, 4]),
    }


def _mlp(trial: optuna.Trial) -> dict[str, Any]:
    width = trial.suggest_categorical("net_arch", ["small", "medium", "big"])
    return {"policy_kwargs": {"net_arch": {"small": [32, 32], "medium": [64, 64], "big": [256, 256]}[width]}}


def sample_dqn(trial: optuna.Trial) -> dict[str, Any]:
    return _dqn_family(trial) | _mlp(trial)


def sample_kanq(trial: optuna.Trial) -> dict[str, Any]:
    # A width of 2 leaves LayerNorm only the two units' signs, so narrow nets are tried without it (KANQAS' Bell net
    # [84, 2, 12] works without; wider nets needed it on GHZ-3, see kanq.yml).
    hidden = trial.suggest_categorical("kan_hidden", [2, 4, 8, 16])
    grid = trial.suggest_categorical("grid_size", [3, 5, 8])
    order = trial.suggest_categorical("spline_order", [2, 3])
    net = {"net_arch": [hidden], "grid_size": grid, "spline_order": order, "layer_norm": hidden > 2}
    return _dqn_family(trial) | {"policy_kwargs": net}


def sample_ppr(trial: optuna.Trial) -> dict[str, Any]:
    return sample_dqn(trial) | {
        "psi_decay": trial.suggest_float("psi_decay", 0.8, 0.99),
        "temperature_step": trial.suggest_float("temperature_step", 1e-2, 1.0, log=True),
    }


def sample_ppo(trial: optuna.Trial) -> dict[str, Any]:
    return _mlp(trial) | {
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 3e-3, log=True),
        "n_steps": trial.suggest_categorical("n_steps", [64, 128, 256, 512]),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "n_epochs": trial.suggest_categorical("n_epochs", [4, 10]),
        "gamma": trial.suggest_categorical("gamma", [0.9, 0.95, 0.99]),
        "ent_coef": trial.suggest_float("ent_coef", 1e-4, 0.05, log=True),
        "clip_range": trial.suggest_categorical("clip_range", [0.1, 0.2, 0.3]),
    }


SAMPLERS: dict[str, Callable[[optuna.Trial], dict[str, Any]]] = {
    "dqn": sample_dqn,
    "kanq": sample_kanq,
    "ppr": sample_ppr,
    "ppo": sample_ppo,
}


class TrialReporter(BaseCallback):
    """Every ``every`` steps, roll out the greedy policy, report its return to the trial, and prune if told to."""

    def __init__(self, trial: optuna.Trial, eval_env: gym.Env, every: int) -> None:
        super().__init__()
        self.trial, self.eval_env, self.every = trial, eval_env, every
        self.evaluations = 0
        self.last_value = float("-inf")
        self.pruned = False

    def _on_step(self) -> bool:
        if self.num_timesteps < (self.evaluations + 1) * self.every:
            return True
        self.evaluations += 1
        _, self.last_value = rollout(self.model, self.eval_env)
        self.trial.report(self.last_value, self.evaluations)
        self.pruned = self.trial.should_prune()
        return not self.pruned  # returning False stops training


def open_storage(url: str | None) -> optuna.storages.BaseStorage | str | None:
    """A journal file for ``*.log`` paths, otherwise the URL itself (Optuna's RDB storage), or None (in memory)."""
    if url is not None and url.endswith(".log"):
        from optuna.storages.journal import JournalFileBackend

        Path(url).parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(url))
    if url is not None and url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return url


def _create_or_load_study(
    name: str, storage: str | None, *, sampler: optuna.samplers.BaseSampler, pruner: optuna.pruners.BasePruner
) -> optuna.Study:
    """``create_study(load_if_exists=True)``, retried when workers started together race on a fresh database.

    Two workers creating Optuna's tables in an empty PostgreSQL database at the same moment make one of them fail
    with an IntegrityError (reproduced here in 3 of 6 tries); a moment later the tables and the study exist, so the
    retry loads them.
    """
    from sqlalchemy.exc import SQLAlchemyError

    def create() -> optuna.Study:
        try:
            return optuna.create_study(
                study_name=name,
                storage=open_storage(storage),
                load_if_exists=True,
                direction="maximize",
                sampler=sampler,
                pruner=pruner,
            )
        except (ValueError, ImportError) as err:
            # A database driver is missing: name it (Optuna only says "Failed to import DB access module").
            missing = f" (missing module {err.__cause__.name!r})" if isinstance(err.__cause__, ImportError) else ""
            raise ConfigError(f"cannot open the Optuna storage {storage!r}: {err}{missing}") from None

    for attempt in range(4):
        try:
            return create()
        except (SQLAlchemyError, optuna.exceptions.StorageInternalError):
            time.sleep(0.5 * (attempt + 1))
    try:
        return create()
    except (SQLAlchemyError, optuna.exceptions.StorageInternalError) as err:
        raise ConfigError(f"cannot open the Optuna storage {storage!r}: {err}") from None


def tune(
    agent: str,
    env_id: str,
    *,
    env_kwargs: dict[str, Any] | None = None,
    trials: int = 20,
    timesteps: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    n_evaluations: int = 4,
    n_startup_trials: int = 5,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    root: str | Path = "runs",
) -> optuna.Study:
    """Run ``trials`` trials of ``agent`` on ``env_id`` in the (possibly shared) study; returns the study."""
    if agent not in SAMPLERS:
        raise ConfigError(f"unknown agent {agent!r}; choose one of {sorted(SAMPLERS)}")
    if trials < 1 or n_evaluations < 1:
        raise ConfigError(f"trials and n_evaluations must be positive, got {trials} and {n_evaluations}")
    check_seed(seed)
    # The whole run configuration is checked (environment id, overrides) before a study is created or joined.
    config = resolve_config(agent, env_id, env_kwargs=env_kwargs, timesteps=timesteps, overrides=overrides)
    budget = config["n_timesteps"]
    # Trials are scored on the environment they train on: the user's env_kwargs over the hyperparameter file's (its
    # preset, say). Building it here also checks the values (target=nope failed in the first trial, which Optuna
    # logs with a traceback).
    score_kwargs = env_kwargs_of(config)
    gym.make(env_id, **score_kwargs).close()
    name = study_name or safe_name(f"{agent}-{env_id}")
    study = _create_or_load_study(
        name,
        storage,
        sampler=optuna.samplers.TPESampler(n_startup_trials=n_startup_trials, seed=seed, multivariate=True),
        pruner=optuna.pruners.MedianPruner(
            n_startup_trials=n_startup_trials, n_warmup_steps=max(n_evaluations // 3, 1)
        ),
    )
    study.set_user_attr("agent", agent)
    study.set_user_attr("env_id", env_id)

    def objective(trial: optuna.Trial) -> float:
        hyperparams = SAMPLERS[agent](trial)
        result_env = gym.make(env_id, **score_kwargs)
        reporter = TrialReporter(trial, result_env, max(budget // n_evaluations, 1))
        result = train(
            agent,
            env_id,
            env_kwargs=env_kwargs,
            timesteps=budget,
            seed=trial.number if seed is None else seed + trial.number,
            hyperparams=hyperparams,
            overrides=overrides,
            root=Path(root) / "tune" / name,
            callbacks=[reporter],
        )
        trial.set_user_attr("run_dir", str(result.run_dir))
        if reporter.pruned:
            raise optuna.TrialPruned()
        _, value = rollout(result.model, result_env)
        return value

    study.optimize(objective, n_trials=trials)
    return study
