"""The environments are learnable: MaskablePPO on the batched Kuo env finds the optimal Bell and GHZ-3 circuits.

Slow (20-60 s each on a shared 2-core machine); run with ``pytest -m slow``.
"""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch

import qas  # noqa: F401 (registers the environments)
from qas.envs import make_vec


@pytest.mark.slow
@pytest.mark.parametrize(("target", "steps", "optimal_gates"), [("bell", 20_000, 2), ("ghz3", 50_000, 3)])
def test_maskable_ppo_learns_the_optimal_circuit(target: str, steps: int, optimal_gates: int) -> None:
    from sb3_contrib import MaskablePPO

    torch.set_num_threads(1)
    venv = make_vec("qas/StatePreparation-v0", 16, target=target, preset="kuo")
    model = MaskablePPO(
        "MlpPolicy", venv, n_steps=64, batch_size=256, n_epochs=4, learning_rate=1e-3, seed=0, device="cpu"
    )
    model.learn(steps)
    env = gym.make("qas/StatePreparation-v0", target=target, preset="kuo")
    obs, info = env.reset(seed=0)
    terminated = truncated = False
    while not (terminated or truncated):
        action, _ = model.predict(obs, deterministic=True, action_masks=env.unwrapped.action_masks())
        obs, _, terminated, truncated, info = env.step(action)
    assert terminated and info["fidelity"] == pytest.approx(1.0) and len(info["circuit"]) == optimal_gates
