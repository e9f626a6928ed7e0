"""Circuit-search agents on stable-baselines3 (``qas.agents``): masked DQN, KAN-Q, PPR and MaskablePPO.

:func:`train` runs one agent on one environment into a run folder (``runs/<agent>/<env>_<n>/``) and returns the
best circuit found. It is imported on first use, because the agents pull in torch and ``import qas`` stays light.

>>> import qas
>>> from qas.agents import train
>>> result = train("dqn", "qas/StatePreparation-v0", env_kwargs={"target": "bell"}, timesteps=5000)  # doctest: +SKIP
>>> result.best_circuit, result.best_score.fidelity  # doctest: +SKIP
"""

from typing import Any

# Tuning lives in qas.agents.tune (``from qas.agents.tune import tune``); a lazy alias here would be shadowed by the
# submodule of the same name once it is imported.
__all__ = ["AGENTS", "TrainResult", "evaluate_agent", "train"]


def __getattr__(name: str) -> Any:
    if name in ("AGENTS", "TrainResult", "evaluate_agent", "train"):
        from qas.agents import training

        return getattr(training, name)
    raise AttributeError(f"module 'qas.agents' has no attribute {name!r}")
