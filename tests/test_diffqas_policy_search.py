"""Which architectures a policy search re-trains on the validation seed, from the supernet's structure weights."""

from __future__ import annotations

import pytest
import torch

from qas.generators.diffqas import SearchSpace
from qas.generators.diffqas.a3c import A3CConfig, make_policy, train_a3c
from qas.generators.diffqas.model import VariationalModel
from qas.generators.diffqas.policy_search import PolicySearchConfig, ranked_architectures, validate, validation_config

# Structure logits of a supernet that, like the CartPole searches, prefers H+Ry encoding (candidate 0) at the first
# position strongly; the second position hesitates between ry (1) and rot (3).
LOGITS = [[3.0, 1.0, 0.5, 0.0], [0.0, 1.0, 0.0, 0.9], [0.0, 2.0, 0.0, 0.0]] * 2


def trained_supernet() -> VariationalModel:
    model = make_policy(SearchSpace.layered(4, 2, encoding=True), seed=0)
    with torch.no_grad():
        for alpha, logits in zip(model.supernet.alphas, LOGITS, strict=True):
            alpha.copy_(torch.tensor(logits, dtype=alpha.dtype))
    return model


def test_validated_candidates_cover_every_encoding_in_every_layer() -> None:
    ranked = ranked_architectures(trained_supernet(), 4)
    # Each encoding once, at both encoding positions, with the argmax elsewhere, in the order of the encoding's logit.
    assert [choice for choice, _ in ranked] == [[j, 1, 1, j, 1, 1] for j in (0, 1, 2, 3)]
    probabilities = [p for _, p in ranked]
    softmax = [torch.softmax(torch.tensor(logits, dtype=torch.float64), 0) for logits in LOGITS[:3]]
    # The policy's supernet holds its logits in single precision.
    assert probabilities[0] == pytest.approx(float(softmax[0][0] * softmax[1][1] * softmax[2][1]) ** 2, rel=1e-6)
    assert probabilities == sorted(probabilities, reverse=True)


def test_global_ranking_fills_up_and_is_used_without_distinct_first() -> None:
    supernet = trained_supernet()
    # Without distinct_first the four most probable differ only where the supernet hesitates (ry vs rot).
    assert [c for c, _ in ranked_architectures(supernet, 4, distinct_first=False)] == [
        [0, 1, 1, 0, 1, 1],
        [0, 1, 1, 0, 3, 1],
        [0, 3, 1, 0, 1, 1],
        [0, 3, 1, 0, 3, 1],
    ]
    # Six candidates: the four encodings, then the two most probable architectures not among them.
    assert [c for c, _ in ranked_architectures(supernet, 6)][4:] == [[0, 1, 1, 0, 3, 1], [0, 3, 1, 0, 1, 1]]


def test_validation_scores_the_mean_of_trainings_on_distinct_seeds() -> None:
    space, choice = SearchSpace.layered(4, 1, encoding=True), [1, 1, 1]
    # One learner: two Hogwild workers interleave differently from run to run, and the scores below must repeat.
    config = A3CConfig(total_steps=100, workers=1, rollout=5, eval_every=0, eval_episodes=2)
    search = PolicySearchConfig(validation_steps=100, validation_seeds=2)
    settings = [validation_config(config, 100, repeat) for repeat in (0, 1)]
    assert settings[0].seed != settings[1].seed and settings[0].eval_seed != settings[1].eval_seed
    alone = [train_a3c(make_policy(space.fixed(choice), seed=s.seed), s).score for s in settings]
    assert alone[0] != alone[1]  # else the mean could not tell one training from two
    validated = validate(space, config, search, choice, 0.5)
    assert validated.validation_score == pytest.approx(sum(alone) / 2)
    assert validated.architecture == tuple(space.names(choice))
