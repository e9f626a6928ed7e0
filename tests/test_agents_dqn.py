"""Masked double DQN: masks in acting and in the target, a Bell run end to end, resume, and bad configs."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.type_aliases import TrainFrequencyUnit

import qas
from qas.agents import evaluate_agent, train
from qas.agents.masked_dqn import MaskedDQN, MaskedReplayBuffer, sample_legal
from qas.agents.training import build_model, make_env, resolve_config
from qas.envs import make_vec
from qas.errors import ConfigError, InputFileError

th.set_num_threads(1)
# The two 2-gate Bell circuits in the Kuo action set: H on one qubit, then a CNOT controlled by it.
OPTIMAL_BELL = [[("h", (0,)), ("cx", (0, 1))], [("h", (1,)), ("cx", (1, 0))]]
BELL = {"target": "bell", "preset": "kuo"}
# A small, quick set-up that solves Bell in about 1500 steps.
QUICK = ["learning_starts=200", "exploration_fraction=0.3", "checkpoint_freq=500", "log_interval=250"]


def test_sample_legal_only_draws_legal_actions() -> None:
    masks = np.zeros((500, 6), dtype=bool)
    masks[:, [1, 4]] = True
    drawn = sample_legal(masks)
    assert set(drawn.tolist()) == {1, 4}


def test_exploration_and_greedy_choice_respect_the_mask() -> None:
    model = MaskedDQN("MlpPolicy", make_vec("qas/StatePreparation-v0", 1, **BELL), seed=0, learning_starts=0)
    obs = np.zeros((64, 6), dtype=np.float32)
    masks = np.zeros((64, 12), dtype=bool)
    masks[:, 7] = True
    model.exploration_rate = 1.0
    assert (model.predict(obs, action_masks=masks)[0] == 7).all()
    model.exploration_rate = 0.0
    assert (model.predict(obs, deterministic=True, action_masks=masks)[0] == 7).all()


def test_exploration_decay_multiplies_epsilon_by_it_at_every_gradient_step() -> None:
    env = gym.make("qas/StatePreparation-v0", **BELL)
    model = MaskedDQN("MlpPolicy", env, seed=0, learning_starts=20, train_freq=1, exploration_decay=0.95)
    model.learn(50)
    # Gradient steps follow env steps 21-50; the epsilon set at step 50 has seen the 29 before it. SB3's linear
    # schedule would stand at its floor, 0.05, by now.
    assert model._n_updates == 30
    assert model.exploration_rate == pytest.approx(0.95**29)
    with pytest.raises(ConfigError, match=r"exploration_decay must lie in \(0, 1\], got 1.5"):
        MaskedDQN("MlpPolicy", env, exploration_decay=1.5)


def test_replay_buffer_stores_the_mask_of_each_next_observation() -> None:
    env = gym.make("qas/StatePreparation-v0", **BELL)
    model = MaskedDQN("MlpPolicy", env, seed=0, learning_starts=50, buffer_size=100)
    model.learn(40)
    buffer = model.replay_buffer
    # After any gate, that gate is illegal next (no back-to-back repeat on the same qubits), and most others legal.
    stored_actions = buffer.actions[:40, 0, 0]
    next_masks = buffer.next_action_masks[:40, 0]
    assert all(not next_masks[t, a] and next_masks[t].sum() >= 10 for t, a in enumerate(stored_actions))


def test_dqn_learns_bell_and_the_run_folder_holds_everything(tmp_path) -> None:
    result = train("dqn", "qas/StatePreparation-v0", env_kwargs=BELL, timesteps=1500, root=tmp_path, overrides=QUICK)
    assert [(o.gate, o.qubits) for o in result.best_circuit] in OPTIMAL_BELL
    assert result.best_score.fidelity == pytest.approx(1.0)
    run = result.run_dir
    assert run == tmp_path / "dqn" / "qas-StatePreparation-v0_1"
    for name in ("config.yaml", "progress.csv", "best_model.zip", "final_model.zip", "learning_curve.png"):
        assert (run / name).is_file(), name
    assert {p.suffix for p in run.glob("best_circuit.*")} == {".json", ".qasm", ".svg"}
    assert json.loads((run / "best_circuit.json").read_text())["score"]["fidelity"] == pytest.approx(1.0)
    assert any((run / "tb").iterdir())
    summary = result.summary()
    assert summary["best_fidelity"] == pytest.approx(1.0) and summary["run_dir"] == str(run)
    # The trained policy itself, acting greedily, builds the 2-gate Bell circuit.
    circuit, score = evaluate_agent(run)
    assert len(circuit) == 2 and score.fidelity == pytest.approx(1.0)


def test_an_interrupted_run_resumes_from_its_checkpoint_with_its_replay_buffer(tmp_path) -> None:
    first = train("dqn", "qas/StatePreparation-v0", env_kwargs=BELL, timesteps=600, root=tmp_path, overrides=QUICK)
    assert first.model.replay_buffer.size() == 600
    resumed = train("dqn", "", resume=first.run_dir, timesteps=900)
    assert resumed.run_dir == first.run_dir
    assert resumed.model.num_timesteps == 900
    assert resumed.model.replay_buffer.size() == 900  # the 600 stored transitions came back
    steps = [int(line.split(",")[0]) for line in (first.run_dir / "progress.csv").read_text().splitlines()[1:]]
    assert steps == sorted(set(steps)) and steps[-1] == 900
    assert resumed.best_circuit is not None and resumed.best_score.fidelity >= first.best_score.fidelity


def test_bad_configurations_raise_one_clear_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="unknown agent 'dqm'"):
        resolve_config("dqm", "qas/StatePreparation-v0")
    env = gym.make("qas/StatePreparation-v0", **BELL)
    with pytest.raises(ConfigError, match="brings its own replay buffer"):
        MaskedDQN("MlpPolicy", env, replay_buffer_class=dict)
    # Naming no class is no conflict (it was "got multiple values for keyword argument 'replay_buffer_class'").
    assert MaskedDQN("MlpPolicy", env, replay_buffer_class=None).replay_buffer_class is MaskedReplayBuffer
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['learning_rat'\]"):
        resolve_config("dqn", "qas/StatePreparation-v0", overrides=["learning_rat=1e-3"])
    with pytest.raises(ConfigError, match="n_timesteps must be a positive integer"):
        resolve_config("dqn", "qas/StatePreparation-v0", timesteps=0)
    with pytest.raises(InputFileError, match="not a run folder"):
        train("dqn", "qas/StatePreparation-v0", resume=tmp_path)
    with pytest.raises(qas.QasError, match="'bel'"):
        train("dqn", "qas/StatePreparation-v0", env_kwargs={"target": "bel"}, timesteps=10, root=tmp_path)


def test_an_episode_train_freq_from_yaml_reaches_sb3_as_a_tuple() -> None:
    config = resolve_config("dqn", "qas/StatePreparation-v0", overrides=["train_freq=[2, episode]"])
    assert config["train_freq"] == [2, "episode"]  # as a config file or --set writes it
    model = build_model(config, make_env(config))
    assert (model.train_freq.frequency, model.train_freq.unit) == (2, TrainFrequencyUnit.EPISODE)


def test_dqn_on_a_ground_state_task_tracks_the_lowest_energy(tmp_path) -> None:
    result = train(
        "dqn",
        "qas/GroundState-v0",
        env_kwargs={"target": "h2-2q"},
        timesteps=300,
        root=tmp_path,
        overrides=["learning_starts=100", "log_interval=100"],
    )
    summary = result.summary()
    assert "best_energy" in summary and "best_fidelity" not in summary
    # H2 in 2 qubits: RY then CNOT reaches the exact ground energy; exploration finds it within 300 steps.
    assert result.best_score.energy_error < 1.6e-3
    assert summary["best_energy"] == pytest.approx(-1.137270175, abs=1.6e-3)


def test_a_noise_spec_in_env_kwargs_stays_a_string_in_the_config_and_makes_the_env_noisy() -> None:
    from qas.agents.training import single_env

    config = resolve_config("dqn", "qas/StatePreparation-v0", env_kwargs={"noise": "depolarize:0.01"})
    assert config["env_kwargs"] == {"target": "bell", "preset": "kuo", "noise": "depolarize:0.01"}
    env = single_env(config)
    env.reset(seed=0)
    for action in (4, 10):  # h on qubit 0, cx(0, 1)
        *_, info = env.step(action)
    assert 0.95 < info["fidelity"] < 0.995  # depolarising noise after each gate costs about 1-2 % fidelity


def test_under_noise_the_best_circuit_is_the_best_prefix_not_the_episode_end(tmp_path) -> None:
    # KANQAS' noisy Bell: no episode can reach the 0.98 threshold, so every episode runs to 6 gates, and each extra
    # gate adds noise; the best circuit (H + CNOT, F = 0.85) only ever appears as a 2-gate prefix.
    kwargs = {"target": "bell", "preset": "kanqas-noisy"}
    result = train("dqn", "qas/StatePreparation-v0", env_kwargs=kwargs, timesteps=900, root=tmp_path, n_envs=4)
    assert result.first_success_episode is None
    assert len(result.best_circuit) == 2
    assert result.best_score.fidelity == pytest.approx(0.85, abs=1e-6)
