"""qas/UnitaryCompilation-v0: checkers, scripted compilations, exact noisy process fidelity and bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import qas
from qas.errors import ConfigError, InvalidUnitaryError
from qas.evaluate import evaluate
from qas.linalg import unitary_fidelity
from qas.noise import NoiseModel, depolarize
from qas.tasks import UnitarySynthesis

ENV_ID = "qas/UnitaryCompilation-v0"
NOISE = NoiseModel(after_one_qubit=depolarize(0.01), after_two_qubit=depolarize(0.05, 2))


def _steps(env: gym.Env, labels: list[str]) -> tuple[list[float], bool, dict]:
    env.reset(seed=0)
    names = [str(a) for a in env.unwrapped.table.actions]
    rewards, terminated, info = [], False, {}
    for label in labels:
        _, reward, terminated, _, info = env.step(names.index(label))
        rewards.append(reward)
    return rewards, terminated, info


@pytest.mark.parametrize(
    "kwargs", [{}, {"noise": NOISE}, {"observation": "circuit"}, {"target": "toffoli", "gate_set": ["h", "t", "cx"]}]
)
def test_checkers_pass(kwargs: dict) -> None:
    env = gym.make(ENV_ID, **kwargs)
    gym_check_env(env.unwrapped, skip_render_check=bool(kwargs))
    sb3_check_env(env.unwrapped)


def test_default_is_cz_with_the_unitary_observation() -> None:
    env = gym.make(ENV_ID)
    obs, info = env.reset(seed=0)
    assert env.action_space.n == 12 and obs.shape == (32,)
    np.testing.assert_allclose(obs[:16].reshape(4, 4), np.diag([1, 1, 1, -1]), atol=1e-7)  # T^dagger V = CZ
    assert info["fidelity"] == pytest.approx(0.25)  # |Tr(CZ)|^2 / 16


def test_cz_compiles_with_h_cx_h() -> None:
    env = gym.make(ENV_ID)
    rewards, terminated, info = _steps(env, ["h 1", "cx 0,1", "h 1"])
    assert terminated and info["fidelity"] == pytest.approx(1.0, abs=1e-12) and rewards[-1] == pytest.approx(50.0)
    obs = env.unwrapped.search.observe()[0]
    np.testing.assert_allclose(obs[:16].reshape(4, 4), np.eye(4), atol=1e-7)  # solved: T^dagger V = I


def test_toffoli_from_clifford_t() -> None:
    env = gym.make(ENV_ID, target="toffoli", gate_set=["h", "t", "tdg", "cx"])
    decomposition = [
        "h 2", "cx 1,2", "tdg 2", "cx 0,2", "t 2", "cx 1,2", "tdg 2", "cx 0,2",
        "t 1", "t 2", "h 2", "cx 0,1", "t 0", "tdg 1", "cx 0,1",
    ]  # fmt: skip
    _, terminated, info = _steps(env, decomposition)
    assert terminated and info["fidelity"] == pytest.approx(1.0, abs=1e-9)
    assert info["cnot_count"] == 6 and info["gate_count"] == 15


def test_random_policy_fidelity_is_hilbert_schmidt() -> None:
    env = gym.make(ENV_ID, target="qft2", max_gates=12)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(12):
        _, reward, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        expected = unitary_fidelity(env.unwrapped.target, info["circuit"].unitary())
        assert info["fidelity"] == pytest.approx(expected, abs=1e-12)
        assert reward == pytest.approx(50 * expected if terminated else expected)
        if terminated or truncated:
            break
    assert truncated or terminated


def test_noisy_fidelity_is_exact_process_fidelity() -> None:
    env = gym.make(ENV_ID, noise=NOISE)
    assert env.observation_space.shape == (20 * 7 * 2,)  # falls back to the circuit tensor under noise
    _, terminated, info = _steps(env, ["h 1", "cx 0,1", "h 1"])
    score = evaluate(info["circuit"], UnitarySynthesis(env.unwrapped.target, noise=NOISE))
    assert info["fidelity"] == pytest.approx(score.fidelity, abs=1e-10)
    assert 0.9 < info["fidelity"] < 0.95 and not terminated


def test_batched_matches_single() -> None:
    from qas.envs import make_vec

    venv = make_vec(ENV_ID, 3, target="swap")
    venv.reset()
    actions = np.array([[10, 11, 10], [11, 10, 10], [10, 11, 10]]).T  # cx/cx/cx = swap for copy 0 and 2
    for a in actions:
        _, _, dones, infos = venv.step(a)
    assert dones.tolist() == [True, False, True] and infos[0]["circuit"] == qas.Circuit(
        2, (qas.op("cx", 0, 1), qas.op("cx", 1, 0), qas.op("cx", 0, 1))
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"target": np.eye(32)}, ConfigError, "2-4 qubits"),
        ({"target": np.ones((4, 4))}, InvalidUnitaryError, "not unitary"),
        ({"observation": "pauli"}, ConfigError, "observation"),
        ({"observation": "unitary", "noise": NOISE}, ConfigError, "noiseless"),
        ({"preset": "kuo"}, ConfigError, "preset"),
    ],
)
def test_bad_kwargs(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        gym.make(ENV_ID, **kwargs)
