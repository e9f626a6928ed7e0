"""Gymnasium environments for circuit search (``qas.envs``).

Importing ``qas`` registers the ids (``qas/StatePreparation-v0``, ...); ``gymnasium.make`` builds them.
:func:`make_vec` builds the natively batched stable-baselines3 vector environment.
"""

from qas.envs.registration import ENV_IDS, register

__all__ = ["ENV_IDS", "register"]
