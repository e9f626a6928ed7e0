"""DiffQAS for reinforcement learning: search a policy circuit under A3C, then pick among its top architectures.

The search (DiffQAS-QRL, Chen 2024): a supernet policy trains by A3C, structure logits and circuit weights together.
The softmax structure weights then rank the architectures, but their lead is small (the most probable of 4096 often
has p < 0.05) and one A3C training of an architecture is a noisy measure of it, so the choice is made by successive
halving: the ``top_k`` most probable architectures are each re-trained from scratch once on a validation seed (other
start states too), the ``finalists`` best of them on ``validation_seeds`` seeds in all, and the best mean is chosen.
With ``tied`` (the default) only architectures that repeat one layer block count, as hand-designed circuits and DARTS'
stacked cells do: a block's log-probability sums its repeats', so both layers' structure weights vote on one block.
Only the chosen architecture is then trained for the full budget by the caller (the CLI or the benchmark), exactly
like any hand-designed circuit and trained again while stuck (:func:`.a3c.train_with_restarts`, ``final_restarts``),
so the comparison seeds and start states never steer a choice.

How well it works (``bench/diffqas.py --part cartpole``; every figure and rule tried is in
``docs/diffqas-cartpole.md``): a 50k-step training either solves CartPole or gets stuck, at a rate that depends on the
block. With a trainable scale per input feature, 7% to 80% of a block's trainings got stuck, a few validations could
not tell blocks apart, and no selection rule reached the best hand design. The input map of :class:`VariationalModel`
made most blocks solve almost every training; several finalists then tie at 500 on every validation seed, and a tie
goes to the cheaper circuit (:func:`best_of`; it halves the chosen circuits' two-qubit gates at an equal score).
Each miss left was a final training that got stuck, of a block that had passed every validation (up to six, with
the optional tie-break rounds of ``tie_validation_seeds``): validations cannot tell a block that never gets stuck
from one stuck in 1 of 10 trainings. Restarting a final training that ends below the reward threshold rescued one in
20; over seeds 0-34 the chosen circuits score 497.2 (500.0 on seeds 0-4, 5-9, 20-24 and 25-29, 491.6 on 10-14, 496.1
on 15-19, 492.8 on 30-34), the best hand design 500.0, each miss one final training that ended below 500 (480.5, 457.9,
464.2).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import torch

from qas.errors import ConfigError, QasError
from qas.generators.diffqas.a3c import A3CConfig, A3CResult, make_policy, train_a3c
from qas.generators.diffqas.model import VariationalModel
from qas.generators.diffqas.space import SearchSpace
from qas.settings import check_counts, check_numbers, from_mapping

logger = logging.getLogger(__name__)

VALIDATION_OFFSET = 7_919
"""Added to the seed and the evaluation seed of validation trainings, so they share nothing with the final ones."""


@dataclass(frozen=True)
class PolicySearchConfig:
    """How long the supernet trains and how the derived architecture is chosen; A3C settings are separate."""

    search_steps: int = 30_000  # A3C steps of the supernet policy
    top_k: int = 16  # the most probable architectures, each re-trained once on a validation seed
    finalists: int = 4  # the best of those by that training, re-trained on more validation seeds
    validation_steps: int = 50_000  # A3C steps of each validation training (the final budget)
    validation_seeds: int = 3  # trainings of each finalist on different seeds (its first included); scored by the mean
    # Finalists tied for the best mean get one more training each, round by round, until one leads or they have had
    # this many (see validate); at most validation_seeds (the default), there are no such rounds: on CartPole they
    # rescued one final training in 20 searches at a quarter more search time (docs/diffqas-cartpole.md, section 8).
    tie_validation_seeds: int = 3
    tied: bool = True  # only architectures that repeat one layer block, as hand-designed circuits do
    # The final training of the chosen architecture (by the caller) is run again from scratch while it is stuck below
    # the environment's reward threshold, up to this many times (a3c.train_with_restarts): on CartPole one final
    # training in 20 was stuck, and its restart solved the task (docs/diffqas-cartpole.md, section 9). Validations
    # stay single trainings: how often a block's training gets stuck is part of what they measure.
    final_restarts: int = 2

    def __post_init__(self) -> None:
        check_numbers(self)
        counts = ("search_steps", "top_k", "finalists", "validation_steps", "validation_seeds", "tie_validation_seeds")
        check_counts(self, counts)
        if self.final_restarts < 0:
            raise ConfigError(f"final_restarts must be >= 0, got {self.final_restarts}")

    @classmethod
    def split(cls, data: dict[str, Any]) -> tuple[PolicySearchConfig, A3CConfig]:
        """One flat settings mapping (a run's config, ``--set`` overrides) into the search and the A3C settings."""
        own = {f.name for f in fields(cls)}
        # The environment comes from the task (rl:ENV_ID), so env_id is not a setting here.
        known = own | {f.name for f in fields(A3CConfig)} - {"env_id"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown policy-search setting(s) {unknown}; known: {sorted(known)}")
        search = from_mapping(cls, {k: v for k, v in data.items() if k in own}, "policy-search")
        return search, from_mapping(A3CConfig, {k: v for k, v in data.items() if k not in own}, "A3C")

    @property
    def tie_break_rounds(self) -> bool:
        """Whether finalists tied for the best can get tie-break rounds (see :func:`validate`)."""
        return self.tie_validation_seeds > self.validation_seeds

    def to_dict(self, a3c: A3CConfig) -> dict[str, Any]:
        """The flat mapping :meth:`split` reads back (without env_id, which the task names)."""
        return asdict(self) | {k: v for k, v in asdict(a3c).items() if k != "env_id"}


@dataclass(frozen=True)
class ValidatedArchitecture:
    """An architecture re-trained on validation seeds: its choice, names, cost and scores (each a training's score)."""

    choice: tuple[int, ...]
    architecture: tuple[str, ...]
    probability: float  # of the architecture under the supernet's final structure weights
    two_qubit_gates: int
    gates: int
    scores: tuple[float, ...]  # one per validation training, in seed order

    @property
    def validation_score(self) -> float:
        return sum(self.scores) / len(self.scores)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"validation_score": self.validation_score}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidatedArchitecture:
        missing = [f.name for f in fields(cls) if f.name not in data]
        if missing:
            raise QasError(f"validated architecture {data.get('architecture')} lacks {missing} (from an older qas?)")
        return cls(
            tuple(data["choice"]),
            tuple(data["architecture"]),
            data["probability"],
            data["two_qubit_gates"],
            data["gates"],
            tuple(data["scores"]),
        )


@dataclass
class PolicySearchResult:
    """The supernet's training, the validated candidates (most probable first) and the chosen one."""

    supernet: A3CResult
    candidates: list[ValidatedArchitecture] = field(default_factory=list)

    @property
    def best(self) -> ValidatedArchitecture:
        return best_of(self.candidates)


def best_of(candidates: list[ValidatedArchitecture]) -> ValidatedArchitecture:
    """The finalist (most trained) with the highest mean score; on a tie the cheaper circuit (fewer two-qubit gates,
    then fewer gates), then the more probable architecture.

    Ties are common once trainings reach the task's ceiling (CartPole's 500 on every validation seed), and there the
    cost is what a user would choose by; on CartPole it halves the chosen circuits' two-qubit gates at an equal score
    (docs/diffqas-cartpole.md, section 6).
    """
    return max(
        _most_trained(candidates), key=lambda c: (c.validation_score, -c.two_qubit_gates, -c.gates, c.probability)
    )


def tied_for_best(candidates: list[ValidatedArchitecture]) -> list[ValidatedArchitecture]:
    """The most trained of ``candidates`` whose mean score equals the best one's (one unless there is a tie)."""
    finalists = _most_trained(candidates)
    top = max(c.validation_score for c in finalists)
    return [c for c in finalists if math.isclose(c.validation_score, top, rel_tol=0, abs_tol=1e-9)]


def _most_trained(candidates: list[ValidatedArchitecture]) -> list[ValidatedArchitecture]:
    most = max(len(c.scores) for c in candidates)
    return [c for c in candidates if len(c.scores) == most]


def circuit_cost(space: SearchSpace, choice: Sequence[int]) -> tuple[int, int]:
    """The two-qubit gates and all gates of architecture ``choice`` (its cost as ``Circuit.metrics`` counts it)."""
    weights = [[0.0] * space.positions[k][j].num_weights for k, j in enumerate(choice)]
    circuit = space.circuit(choice, weights, [0.0] * space.num_inputs)
    return circuit.two_qubit_count, circuit.gate_count


def validation_config(config: A3CConfig, steps: int, repeat: int = 0) -> A3CConfig:
    """The A3C settings of validation re-training ``repeat``: its own budget, another seed, other start states."""
    offset = VALIDATION_OFFSET * (1 + repeat)
    return replace(
        config,
        total_steps=steps,
        seed=config.seed + offset,
        eval_seed=config.eval_seed + offset,
        eval_every=min(config.eval_every, steps // 3) if config.eval_every else 0,
    )


def train_supernet(space: SearchSpace, config: A3CConfig, steps: int) -> A3CResult:
    """A supernet policy over ``space`` trained by A3C for ``steps`` (structure and circuit weights together).

    It keeps its final weights, not its best evaluation's: the structure weights rank the architectures when the
    search has run its course, as in DiffQAS-QRL.
    """
    settings = replace(config, total_steps=steps, keep_best=False)
    return train_a3c(make_policy(space, config.env_id, seed=config.seed), settings)


def ranked_architectures(policy: VariationalModel, k: int, tied: bool = True) -> list[tuple[list[int], float]]:
    """The ``k`` most probable architectures of a trained supernet ``policy`` (only those repeating one layer block
    if ``tied``), with their probabilities, best first."""
    choices = policy.supernet.choices(k, tied=tied)
    with torch.no_grad():
        probabilities = policy.supernet.log_probability(torch.tensor(choices)).exp().tolist()
    return list(zip(choices, probabilities, strict=True))


def retrain_score(
    space: SearchSpace, config: A3CConfig, search: PolicySearchConfig, choice: Sequence[int], repeat: int
) -> float:
    """The score of architecture ``choice`` re-trained from scratch in validation training ``repeat``."""
    settings = validation_config(config, search.validation_steps, repeat)
    return train_a3c(make_policy(space.fixed(choice), config.env_id, seed=settings.seed), settings).score


def validate(
    space: SearchSpace,
    config: A3CConfig,
    search: PolicySearchConfig,
    ranked: list[tuple[list[int], float]],
    done: Sequence[ValidatedArchitecture] = (),
    save: Callable[[list[ValidatedArchitecture]], None] | None = None,
) -> list[ValidatedArchitecture]:
    """Successive halving over the ``ranked`` architectures: one training each, then ``validation_seeds`` for the
    ``finalists`` best by it, then tie-break rounds. Continues from the architectures ``done`` and hands every new
    score to ``save``.

    Tie-break rounds: finalists often tie at the task's ceiling (CartPole's 500 on every validation seed), and a tie
    says nothing of how often a block's training gets stuck, which the final training risks once more. So while two
    or more finalists tie for the best mean, each of them is trained on one more seed, up to
    ``tie_validation_seeds`` trainings: a block stuck in 1 training of 10 survives three more with probability 0.73.
    """
    validated = list(done)

    def train_again(i: int) -> None:
        score = retrain_score(space, config, search, validated[i].choice, len(validated[i].scores))
        validated[i] = replace(validated[i], scores=(*validated[i].scores, score))
        if save:
            save(validated)

    for choice, probability in ranked[len(validated) :]:
        score = retrain_score(space, config, search, choice, 0)
        names = tuple(space.names(choice))
        validated.append(
            ValidatedArchitecture(tuple(choice), names, probability, *circuit_cost(space, choice), (score,))
        )
        logger.info("validated %s (p=%.4f): %.1f", " ".join(validated[-1].architecture), probability, score)
        if save:
            save(validated)
    finalists = sorted(range(len(validated)), key=lambda i: -validated[i].scores[0])[: search.finalists]
    for i in finalists:
        while len(validated[i].scores) < search.validation_seeds:
            train_again(i)
        logger.info("finalist %s: %s", " ".join(validated[i].architecture), [round(x, 1) for x in validated[i].scores])
    while len(tied := tied_for_best([validated[i] for i in finalists])) > 1 and (
        len(tied[0].scores) < search.tie_validation_seeds
    ):
        indices = [validated.index(c) for c in tied]
        for i in indices:
            train_again(i)
        round_scores = [f"{' '.join(validated[i].architecture)} {validated[i].scores[-1]:.1f}" for i in indices]
        logger.info("tie-break round: %s", ", ".join(round_scores))
    return validated


def search_policy(
    space: SearchSpace, config: A3CConfig, search: PolicySearchConfig | None = None
) -> PolicySearchResult:
    """Train a supernet policy over ``space`` by A3C and validate ``top_k`` probable architectures.

    Example:
        >>> space = SearchSpace.layered(4, 2, encoding=True)  # doctest: +SKIP
        >>> found = search_policy(space, A3CConfig(seed=0))  # doctest: +SKIP
        >>> found.best.architecture, found.best.validation_score  # doctest: +SKIP
    """
    search = search or PolicySearchConfig()
    supernet = train_supernet(space, config, search.search_steps)
    ranked = ranked_architectures(supernet.model, search.top_k, search.tied)
    return PolicySearchResult(supernet, validate(space, config, search, ranked))
