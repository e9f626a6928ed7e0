"""MaskablePPO with the shipped hyperparameters learns the optimal GHZ-3 circuit of the Kuo set-up.

Slow (50k steps, 1-3 min on a shared 2-core machine); run with ``pytest -m slow``. The fast end-to-end PPO test
(Bell, CLI, save, evaluate) is in ``test_agents_cli.py``.
"""

from __future__ import annotations

import gymnasium as gym
import pytest

import qas  # noqa: F401  (registers the environments)
from qas.agents.training import rollout, train


@pytest.mark.slow
def test_ppo_defaults_build_the_three_gate_ghz_circuit(tmp_path) -> None:
    kwargs = {"target": "ghz3", "preset": "kuo"}
    result = train("ppo", "qas/StatePreparation-v0", env_kwargs=kwargs, timesteps=50_000, seed=0, root=tmp_path)
    assert result.config["normalize_advantage"] is False and result.config["gamma"] == 0.9
    env = gym.make("qas/StatePreparation-v0", **kwargs)
    circuit, _ = rollout(result.model, env)
    fidelity = abs(env.unwrapped.target.conj() @ circuit.final_state()) ** 2
    assert len(circuit) == 3 and circuit.cnot_count == 2 and fidelity == pytest.approx(1.0)
