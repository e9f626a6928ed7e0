"""qas/GroundState-v0: checkers, the CRLQAS layout and reward, scripted ansätze reaching the exact energies."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import qas  # noqa: F401 (registers the environments)
from qas.errors import ConfigError, UnknownTargetError
from qas.molecules import load_hamiltonian
from qas.noise import NoiseModel, depolarize
from qas.optimize import fit_parameters
from qas.sim.density import final_density_matrix
from qas.tasks import GroundState

ENV_ID = "qas/GroundState-v0"
NOISE = NoiseModel(after_one_qubit=depolarize(1e-3), after_two_qubit=depolarize(1e-2, 2))
H2_ANSATZ = ["rx 0", "rx 1", "ry 2", "cx 2,3", "cx 2,0", "cx 2,1"]  # HF, then a|1100> + b|0011>


def _steps(env: gym.Env, labels: list[str]) -> tuple[list[float], bool, bool, dict]:
    env.reset(seed=0)
    names = [str(a) for a in env.unwrapped.table.actions]
    rewards, terminated, truncated, info = [], False, False, {}
    for label in labels:
        _, reward, terminated, truncated, info = env.step(names.index(label))
        rewards.append(reward)
    return rewards, terminated, truncated, info


@pytest.mark.parametrize(
    "kwargs",
    [{"target": "h2-2q"}, {}, {"target": "h2-2q", "noise": NOISE}, {"target": "h2-2q", "random_halting": True}],
)
def test_checkers_pass(kwargs: dict) -> None:
    env = gym.make(ENV_ID, **kwargs)
    gym_check_env(env.unwrapped, skip_render_check=bool(kwargs))
    sb3_check_env(env.unwrapped)


@pytest.mark.parametrize(("target", "actions", "obs_size"), [("h2-2q", 8, 401), ("lih4", 24, 1121), ("lih6", 48, 3781)])
def test_crlqas_sizes(target: str, actions: int, obs_size: int) -> None:
    env = gym.make(ENV_ID, target=target)
    assert env.action_space.n == actions and env.observation_space.shape == (obs_size,)


def test_h2_4q_scripted_ansatz_reaches_exact_energy() -> None:
    env = gym.make(ENV_ID)  # h2, 4 qubits, crlqas
    rewards, terminated, _, info = _steps(env, H2_ANSATZ)
    assert terminated and info["is_success"] and rewards[-1] == 5.0
    assert info["energy"] == pytest.approx(-1.137270175, abs=1e-6) and abs(info["energy_error"]) < 1e-8
    assert rewards[1] == pytest.approx((0.5985605947836226 - 0.020585787575561953) / (0.5985605947836226), abs=1e-6)
    hamiltonian, _ = load_hamiltonian("h2")
    assert hamiltonian.expectation(info["circuit"].final_state()) == pytest.approx(info["energy"], abs=1e-10)
    assert info["cnot_count"] == 3 and info["parameter_count"] == 3


def test_h2_2q_needs_one_cnot() -> None:
    rewards, terminated, _, info = _steps(gym.make(ENV_ID, target="h2-2q"), ["ry 0", "cx 0,1"])
    assert terminated and info["energy"] == pytest.approx(-1.137270175, abs=1e-6) and rewards[-1] == 5.0


def test_random_policy_respects_the_variational_bound_and_reports_fitted_circuits() -> None:
    env = gym.make(ENV_ID, target="lih4", max_gates=6)
    hamiltonian, exact = load_hamiltonian("lih4")
    env.reset(seed=0)
    rng = np.random.default_rng(5)
    previous = env.unwrapped.search.values[0]
    for _ in range(6):
        obs, reward, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        assert info["energy"] >= exact - 1e-9
        assert hamiltonian.expectation(info["circuit"].final_state()) == pytest.approx(info["energy"], abs=1e-9)
        assert obs[-1] == pytest.approx(info["energy"], abs=1e-5)  # the appended energy
        if not (terminated or truncated):
            gap = abs(previous - exact)
            assert reward == pytest.approx(np.clip((previous - info["energy"]) / gap, -1, 1), abs=1e-9)
        previous = info["energy"]
        if terminated or truncated:
            break
    assert truncated and reward == -5.0  # six random gates do not reach chemical accuracy on LiH


def test_noisy_energy_is_exact_density_matrix_energy() -> None:
    env = gym.make(ENV_ID, noise=NOISE)
    _, terminated, _, info = _steps(env, H2_ANSATZ)
    hamiltonian, exact = load_hamiltonian("h2")
    rho = final_density_matrix(info["circuit"], NOISE)
    assert info["energy"] == pytest.approx(hamiltonian.expectation(rho), abs=1e-10)
    assert exact < info["energy"] < exact + 0.05 and not terminated


def test_refit_matches_qas_optimize() -> None:
    """The env's numpy adjoint refit and qas.optimize's torch L-BFGS agree on the optimum."""
    torch.set_num_threads(1)
    env = gym.make(ENV_ID)
    _, _, _, info = _steps(env, H2_ANSATZ)
    hamiltonian, exact = load_hamiltonian("h2")
    start = info["circuit"].with_params([3.0, 3.0, 0.1])
    fitted = fit_parameters(start, GroundState(hamiltonian, exact_energy=exact))
    assert fitted.loss == pytest.approx(info["energy"], abs=1e-8)


def test_make_vec_runs_ground_state_episodes() -> None:
    from qas.envs import make_vec

    venv = make_vec(ENV_ID, 2, target="h2-2q", max_gates=3)
    venv.reset()
    names = [str(a) for a in venv.get_attr("table")[0].actions]
    ry0, cx01, rz1 = names.index("ry 0"), names.index("cx 0,1"), names.index("rz 1")
    venv.step(np.array([ry0, rz1]))
    _, rewards, dones, infos = venv.step(np.array([cx01, cx01]))
    assert dones.tolist() == [True, False] and rewards[0] == 5.0
    assert infos[0]["energy"] == pytest.approx(-1.137270175, abs=1e-6)
    assert infos[0]["circuit"].params[0] != 0.0  # the fitted angle, not a placeholder
    assert venv.action_masks().shape == (2, 8)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"target": "h3"}, UnknownTargetError, "molecule"),
        ({"threshold": -1.0}, ConfigError, "threshold"),
        ({"preset": "kuo"}, ConfigError, "preset"),
        ({"reward": "kuo"}, ConfigError, "energy reward"),
        ({"observation": "unitary"}, ConfigError, "observation"),
    ],
)
def test_bad_kwargs(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        gym.make(ENV_ID, **kwargs)


def test_random_halting_is_seeded_and_cuts_episodes() -> None:
    env = gym.make(ENV_ID, target="h2-2q", random_halting=True)
    limits = []
    for seed in range(12):
        env.reset(seed=seed)
        limits.append(int(env.unwrapped.search.limits[0]))
    env.reset(seed=0)
    assert env.unwrapped.search.limits[0] == limits[0]  # the same seed draws the same limit
    assert min(limits) >= round(25 * 40 / 70) and max(limits) <= 40 and len(set(limits)) > 3
    env = gym.make(ENV_ID, target="h2-2q", random_halting=True, max_gates=3)
    env.reset(seed=0)
    names = [str(a) for a in env.unwrapped.table.actions]
    steps = [env.step(names.index("rz 1")) for _ in range(int(env.unwrapped.search.limits[0]))]
    assert steps[-1][3] and steps[-1][1] == -5.0
