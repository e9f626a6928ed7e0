"""Gymnasium environments for circuit search (``qas.envs``).

Importing ``qas`` registers the ids in :data:`ENV_IDS`, so ``gymnasium.make`` builds them:

- ``qas/StatePreparation-v0`` (default: Bell, Kuo et al. preset; presets ``kuo``, ``kuo-noisy``, ``kanqas``,
  ``kanqas-noisy``),
- ``qas/UnitaryCompilation-v0`` (default: CZ from Clifford+T gates),
- ``qas/GroundState-v0`` (default: H2 on 4 qubits, CRLQAS preset).

    import gymnasium as gym, qas
    env = gym.make("qas/StatePreparation-v0", target="ghz3", preset="kanqas-noisy")
    venv = qas.envs.make_vec("qas/StatePreparation-v0", 4096, target="ghz3", preset="kuo")  # an SB3 VecEnv

:func:`make_vec` builds the natively batched stable-baselines3 vector environment; it is imported on first use,
because stable-baselines3 pulls in torch and ``import qas`` must stay light.
"""

from typing import Any

from qas.envs.registration import ENV_IDS, register

__all__ = ["ENV_IDS", "make_vec", "register"]


def __getattr__(name: str) -> Any:
    if name == "make_vec":
        from qas.envs.vector import make_vec

        return make_vec
    raise AttributeError(f"module 'qas.envs' has no attribute {name!r}")
