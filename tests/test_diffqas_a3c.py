"""A3C with variational-circuit policies (DiffQAS-QRL): asynchronous workers update one shared supernet policy."""

from __future__ import annotations

import pickle
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from qas.errors import ConfigError
from qas.generators.diffqas import SearchSpace, a3c
from qas.generators.diffqas.a3c import (
    RESTART_OFFSET,
    A3CConfig,
    A3CResult,
    _ArchitectureSampler,
    greedy_returns,
    make_policy,
    train_a3c,
    train_with_restarts,
)
from qas.generators.diffqas.model import VariationalModel

torch.set_num_threads(1)

SPACE = SearchSpace.from_dict({"n_qubits": 4, "layer": [["enc_rx", "enc_h_ry"], ["ry", "rot"], ["cnot_ring", "none"]]})


def test_workers_train_the_shared_supernet_policy() -> None:
    model = make_policy(SPACE, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = A3CConfig(total_steps=640, workers=2, envs_per_worker=4, rollout=20, eval_episodes=2, seed=1)
    result = train_a3c(model, config)
    # Both workers' gradients reached the shared model: circuit weights, read-out and structure logits all moved.
    for name in ["supernet.theta", "head.weight", "input_map", "supernet.alphas.0", "supernet.alphas.2"]:
        assert not torch.equal(model.state_dict()[name], before[name]), name
    assert model.input_map.detach().triu(1).abs().sum() > 0  # the input map learned to mix features
    # Each worker stops at the first rollout that finds the shared step count at 640, so at most one rollout of
    # 4 environments x 20 steps per worker runs past it; CartPole episodes last at least 8 steps.
    steps_taken = 640 + 2 * 4 * 20
    assert result.episodes and all(8 <= ret <= steps_taken for _, ret in result.episodes)
    assert sum(ret for _, ret in result.episodes) <= steps_taken
    assert len(result.eval_returns) == 2 and result.wall_time > 0


def test_one_worker_trains_deterministically_and_evaluates_on_schedule() -> None:
    config = A3CConfig(total_steps=480, workers=1, envs_per_worker=4, eval_every=160, eval_episodes=3)
    first, second = (train_a3c(make_policy(SPACE, seed=5), replace(config, seed=5)) for _ in range(2))
    assert [e.step for e in first.evaluations] == [160, 320, 480]
    # Same seed, same everything: episodes, greedy returns and weights agree exactly.
    assert first.episodes == second.episodes
    assert [e.returns for e in first.evaluations] == [e.returns for e in second.evaluations]
    for name, value in first.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[name]), name
    # The structure probabilities are recorded at each evaluation and move with training.
    assert first.evaluations[0].probabilities != first.evaluations[-1].probabilities
    other = train_a3c(make_policy(SPACE, seed=6), replace(config, seed=6))
    assert other.episodes != first.episodes
    # Evaluating draws none of training's random numbers, so evaluating more often only adds checkpoints to keep:
    # without the two evaluations on the way, the same episodes and the same final weights.
    unevaluated = train_a3c(make_policy(SPACE, seed=5), replace(config, seed=5, eval_every=0))
    assert unevaluated.episodes == first.episodes
    assert [e.step for e in unevaluated.evaluations] == [480]
    for name, value in first.evaluations[-1].weights.items():
        assert np.array_equal(value, unevaluated.evaluations[-1].weights[name]), name


def test_training_keeps_the_best_evaluated_weights_and_scores_them_on_other_episodes() -> None:
    fixed = SPACE.fixed([0, 1, 0])
    config = A3CConfig(
        total_steps=2400, workers=1, envs_per_worker=4, eval_every=600, eval_episodes=3, score_episodes=3, seed=5
    )
    best = train_a3c(make_policy(fixed, seed=5), config)
    last = train_a3c(make_policy(fixed, seed=5), replace(config, keep_best=False))
    # One learner, one seed: the same training twice, whose greedy return peaks at the second evaluation.
    assert [e.returns for e in best.evaluations] == [e.returns for e in last.evaluations]
    means = [e.mean_return for e in best.evaluations]
    # Each evaluation falls on the first rollout boundary (4 environments x 20 steps) at or past a multiple of 600.
    assert [e.step for e in best.evaluations] == [640, 1200, 1840, 2400]
    assert best.kept.step == 1200 and best.kept.mean_return == max(means) > means[-1]
    assert last.kept is last.evaluations[-1]
    for result in (best, last):
        # The model ends with the kept evaluation's weights ...
        for name, value in result.model.state_dict().items():
            assert np.array_equal(value.numpy(), result.kept.weights[name]), name
        # ... and is scored on the 3 start states after the evaluations' 3 (10000-10002), which did not choose it.
        assert result.score_returns == greedy_returns(result.model, "CartPole-v1", 10_003, 3)
    assert best.score > last.score


