"""DiffQAS for reinforcement learning: search a policy circuit under A3C, then pick among the top architectures.

The search (DiffQAS-QRL, Chen 2024): a supernet policy trains by A3C, structure logits and circuit weights together.
The softmax structure weights then rank the architectures; rather than trusting the single most probable one (its
lead is often a few percent, and a supernet's mixture can act well where no single circuit does), ``top_k`` probable
ones are each re-trained from scratch for ``validation_steps`` on a *validation* seed and scored on validation start
states, and the best is chosen. By default (``distinct_first``) these are the most probable architecture for each
encoding candidate, put at every encoding position, not the global top ``top_k``: in ten CartPole searches the
supernet always ranked H+Ry encoding first, so the global top four differed only in later positions and the other
encodings, Rx among them (the most consistent hand design's), were never tried; and its argmax at the second encoding
position often differed from the first, giving mixed-encoding circuits no hand designer would try.
Measured on validation seeds 100-104 (``bench/diffqas.py --part cartpole --first-seed 100``; one A3C learner, so each
figure is reproducible), the mean final score of the chosen circuit: 216.6 with these defaults; 196.0 with 15k-step
validations; 199.6 with three validation seeds per candidate (``validation_seeds``); 209.4 with a 100k-step supernet;
117.6 with one repeated layer per candidate. The best hand design scored 336.9 (ry-rot-czall; rx-rot-ring 208.8). One
architecture trained on different seeds scores anywhere in ~45-500, so a validation training says little about the
final one (486 -> 125 and 500 -> 145 were seen), and the choice is often worse than the best hand design.
What the space holds: all 64 architectures that repeat one layer block (as the hand designs do), trained on seeds
200-202, are led by enc_h_ry rot cz_all (472), then enc_ry rx cnot_ladder (374) and enc_rx rot cnot_ring (372);
ry-rot-czall scored 192 there. On the 38 seeds both were trained on (0-19, 100-104, 200-202, 300-309), enc_h_ry rot
cz_all averages 298 against ry-rot-czall's 265, yet its trainings are bimodal (near 500, or stuck near 145: seed 102's
evaluations 48 57 120 121 445 145 156 133 159 143). Even always choosing it would beat the best hand design of a
5-seed set on only 2 of 5 sets (seeds 0-4: 263 vs 234, 5-9: 375 vs 279; not 10-14: 242 vs 279, 15-19: 202 vs 303,
100-104: 284 vs 337), so on 5 seeds that target is a matter of luck for any search. Ranking only repeated-block
architectures and validating 16 by successive halving (the best 4 re-trained on 3 seeds) chose, on seeds 100-104,
architectures averaging 287 over ten fresh seeds (300-309), against 254 for these defaults' choices and 284 for
ry-rot-czall: about 1.3 standard errors for six times the validation cost, so it was not adopted.
The figures above used the A3C trainer before its input scales started from the observation bounds (see ``a3c.py``).
With that trainer the hand designs gained more than the search: the defaults' choices scored 228.3 on seeds 100-104
(rx-rot-ring 323.3, hry-ry-ladder 318.2, ry-rot-czall 281.1), 240.5 on 0-4 (305.7, 275.5, 276.5) and 279.7 on 5-9
(255.7, 260.3, 249.6; the only one of the three sets where the search wins). Over those 15 seeds: 249.5 against
rx-rot-ring's 294.9 (ratio 0.85). Three of the 15 choices had Rz encodings, picked on validation scores of 500, 491
and 252.
Only the chosen architecture is then trained for the full budget by the caller (the CLI or the benchmark), exactly
like any hand-designed circuit, so the comparison seeds and start states never steer a choice.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import torch

from qas.errors import ConfigError
from qas.generators.diffqas.a3c import A3CConfig, A3CResult, make_policy, train_a3c
from qas.generators.diffqas.model import VariationalModel
from qas.generators.diffqas.space import SearchSpace
from qas.settings import from_mapping

logger = logging.getLogger(__name__)

VALIDATION_OFFSET = 7_919
"""Added to the seed and the evaluation seed of validation trainings, so they share nothing with the final ones."""


@dataclass(frozen=True)
class PolicySearchConfig:
    """How long the supernet trains and how the derived architecture is chosen; A3C settings are separate."""

    search_steps: int = 30_000  # A3C steps of the supernet policy
    top_k: int = 4  # the probable architectures re-trained on the validation seed
    validation_steps: int = 50_000  # A3C steps of each validation re-training (the final budget; see the module doc)
    validation_seeds: int = 1  # re-trainings per architecture, on different seeds; the score is their mean
    distinct_first: bool = True  # one per encoding candidate, the same at every encoding position (see the module doc)

    def __post_init__(self) -> None:
        if min(self.search_steps, self.top_k, self.validation_steps, self.validation_seeds) < 1:
            raise ConfigError("search_steps, top_k, validation_steps and validation_seeds must be at least 1")

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

    def to_dict(self, a3c: A3CConfig) -> dict[str, Any]:
        """The flat mapping :meth:`split` reads back (without env_id, which the task names)."""
        return asdict(self) | {k: v for k, v in asdict(a3c).items() if k != "env_id"}


@dataclass(frozen=True)
class ValidatedArchitecture:
    """An architecture re-trained on the validation seed: its choice, names and score (mean greedy return)."""

    choice: tuple[int, ...]
    architecture: tuple[str, ...]
    probability: float  # of the architecture under the supernet's final structure weights
    validation_score: float


@dataclass
class PolicySearchResult:
    """The supernet's training, the validated candidates (most probable first) and the chosen one."""

    supernet: A3CResult
    candidates: list[ValidatedArchitecture] = field(default_factory=list)

    @property
    def best(self) -> ValidatedArchitecture:
        return best_of(self.candidates)


