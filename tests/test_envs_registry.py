"""Contracts every registered qas environment meets: no-argument construction, pickling, batching, lightness."""

from __future__ import annotations

import pickle
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import qas  # noqa: F401 (registers the environments)
from qas.envs import ENV_IDS, make_vec


def test_import_qas_registers_every_id() -> None:
    assert set(ENV_IDS) == {"qas/StatePreparation-v0", "qas/UnitaryCompilation-v0", "qas/GroundState-v0"}
    assert all(env_id in gym.registry for env_id in ENV_IDS)


def test_import_qas_stays_light() -> None:
    code = "import sys, qas; print(any(m in sys.modules for m in ('torch', 'stable_baselines3', 'qas.envs.base')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_no_arguments_pickle_and_batch(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and env.observation_space.dtype == np.float32
    assert info["circuit"].n_qubits == env.n_qubits and len(info["circuit"]) == 0
    env.step(0)
    clone = pickle.loads(pickle.dumps(env))
    a, b = env.step(1), clone.step(1)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1:4] == b[1:4] and a[4]["circuit"] == b[4]["circuit"]
    venv = make_vec(env_id, 2)
    np.testing.assert_array_equal(venv.reset()[0], env.reset(seed=0)[0])


@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_encoding_observation_is_the_shared_circuit_encoding(env_id: str) -> None:
    env = gym.make(env_id, observation="encoding")
    venv = make_vec(env_id, 2, observation="encoding")
    obs, _ = env.reset(seed=0)
    venv.reset()
    encoding = env.unwrapped.search.observation.encoding
    rng = np.random.default_rng(0)
    for _ in range(4):
        action = int(rng.integers(env.action_space.n))
        obs, _, _, _, info = env.step(action)
        batched, *_ = venv.step(np.array([action, action]))
        expected = encoding.onehot(encoding.encode(info["circuit"])).reshape(-1)
        np.testing.assert_array_equal(obs, expected)
        np.testing.assert_array_equal(batched[1], expected)
