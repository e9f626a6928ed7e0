"""Training callbacks: track the best circuit, log progress rows, and checkpoint everything a resume needs.

The environments report each finished episode's ``circuit`` and task value (``fidelity`` or ``energy``) in its last
``info``; :class:`SearchTracker` keeps the best one, counts episodes and successes, and writes ``progress.csv`` and
TensorBoard scalars. :class:`Checkpointer` saves the model, the replay buffer (off-policy agents) and the tracker's
state into ``checkpoints/``, each file atomically, so an interrupted run resumes with nothing lost.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

from qas.circuit import Circuit
from qas.runs import MetricsLog, atomic_write, reading, write_json

CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_MODEL = "last_model.zip"
CHECKPOINT_BUFFER = "replay_buffer.pkl"
CHECKPOINT_STATE = "state.json"


@dataclass
class SearchState:
    """What the search has found so far; saved with each checkpoint (JSON-ready)."""

    episodes: int = 0
    successes: int = 0
    best_value: float | None = None
    best_circuit: dict[str, Any] | None = None
    best_timestep: int | None = None
    first_success_episode: int | None = None
    first_success_timestep: int | None = None
    wall_time: float = 0.0
    recent_success: list[bool] = field(default_factory=list)


class SearchTracker(BaseCallback):
    """Keeps the best circuit of the finished episodes; logs a progress row every ``log_interval`` steps.

    Args:
        run_dir: the run folder (``progress.csv`` goes there).
        value_key: ``"fidelity"`` (higher is better) or ``"energy"`` (lower is better).
        on_new_best: called with the tracker when the best circuit improves (saves artifacts and the model).
        log_interval: environment steps between progress rows.
        state: a restored state (resume), or None for a fresh run.
    """

    def __init__(
        self,
        run_dir: Path,
        value_key: str,
        on_new_best: Callable[[SearchTracker], None] | None = None,
        log_interval: int = 1000,
        state: SearchState | None = None,
    ) -> None:
        super().__init__()
        self.value_key = value_key
        self.on_new_best = on_new_best
        self.log_interval = log_interval
        self.state = state or SearchState()
        self.progress = MetricsLog(run_dir / "progress.csv")
        self._recent = deque(self.state.recent_success, maxlen=100)
        self._returns: deque[float] = deque(maxlen=100)
        self._episode_returns: np.ndarray | None = None
        self._started = time.monotonic()
        self._last_logged = 0

    @property
    def best_circuit(self) -> Circuit | None:
        return Circuit.from_dict(self.state.best_circuit) if self.state.best_circuit else None

    def is_better(self, value: float, n_gates: int) -> bool:
        """Better task value, or an equal value (to 1e-9) with fewer gates."""
        best = self.state.best_value
        if best is None:
            return True
        sign = 1.0 if self.value_key == "fidelity" else -1.0
        if sign * (value - best) > 1e-9:
            return True
        best_gates = len(self.state.best_circuit["operations"]) if self.state.best_circuit else 0
        return abs(value - best) <= 1e-9 and n_gates < best_gates

    def _on_training_start(self) -> None:
        self._episode_returns = np.zeros(self.training_env.num_envs)
        self._started = time.monotonic() - self.state.wall_time
        self._last_logged = self.num_timesteps

    def _on_step(self) -> bool:
        assert self._episode_returns is not None
        self._episode_returns += np.asarray(self.locals["rewards"], dtype=float)
        improved = False
        for i, (info, done) in enumerate(zip(self.locals["infos"], self.locals["dones"], strict=True)):
            # Every circuit built along the way is a candidate, not only finished episodes: under noise the best
            # circuit is often a prefix (longer circuits collect more noise), and episodes end only at the limit.
            value, n_gates = info.get(self.value_key), info.get("gate_count")
            if value is not None and n_gates is not None and self.is_better(float(value), int(n_gates)):
                circuit = info.get("circuit") or self._current_circuit(i)
                if circuit is not None:
                    self.state.best_value, self.state.best_circuit = float(value), circuit.to_dict()
                    self.state.best_timestep = self.num_timesteps
                    improved = True
            if done:
                self._returns.append(float(self._episode_returns[i]))
                self._episode_returns[i] = 0.0
                self._record_episode(info)
        if improved and self.on_new_best is not None:
            self.on_new_best(self)
        if self.num_timesteps - self._last_logged >= self.log_interval:
            self.log_progress()
        return True

    def _current_circuit(self, i: int) -> Circuit | None:
        """The circuit environment ``i`` has built so far (batched envs build it on request)."""
        venv = self.training_env.unwrapped
        return venv.circuit(i) if hasattr(venv, "circuit") else None

    def _record_episode(self, info: dict[str, Any]) -> None:
        success = bool(info.get("is_success", False))
        self.state.episodes += 1
        self.state.successes += success
        self._recent.append(success)
        if success and self.state.first_success_episode is None:
            self.state.first_success_episode = self.state.episodes
            self.state.first_success_timestep = self.num_timesteps

    def snapshot(self) -> SearchState:
        """The state as of now (for a checkpoint)."""
        self.state.wall_time = time.monotonic() - self._started
        self.state.recent_success = list(self._recent)
        return SearchState(**asdict(self.state))

    def log_progress(self) -> None:
        self._last_logged = self.num_timesteps
        state = self.snapshot()
        row = {
            "timesteps": self.num_timesteps,
            "episodes": state.episodes,
            "successes": state.successes,
            "success_rate_100": float(np.mean(self._recent)) if self._recent else 0.0,
            "mean_return_100": float(np.mean(self._returns)) if self._returns else float("nan"),
            f"best_{self.value_key}": state.best_value if state.best_value is not None else float("nan"),
            "best_gates": len(state.best_circuit["operations"]) if state.best_circuit else "",
            "exploration_rate": getattr(self.model, "exploration_rate", ""),
            "wall_time_s": round(state.wall_time, 3),
        }
        self.progress.append(row)
        for key in ("success_rate_100", "mean_return_100", f"best_{self.value_key}"):
            self.logger.record(f"qas/{key}", row[key])

    def _on_training_end(self) -> None:
        if self.num_timesteps > self._last_logged:
            self.log_progress()


class Checkpointer(BaseCallback):
    """Every ``every`` steps (and at the end), save the model, its replay buffer and the tracker's state.

    The state file is written last and names the model's step count, so a crash mid-checkpoint leaves the
    previous complete checkpoint's state in place.
    """

    def __init__(self, run_dir: Path, tracker: SearchTracker, every: int) -> None:
        super().__init__()
        self.dir = run_dir / CHECKPOINT_DIR
        self.tracker = tracker
        self.every = every
        self._last = 0

    def _on_training_start(self) -> None:
        self._last = self.num_timesteps

    def _on_step(self) -> bool:
        if self.num_timesteps - self._last >= self.every:
            self.save()
        return True

    def _on_training_end(self) -> None:
        self.save()

    def save(self) -> None:
        self._last = self.num_timesteps
        atomic_write(self.dir / CHECKPOINT_MODEL, lambda p: self.model.save(p))
        if isinstance(self.model, OffPolicyAlgorithm):
            atomic_write(self.dir / CHECKPOINT_BUFFER, lambda p: self.model.save_replay_buffer(p))
        write_json(self.dir / CHECKPOINT_STATE, {"timesteps": self.num_timesteps, **asdict(self.tracker.snapshot())})


def load_checkpoint_state(run_dir: Path) -> SearchState | None:
    """The search state saved with the run's last checkpoint, or None when it has none."""
    path = run_dir / CHECKPOINT_DIR / CHECKPOINT_STATE
    if not path.exists():
        return None
    with reading(path):
        data = json.loads(path.read_text())
        data.pop("timesteps")  # recorded for people reading the file; the model carries its own step count
        return SearchState(**data)