def best_of(candidates: list[ValidatedArchitecture]) -> ValidatedArchitecture:
    """The highest validation score; on a tie the more probable architecture."""
    return max(candidates, key=lambda c: (c.validation_score, c.probability))


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


def ranked_architectures(
    policy: VariationalModel, k: int, distinct_first: bool = True
) -> list[tuple[list[int], float]]:
    """``k`` architectures of a trained supernet ``policy`` to validate, with their probabilities.

    With ``distinct_first``, one architecture per candidate of the first position (the encoding, in a policy space)
    comes first: that candidate at every position with the same candidate list (every encoding position) and the
    argmax elsewhere, most probable first; the global ranking fills up to ``k`` where there are fewer candidates.
    """
    probabilities = [p.detach() for p in policy.supernet.probabilities()]

    def probability(choice: list[int]) -> float:
        return float(torch.prod(torch.stack([p[j] for p, j in zip(probabilities, choice, strict=True)])))

    picks: list[list[int]] = []
    if distinct_first:
        names = policy.supernet.space.candidate_names
        argmax = [int(p.argmax()) for p in probabilities]
        picks = sorted(
            ([j if n == names[0] else a for n, a in zip(names, argmax, strict=True)] for j in range(len(names[0]))),
            key=probability,
            reverse=True,
        )[:k]
    # The global top 2k holds at least k architectures that are not among the (at most k) picks.
    picks += [c for c in policy.supernet.choices(2 * k) if c not in picks][: k - len(picks)]
    return [(choice, probability(choice)) for choice in picks]


def validate(
    space: SearchSpace, config: A3CConfig, search: PolicySearchConfig, choice: list[int], probability: float
) -> ValidatedArchitecture:
    """Re-train architecture ``choice`` from scratch on each validation seed and score it by the mean."""
    scores = []
    for repeat in range(search.validation_seeds):
        settings = validation_config(config, search.validation_steps, repeat)
        scores.append(train_a3c(make_policy(space.fixed(choice), config.env_id, seed=settings.seed), settings).score)
    score = sum(scores) / len(scores)
    validated = ValidatedArchitecture(tuple(choice), tuple(space.names(choice)), probability, score)
    logger.info("validated %s (p=%.3f): %.1f", " ".join(validated.architecture), probability, score)
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
    candidates = [
        validate(space, config, search, choice, p)
        for choice, p in ranked_architectures(supernet.model, search.top_k, search.distinct_first)
    ]
    return PolicySearchResult(supernet, candidates)
