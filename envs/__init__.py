"""Gymnasium environments for circuit search (``qas.envs``).

Importing ``qas`` registers the ids in :data:`ENV_IDS` (``qas/StatePreparation-v0``, ...), so ``gymnasium.make``
builds them. :func:`make_vec` builds the natively batched stable-baselines3 vector environment; it is imported on
first use, because stable-baselines3 pulls in torch and ``import qas`` must stay light.
"""

from typing import Any

from qas.envs.registration import ENV_IDS, register

__all__ = ["ENV_IDS", "make_vec", "register"]


def __getattr__(name: str) -> Any:
    if name == "make_vec":
        from qas.envs.vector import make_vec

        return make_vec
    raise AttributeError(f"module 'qas.envs' has no attribute {name!r}")
