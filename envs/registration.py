"""Gymnasium ids of the qas environments, registered on ``import qas`` through the ``qas.register`` entry point.

Entry points are strings, so registering costs nothing until an environment is made.
"""

from __future__ import annotations

import gymnasium as gym

ENV_IDS: dict[str, str] = {
    "qas/StatePreparation-v0": "qas.envs.state_preparation:StatePreparationEnv",
    "qas/UnitaryCompilation-v0": "qas.envs.unitary_compilation:UnitaryCompilationEnv",
    "qas/GroundState-v0": "qas.envs.ground_state:GroundStateEnv",
}


def register() -> None:
    """Register every qas environment id with Gymnasium (idempotent)."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            # No max_episode_steps: the gate limit is an env argument (presets differ), reported as truncation.
            gym.register(id=env_id, entry_point=entry_point)
