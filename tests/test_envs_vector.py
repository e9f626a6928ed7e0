"""make_vec: a natively batched SB3 VecEnv that matches the single env step for step."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import VecEnv

import qas  # noqa: F401 (registers the environments)
from qas.envs import make_vec
from qas.errors import ConfigError

ENV_ID = "qas/StatePreparation-v0"


@pytest.mark.parametrize("preset", ["kuo", "kuo-noisy", "kanqas", "kanqas-noisy"])
def test_batched_steps_match_single_env(preset: str) -> None:
    num_envs, steps = 6, 25
    venv = make_vec(ENV_ID, num_envs, target="ghz3", preset=preset)
    assert isinstance(venv, VecEnv)
    envs = [gym.make(ENV_ID, target="ghz3", preset=preset) for _ in range(num_envs)]
    single_obs = np.stack([e.reset(seed=0)[0] for e in envs])
    np.testing.assert_allclose(venv.reset(), single_obs, atol=1e-6)
    rng = np.random.default_rng(1)
    for _ in range(steps):
        actions = rng.integers(venv.action_space.n, size=num_envs)
        obs, rewards, dones, infos = venv.step(actions)
        for i, env in enumerate(envs):
            o, r, terminated, truncated, info = env.step(actions[i])
            assert dones[i] == (terminated or truncated)
            assert rewards[i] == pytest.approx(r, abs=1e-6)
            assert infos[i]["fidelity"] == pytest.approx(info["fidelity"], abs=1e-12)
            if dones[i]:
                assert infos[i]["circuit"] == info["circuit"]
                assert infos[i]["is_success"] == terminated
                assert infos[i]["depth"] == info["circuit"].depth
                np.testing.assert_allclose(infos[i]["terminal_observation"], o, atol=1e-6)
                np.testing.assert_array_equal(infos[i]["action_mask"], info["action_mask"])
                o, _ = env.reset()
            np.testing.assert_allclose(obs[i], o, atol=1e-6)
        np.testing.assert_array_equal(venv.action_masks(), np.stack([e.unwrapped.action_masks() for e in envs]))


def test_finished_episodes_reset_automatically() -> None:
    venv = make_vec(ENV_ID, 2, target="bell", preset="kuo")
    first = venv.reset()
    env = gym.make(ENV_ID, target="bell", preset="kuo")
    h0, cx01, x1 = (
        next(i for i, a in enumerate(env.unwrapped.table.actions) if str(a) == s) for s in ("h 0", "cx 0,1", "x 1")
    )
    venv.step(np.array([h0, x1]))
    obs, rewards, dones, infos = venv.step(np.array([cx01, cx01]))
    assert dones.tolist() == [True, False]
    assert infos[0]["is_success"] and infos[0]["fidelity"] == pytest.approx(1.0)
    assert str(infos[0]["circuit"].operations[0]) == "h 0" and infos[0]["actions"].tolist() == [h0, cx01]
    assert rewards[0] == pytest.approx(0.99) and rewards[1] == pytest.approx(-0.01)
    np.testing.assert_allclose(obs[0], first[0])
    assert len(venv.circuit(0)) == 0 and len(venv.circuit(1)) == 2


def test_masks_through_env_method_for_maskable_ppo() -> None:
    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.maskable.utils import get_action_masks

    venv = make_vec(ENV_ID, 4, target="bell", preset="kanqas")
    venv.reset()
    assert get_action_masks(venv).shape == (4, 12)
    model = MaskablePPO("MlpPolicy", venv, n_steps=8, batch_size=16, n_epochs=1, seed=0, device="cpu")
    model.learn(32)
    assert model.num_timesteps == 32


def test_kanqas_noisy_bell_best_fidelity_over_all_short_circuits_is_085() -> None:
    """Exhaustive search over every circuit of up to three gates: the best reachable fidelity is exactly 0.85."""
    env = gym.make(ENV_ID, target="bell", preset="kanqas-noisy")
    n = env.action_space.n
    sequences = np.array(list(itertools.product(range(n), repeat=3)))
    venv = make_vec(ENV_ID, len(sequences), target="bell", preset="kanqas-noisy", record_circuits=False)
    venv.reset()
    best = 0.0
    for step in range(3):
        _, _, dones, infos = venv.step(sequences[:, step])
        assert not dones.any()
        best = max(best, max(info["fidelity"] for info in infos))
    assert best == pytest.approx(0.85, abs=1e-6)


def test_bad_num_envs() -> None:
    with pytest.raises(ConfigError, match="num_envs"):
        make_vec(ENV_ID, 0)