def test_a_stuck_training_is_restarted_on_other_seeds_and_the_best_kept() -> None:
    fixed = SPACE.fixed([0, 1, 0])
    config = A3CConfig(
        total_steps=480, workers=1, envs_per_worker=4, eval_every=160, eval_episodes=3, score_episodes=3, seed=5
    )
    saved: list[A3CResult] = []
    kept = train_with_restarts(fixed, config, 2, save=saved.append)
    # 480 steps leave every training far below CartPole's reward threshold (475): two restarts, each a fresh model
    # on its own seed, the first exactly the training that a single train_a3c would run.
    assert [t.config.seed for t in saved] == [5, 5 + RESTART_OFFSET, 5 + 2 * RESTART_OFFSET]
    assert all(t.kept.mean_return < 475 for t in saved)
    assert saved[0].episodes == train_a3c(make_policy(fixed, seed=5), config).episodes
    assert len({tuple(t.episodes) for t in saved}) == 3
    best = max(t.kept.mean_return for t in saved)
    assert kept is next(t for t in saved if t.kept.mean_return == best)  # the earliest of equals
    # A resumed run goes on after the trainings it has: the same restarts, the same outcome.
    resumed: list[A3CResult] = []
    again = train_with_restarts(fixed, config, 2, done=saved[:1], save=resumed.append)
    assert [t.config.seed for t in resumed] == [5 + RESTART_OFFSET, 5 + 2 * RESTART_OFFSET]
    assert [t.episodes for t in resumed] == [t.episodes for t in saved[1:]]
    assert again.config.seed == kept.config.seed
    assert train_with_restarts(fixed, config, 0).config.seed == 5  # no restarts: the one training


