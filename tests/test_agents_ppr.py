"""Probabilistic policy reuse: a policy learnt on noiseless Bell is reused on noisy Bell."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th

import qas  # noqa: F401  (registers the environments)
from qas.agents.ppr import PPRDQN, train_sequence
from qas.envs import make_vec
from qas.errors import ConfigError, InputFileError
from qas.runs import MetricsLog

th.set_num_threads(1)
QUICK = ["learning_starts=200", "exploration_fraction=0.3", "log_interval=250"]


def test_ppr_reuses_its_library_and_solves_the_next_task_at_once(tmp_path) -> None:
    tasks = [{"target": "bell", "preset": "kuo"}, {"target": "bell", "preset": "kuo-noisy"}]
    first, second = train_sequence("qas/StatePreparation-v0", tasks, timesteps=1200, root=tmp_path, overrides=QUICK)
    assert first.model.library == []
    assert second.model.library == [str(first.run_dir / "final_model.zip")]
    # Over the first 250 steps, reusing the noiseless policy succeeds in most episodes; from scratch, in few.
    early = [MetricsLog(r.run_dir / "progress.csv").rows()[0] for r in (first, second)]
    assert int(early[0]["timesteps"]) == int(early[1]["timesteps"]) == 250
    assert float(early[1]["success_rate_100"]) > 0.5 > float(early[0]["success_rate_100"])
    reuse, own = second.model.option_return_sum / np.maximum(second.model.option_episodes, 1)
    assert second.model.option_episodes[0] > 0 and reuse > own
    assert second.model.option_probabilities()[0] > 0.5  # the softmax now prefers the reused policy
    assert len(second.best_circuit) == 2 and second.best_score.fidelity > 0.99


def test_option_probabilities_sharpen_as_the_temperature_rises(tmp_path) -> None:
    env = make_vec("qas/StatePreparation-v0", 1, target="bell", preset="kuo")
    PPRDQN("MlpPolicy", env, seed=1).save(tmp_path / "earlier.zip")
    model = PPRDQN("MlpPolicy", env, library=[str(tmp_path / "earlier.zip")], temperature=0.0, seed=0)
    model.option_return_sum[:] = [1.0, 0.0]
    model.option_episodes[:] = [1, 1]
    np.testing.assert_allclose(model.option_probabilities(), [0.5, 0.5])
    model.temperature = 10.0
    assert model.option_probabilities()[0] > 0.99


def test_bad_library_entries_are_reported(tmp_path) -> None:
    env = make_vec("qas/StatePreparation-v0", 1, target="bell", preset="kuo")
    with pytest.raises(InputFileError, match="does not exist"):
        PPRDQN("MlpPolicy", env, library=[str(tmp_path / "missing.zip")], seed=0)
    other = PPRDQN("MlpPolicy", make_vec("qas/StatePreparation-v0", 1, target="ghz3", preset="kuo"), seed=0)
    other.save(tmp_path / "ghz.zip")
    with pytest.raises(ConfigError, match="other action or observation spaces"):
        PPRDQN("MlpPolicy", env, library=[str(tmp_path / "ghz.zip")], seed=0)
    with pytest.raises(ConfigError, match="psi and psi_decay"):
        PPRDQN("MlpPolicy", env, psi=1.5)


def test_ppr_with_an_empty_library_is_exactly_masked_dqn() -> None:
    from qas.agents.masked_dqn import MaskedDQN

    runs = []
    for algorithm in (PPRDQN, MaskedDQN):
        env = make_vec("qas/StatePreparation-v0", 2, target="bell", preset="kuo")
        model = algorithm("MlpPolicy", env, seed=3, learning_starts=100, buffer_size=1000)
        model.learn(300)
        runs.append(model.replay_buffer.actions[:150].copy())
    np.testing.assert_array_equal(*runs)
