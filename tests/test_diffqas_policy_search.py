"""Which architectures a policy search re-trains on the validation seed, from the supernet's structure weights."""

from __future__ import annotations

import pytest
import torch

from qas.generators.diffqas import SearchSpace
from qas.generators.diffqas.a3c import A3CConfig, A3CResult, make_policy
from qas.generators.diffqas.policy_search import ranked_architectures

# Structure logits of a supernet that, like the CartPole searches, prefers H+Ry encoding (candidate 0) at the first
# position strongly; the second position hesitates between ry (1) and rot (3).
LOGITS = [[3.0, 1.0, 0.5, 0.0], [0.0, 1.0, 0.0, 0.9], [0.0, 2.0, 0.0, 0.0]] * 2


def trained_supernet() -> A3CResult:
    model = make_policy(SearchSpace.layered(4, 2, encoding=True), seed=0)
    with torch.no_grad():
        for alpha, logits in zip(model.supernet.alphas, LOGITS, strict=True):
            alpha.copy_(torch.tensor(logits, dtype=alpha.dtype))
    return A3CResult(model, A3CConfig())


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