def test_restarts_stop_at_the_first_training_that_reaches_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    kept_returns = {0: 200.0, 1: 475.0}  # the first training is stuck, its first restart solves CartPole
    seeds: list[int] = []

    def scripted(model: object, config: A3CConfig) -> object:
        seeds.append(config.seed)
        mean = kept_returns[(config.seed - 7) // RESTART_OFFSET]
        return SimpleNamespace(kept=SimpleNamespace(mean_return=mean), config=config)

    monkeypatch.setattr(a3c, "train_a3c", scripted)
    kept = train_with_restarts(SPACE.fixed([0, 1, 0]), A3CConfig(seed=7), 5)
    assert seeds == [7, 7 + RESTART_OFFSET] and kept.kept.mean_return == 475.0


def test_sampled_structure_acts_with_one_architecture_per_episode_and_learns_by_reinforce() -> None:
    config = A3CConfig(
        total_steps=960, workers=1, envs_per_worker=4, eval_every=480, eval_episodes=3, score_episodes=3, seed=3
    )
    assert config.structure == "sample-tied"  # the default
    first, second = (train_a3c(make_policy(SPACE, seed=3), config) for _ in range(2))
    assert first.episodes == second.episodes  # one learner: still deterministic per seed
    mixture = train_a3c(make_policy(SPACE, seed=3), replace(config, structure="mixture"))
    assert first.episodes != mixture.episodes
    assert first.evaluations[0].probabilities != first.evaluations[-1].probabilities
    # Evaluations and the score act with the most probable architecture of repeated blocks, not the mixture.
    acting = first.model.supernet.choice(tied=True)
    assert first.score_returns == greedy_returns(first.model, "CartPole-v1", 10_003, 3, acting)
    with pytest.raises(ConfigError, match=r"structure must be one of \['mixture', 'sample', 'sample-tied'\]"):
        A3CConfig(structure="gumbel")


def test_sampled_structure_learns_that_the_policy_must_read_its_inputs() -> None:
    # One block: encode the observation or not. Without the encoding the policy is blind and its episodes stay short.
    space = SearchSpace.from_dict({"n_qubits": 4, "layer": [["enc_ry", "none"], ["ry"], ["cz_all"]]})
    config = A3CConfig(total_steps=15_000, workers=1, eval_every=0, eval_episodes=2, score_episodes=2, seed=1)
    result = train_a3c(make_policy(space, seed=1), config)
    assert result.evaluations[-1].probabilities[0][0] > 0.7  # from 0.5 (measured: 0.77-0.88 on seeds 0-2)
    assert result.model.supernet.choice(tied=True) == [0, 0, 0]


def test_reinforce_raises_the_probability_of_the_architecture_with_the_higher_return() -> None:
    model = make_policy(SPACE, seed=0)
    sampler = _ArchitectureSampler(model, 2, tied=False, generator=torch.Generator().manual_seed(0))
    sampler.current = torch.tensor([[0, 0, 0], [1, 1, 1]])
    sampler.episode_ended(0, 200.0)  # architecture (0, 0, 0) balanced the pole for 200 steps
    sampler.episode_ended(1, 20.0)  # (1, 1, 1) for 20
    sampler.structure_loss().backward()
    # Gradient descent raises every logit of the better architecture and lowers the worse one's.
    for alpha in model.supernet.alphas:
        assert alpha.grad[0] < 0 < alpha.grad[1]  # type: ignore[index]
    assert sampler.structure_loss() == 0  # each finished episode counts once


def test_policy_input_map_starts_as_scales_from_the_observation_bounds() -> None:
    # CartPole's bounds are 4.8 (position) and 0.418 rad (angle), twice its termination limits; velocities unbounded.
    model = make_policy(SPACE)
    input_map = model.input_map.detach()
    scale = input_map.diagonal()
    assert scale.tolist() == pytest.approx([1 / 2.4, 1.0, 1 / 0.20944, 1.0], rel=1e-4)
    assert torch.equal(input_map, torch.diag(scale))
    # So a fresh policy encodes feature i alone, as arctan(scale_i * s_i).
    observations = torch.tensor([[0.5, -1.0, 0.1, 2.0], [-2.0, 0.3, -0.2, -0.5]])
    states = model.supernet(torch.atan(observations * scale))
    expected = (states.abs() ** 2) @ model.z_signs
    assert torch.allclose(model.expectations(observations), expected, atol=1e-6)
    with pytest.raises(ConfigError, match="input_scale needs 4 values"):
        VariationalModel(SPACE, 3, input_scale=[1.0, 2.0])
    with pytest.raises(ConfigError, match="input_lr must be positive, got 0"):
        A3CConfig(input_lr=0)


def test_weights_saved_with_per_feature_scales_load_as_the_diagonal_map() -> None:
    scales = torch.tensor([0.5, 1.0, 4.0, 2.0])
    saved = make_policy(SPACE, seed=0).state_dict()
    older = {name: value for name, value in saved.items() if name != "input_map"} | {"input_scale": scales}
    for model in (make_policy(SPACE, seed=1), pickle.loads(pickle.dumps(make_policy(SPACE, seed=1)))):
        model.load_state_dict(older)
        assert torch.equal(model.input_map.detach(), torch.diag(scales))
        assert torch.equal(model.supernet.theta.detach(), saved["supernet.theta"])


def test_policy_must_encode_every_observation_feature() -> None:
    with pytest.raises(ConfigError, match="CartPole-v1 has 4 observation features but the space encodes 2"):
        make_policy(SearchSpace.layered(2, 1, encoding=True))
    with pytest.raises(ConfigError, match="workers must be at least 1, got 0"):
        A3CConfig(workers=0)
    with pytest.raises(ConfigError, match="score_episodes must be at least 1, got 0"):
        A3CConfig(score_episodes=0)
    with pytest.raises(ConfigError, match="eval_every must be >= 0, got -1"):
        A3CConfig(eval_every=-1)


@pytest.mark.slow
def test_a3c_learns_cartpole_with_a_hand_designed_circuit() -> None:
    space = SearchSpace.layered(4, 2, encoding=True)
    fixed = space.fixed([1, 3, 1, 1, 3, 1])  # Rx encoding, general rotations, CNOT ring, twice
    result = train_a3c(make_policy(fixed, seed=0), A3CConfig(total_steps=30_000, workers=2, seed=0))
    returns = [ret for _, ret in result.episodes]
    tenth = len(returns) // 10
    first, last = sum(returns[:tenth]) / tenth, sum(returns[-tenth:]) / tenth
    # A random policy averages about 20 steps; the learnt one at least doubles that and its own start.
    assert last >= 50 and last >= 2 * first, (first, last)
