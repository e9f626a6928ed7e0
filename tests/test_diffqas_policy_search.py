"""Which architectures a policy search re-trains on the validation seed, from the supernet's structure weights."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
import torch

from qas.errors import QasError
from qas.generators.diffqas import SearchSpace, policy_search
from qas.generators.diffqas.a3c import A3CConfig, make_policy, train_a3c
from qas.generators.diffqas.model import VariationalModel
from qas.generators.diffqas.policy_search import (
    PolicySearchConfig,
    ValidatedArchitecture,
    best_of,
    circuit_cost,
    ranked_architectures,
    validate,
    validation_config,
)

# Structure logits of a supernet that, like the CartPole searches, prefers H+Ry encoding (candidate 0) at the first
# position strongly; the second position hesitates between ry (1) and rot (3).
LOGITS = [[3.0, 1.0, 0.5, 0.0], [0.0, 1.0, 0.0, 0.9], [0.0, 2.0, 0.0, 0.0]] * 2


def trained_supernet() -> VariationalModel:
    model = make_policy(SearchSpace.layered(4, 2, encoding=True), seed=0)
    with torch.no_grad():
        for alpha, logits in zip(model.supernet.alphas, LOGITS, strict=True):
            alpha.copy_(torch.tensor(logits, dtype=alpha.dtype))
    return model


def test_ranked_architectures_repeat_the_most_probable_layer_blocks() -> None:
    ranked = ranked_architectures(trained_supernet(), 4)
    # Tied: each block at both layers, most probable first: ry, then rot (0.1 below it) and the other two rotations
    # (1 below), before any other encoding (2 below H+Ry).
    assert [choice for choice, _ in ranked] == [[0, 1, 1] * 2, [0, 3, 1] * 2, [0, 0, 1] * 2, [0, 2, 1] * 2]
    probabilities = [p for _, p in ranked]
    softmax = [torch.softmax(torch.tensor(logits, dtype=torch.float64), 0) for logits in LOGITS[:3]]
    # The policy's supernet holds its logits in single precision.
    assert probabilities[0] == pytest.approx(float(softmax[0][0] * softmax[1][1] * softmax[2][1]) ** 2, rel=1e-6)
    assert probabilities == sorted(probabilities, reverse=True)
    # Untied, the four most probable mix blocks: the hesitation at the fifth position comes second.
    assert [c for c, _ in ranked_architectures(trained_supernet(), 4, tied=False)][:2] == [
        [0, 1, 1] * 2,
        [0, 1, 1, 0, 3, 1],
    ]


def test_validation_retrains_the_finalists_on_distinct_seeds() -> None:
    space = SearchSpace.layered(4, 1, encoding=True)
    ranked = [([1, 1, 1], 0.5), ([0, 3, 2], 0.3), ([2, 0, 0], 0.2)]
    # One learner: two Hogwild workers interleave differently from run to run, and the scores below must repeat.
    config = A3CConfig(total_steps=400, workers=1, rollout=5, eval_every=0, eval_episodes=2, score_episodes=4)
    # No tie-break rounds here (their own test is below): the count of trainings must not depend on the scores.
    search = PolicySearchConfig(validation_steps=400, finalists=2, validation_seeds=2, tie_validation_seeds=2)
    settings = [validation_config(config, 400, repeat) for repeat in (0, 1)]
    assert settings[0].seed != settings[1].seed and settings[0].eval_seed != settings[1].eval_seed
    saved = []
    validated = validate(space, config, search, ranked, save=lambda v: saved.append([c.scores for c in v]))
    assert [v.choice for v in validated] == [tuple(c) for c, _ in ranked]  # in ranked order
    first = [v.scores[0] for v in validated]
    # The two best first scores get a second training; the third architecture keeps one.
    finalists = sorted(range(3), key=lambda i: -first[i])[:2]
    assert [len(v.scores) for v in validated] == [2 if i in finalists else 1 for i in range(3)]
    for i in finalists:
        alone = [train_a3c(make_policy(space.fixed(ranked[i][0]), seed=s.seed), s).score for s in settings]
        assert validated[i].scores == pytest.approx(alone)
        assert validated[i].validation_score == pytest.approx(sum(alone) / 2)
    assert len(saved) == 5 and saved[-1] == [v.scores for v in validated]  # every training is handed over at once
    chosen = best_of(validated)
    assert chosen is max((validated[i] for i in finalists), key=lambda v: v.validation_score)
    assert chosen.architecture == tuple(space.names(list(chosen.choice)))
    # Resuming from the first two trainings runs only the other three.
    calls = []
    resumed = validate(
        space,
        config,
        search,
        ranked,
        done=[replace(v, scores=v.scores[:1]) for v in validated[:2]],
        save=lambda v: calls.append(1),
    )
    assert resumed == validated and len(calls) == 3


def test_tied_finalists_go_to_the_cheaper_circuit() -> None:
    space = SearchSpace.layered(4, 2, encoding=True)

    def validated(block: str, probability: float, scores: tuple[float, ...]) -> ValidatedArchitecture:
        choice = space.choice_of(block.split() * 2)
        cost = circuit_cost(space, choice)
        return ValidatedArchitecture(tuple(choice), tuple(block.split() * 2), probability, *cost, scores)

    ladder = validated("enc_ry ry cnot_ladder", 0.3, (500.0, 500.0, 500.0))
    rot = validated("enc_ry rot none", 0.2, (500.0, 500.0, 500.0))
    ry = validated("enc_ry ry none", 0.1, (500.0, 500.0, 500.0))
    once = validated("enc_h_ry ry none", 0.5, (500.0,))  # not a finalist
    # Two layers of 4 encoding gates, 4 rotations (Rot as Rz Ry Rz: 12) and a CNOT ladder (3).
    assert (ladder.two_qubit_gates, ladder.gates) == (6, 22)
    assert (rot.two_qubit_gates, rot.gates) == (0, 32) and (ry.two_qubit_gates, ry.gates) == (0, 16)
    assert best_of([ladder, rot, ry, once]) is ry  # fewest two-qubit gates, then fewest gates
    assert best_of([ladder, rot]) is rot
    # The score comes first, and equal costs fall back on the probability.
    assert best_of([ladder, replace(ry, scores=(500.0, 500.0, 499.0))]) is ladder
    assert best_of([replace(ry, probability=0.05), ry, replace(rot, scores=(1.0, 2.0, 3.0))]) is ry
    assert ValidatedArchitecture.from_dict(ladder.to_dict()) == ladder
    older = {k: v for k, v in ladder.to_dict().items() if k not in ("two_qubit_gates", "gates")}
    with pytest.raises(QasError, match=r"lacks \['two_qubit_gates', 'gates'\] \(from an older qas\?\)"):
        ValidatedArchitecture.from_dict(older)


def test_finalists_tied_at_the_top_are_trained_again_until_one_leads(monkeypatch: pytest.MonkeyPatch) -> None:
    space = SearchSpace.layered(4, 2, encoding=True)
    blocks = ["enc_ry ry none", "enc_ry rot cz_all", "enc_rx rx none", "enc_h_ry ry cnot_ladder"]
    ranked = [(space.choice_of(b.split() * 2), p) for b, p in zip(blocks, (0.4, 0.3, 0.2, 0.1), strict=True)]
    # The scores of each block's validation trainings 0, 1, 2, ...: the cheap enc_ry ry none ties at 500 with
    # enc_ry rot cz_all and enc_rx rx none through three seeds, then gets stuck on the fifth training.
    scripted = {
        "enc_ry ry none": [500.0, 500.0, 500.0, 500.0, 131.0],
        "enc_ry rot cz_all": [500.0] * 6,
        "enc_rx rx none": [500.0, 500.0, 500.0, 470.0],
        "enc_h_ry ry cnot_ladder": [90.0],  # not a finalist
    }
    trainings = []

    def scripted_score(
        space: SearchSpace, config: A3CConfig, search: PolicySearchConfig, choice: Sequence[int], repeat: int
    ) -> float:
        block = " ".join(space.names(choice)[: space.period])
        trainings.append((block, repeat))
        return scripted[block][repeat]

    monkeypatch.setattr(policy_search, "retrain_score", scripted_score)
    config = A3CConfig(total_steps=400)
    search = PolicySearchConfig(finalists=3, validation_seeds=3, tie_validation_seeds=6)
    saved: list[list[tuple[float, ...]]] = []
    validated = validate(space, config, search, ranked, save=lambda v: saved.append([c.scores for c in v]))
    assert [c.scores for c in validated] == [
        (500.0, 500.0, 500.0, 500.0, 131.0),
        (500.0, 500.0, 500.0, 500.0, 500.0),
        (500.0, 500.0, 500.0, 470.0),
        (90.0,),
    ]
    # Round 4 drops enc_rx rx none; round 5 separates the other two, so no sixth training is run.
    assert len(trainings) == len(saved) == 15 and trainings[10:] == [
        ("enc_ry ry none", 3),
        ("enc_ry rot cz_all", 3),
        ("enc_rx rx none", 3),
        ("enc_ry ry none", 4),
        ("enc_ry rot cz_all", 4),
    ]
    assert best_of(validated).architecture[:3] == ("enc_ry", "rot", "cz_all")
    # Without the rounds, the cost would choose enc_ry ry none (no two-qubit gate), the block stuck once in five.
    without = PolicySearchConfig(finalists=3, validation_seeds=3, tie_validation_seeds=3)
    assert best_of(validate(space, config, without, ranked)).architecture[:3] == ("enc_ry", "ry", "none")
    # An interrupted search resumes the rounds where its saved scores end (here after round 4), with the same result.
    partial = [replace(c, scores=scores) for c, scores in zip(validated, saved[12], strict=True)]
    trainings.clear()
    assert validate(space, config, search, ranked, done=partial) == validated
    assert trainings == [("enc_ry ry none", 4), ("enc_ry rot cz_all", 4)]
