"""``DiffQAS(space, task).fit()``: train a supernet, derive its architecture, re-train it and score it.

The loop (Zhang et al. 2020; Chen 2024):

1. Train the structure logits alpha and the circuit weights theta of a :class:`Supernet` by Adam on the task's loss,
   jointly (one step on both) or alternating (a theta step, then an alpha step on a fresh forward pass, as in DARTS).
2. Derive the architecture: the most probable candidate at each position (or one drawn from the softmax); the
   ``derive_top`` most probable architectures are all re-trained and the best is kept.
3. Re-train the derived circuit's angles on their own (:func:`qas.optimize.fit_parameters`, warm-started from the
   supernet's weights for it) and tidy it (:mod:`.simplify`: merge repeated rotations, prune unneeded gates).
4. Score it with the shared evaluator (:func:`qas.evaluate.evaluate`, qsim by default), so a DiffQAS circuit is
   scored exactly like one from any other method.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch

from qas.circuit import Circuit
from qas.errors import ConfigError, QasError
from qas.generators.diffqas.objectives import StateLoss, objective_for
from qas.generators.diffqas.simplify import merge_rotations, prune
from qas.generators.diffqas.space import SearchSpace
from qas.generators.diffqas.supernet import Supernet
from qas.settings import check_numbers, from_mapping
from qas.targets import parse_task
from qas.tasks import GroundState, Task

logger = logging.getLogger(__name__)

CHEMICAL_ACCURACY = 1.6e-3
"""Hartree; the goal for ground-state searches (CRLQAS and the quantum-chemistry literature)."""


@dataclass(frozen=True)
class DiffQASConfig:
    """Settings of a DiffQAS search. Defaults follow the DQAS tutorial's Bell set-up (Adam 0.12 for the structure,
    0.06 for the circuit weights, 400 epochs) unless noted."""

    epochs: int = 400
    lr: float = 0.06  # circuit weights theta
    structure_lr: float = 0.12  # structure logits alpha
    update: Literal["joint", "alternating"] = "joint"
    temperature: float = 1.0  # softmax temperature of the structure weights
    # Anneal the temperature geometrically to this value over the epochs (None: constant). A low final temperature
    # makes the supernet commit to one candidate per position, so it cannot keep a mixture of candidates that no
    # single architecture reproduces (a mix of "none" and an entangler entangles, while "none" alone does not).
    final_temperature: float | None = 0.05
    # The first fraction of the epochs trains only the circuit weights, with the structure uniform (DARTS-style
    # warm-up): the candidates' weights become useful before the structure is judged by them, instead of the first
    # quick win deciding it (on H2 that win is the Hartree-Fock state, with every entangler left out). None: 0.25 for
    # ground states, 0 otherwise (on small state tasks a uniform mixture alone fits the target, which no single
    # architecture does, and the structure never separates).
    warmup: float | None = None
    init_std: float = 0.1  # theta ~ N(0, init_std^2): every candidate starts near the identity
    state_loss: StateLoss = "infidelity"  # "l1" is the DQAS paper's sum |psi_t - psi|
    derive: Literal["argmax", "sample"] = "argmax"
    derive_top: int = 3  # re-train this many of the most probable architectures (or samples) and keep the best
    retrain_steps: int = 100  # L-BFGS iterations for the derived circuit
    retrain_restarts: int = 4  # the warm start plus random starts, fitted as one batch
    simplify: bool = True  # merge repeated rotations and prune gates the task does not need (then re-fit)
    prune_tolerance: float = 1e-6  # largest loss increase pruning may cause (infidelity, or Ha)
    backend: str = "qsim"  # the evaluator's backend for the final score
    goal_fidelity: float = 0.99  # state and unitary tasks succeed at this fidelity
    goal_energy_error: float = CHEMICAL_ACCURACY  # ground-state tasks succeed within this error (Ha)
    seed: int = 0

    def __post_init__(self) -> None:
        check_numbers(self)
        if self.epochs < 0 or self.retrain_steps < 1 or self.retrain_restarts < 1:
            raise ConfigError("epochs must be >= 0 and retrain_steps, retrain_restarts >= 1")
        if self.warmup is not None and not 0 <= self.warmup < 1:
            raise ConfigError(f"warmup is a fraction of the epochs in [0, 1), got {self.warmup}")
        final_temperature = 1.0 if self.final_temperature is None else self.final_temperature
        if min(self.lr, self.structure_lr, self.temperature, final_temperature) <= 0:
            raise ConfigError("lr, structure_lr, temperature and final_temperature must be positive")
        if self.init_std < 0 or self.prune_tolerance < 0 or self.goal_energy_error < 0:
            raise ConfigError("init_std, prune_tolerance and goal_energy_error must be >= 0")
        if not 0 < self.goal_fidelity <= 1:
            raise ConfigError(f"goal_fidelity must be in (0, 1], got {self.goal_fidelity}")
        if self.update not in ("joint", "alternating"):
            raise ConfigError(f"update must be 'joint' or 'alternating', got {self.update!r}")
        if self.derive_top < 1:
            raise ConfigError(f"derive_top must be at least 1, got {self.derive_top}")
        if self.derive not in ("argmax", "sample"):
            raise ConfigError(f"derive must be 'argmax' or 'sample', got {self.derive!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiffQASConfig:
        """From a mapping (a config file, ``--set`` overrides); unknown keys are an error, not silently dropped."""
        return from_mapping(cls, data, "DiffQAS")


@dataclass
class SearchHistory:
    """Per epoch: the supernet loss and the structure probabilities of every position."""

    epochs: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    probabilities: list[list[list[float]]] = field(default_factory=list)  # [epoch][position][candidate]

    def append(self, epoch: int, loss: float, probabilities: list[list[float]]) -> None:
        self.epochs.append(epoch)
        self.losses.append(loss)
        self.probabilities.append(probabilities)


@dataclass(frozen=True)
class DiffQASResult:
    """The derived architecture, its re-trained circuit and the evaluator's score."""

    architecture: tuple[str, ...]  # candidate name per position
    choice: tuple[int, ...]  # candidate index per position
    circuit: Circuit  # the derived circuit with re-trained angles
    search_loss: float  # the supernet's loss after the last epoch
    derived_loss: float  # the derived circuit's loss after re-training (same formula as the supernet's)
    score: Any  # qas.evaluate.Score
    goal_met: bool
    history: SearchHistory = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "architecture": list(self.architecture),
            "choice": list(self.choice),
            "circuit": self.circuit.to_dict(),
            "search_loss": self.search_loss,
            "derived_loss": self.derived_loss,
            "score": self.score.to_dict(),
            "goal_met": self.goal_met,
        }


class DiffQAS:
    """Differentiable architecture search over ``space`` for ``task``.

    ``task`` is a :class:`~qas.tasks.Task` or a task string (``state:bell``, ``ground-state:h2``); ``overrides``
    replace settings of ``config`` (unknown names are an error).

    Example:
        >>> from qas.generators import DiffQAS
        >>> from qas.generators.diffqas import SearchSpace
        >>> result = DiffQAS(SearchSpace.dqas(2, 3), "state:bell", epochs=200).fit()  # doctest: +SKIP
        >>> result.architecture, result.score.fidelity  # doctest: +SKIP
    """

    def __init__(
        self, space: SearchSpace, task: Task | str, config: DiffQASConfig | None = None, **overrides: Any
    ) -> None:
        self.config = DiffQASConfig.from_dict({**asdict(config or DiffQASConfig()), **overrides})
        task = parse_task(task) if isinstance(task, str) else task
        if not isinstance(task, Task):
            raise QasError(f"task must be a qas.tasks.Task or a task string such as 'state:bell', got {task!r}")
        if space.n_qubits != task.n_qubits:
            raise QasError(f"search space has {space.n_qubits} qubits but the task is on {task.n_qubits}")
        if space.num_inputs:
            raise QasError(
                "this search space encodes input features; circuit tasks take none (use the classifier or A3C trainers)"
            )
        self.space = space
        self.task = task
        warmup = self.config.warmup if self.config.warmup is not None else 0.25 * isinstance(task, GroundState)
        self.warmup_epochs = int(warmup * self.config.epochs)
        self.generator = torch.Generator().manual_seed(self.config.seed)
        self.supernet = Supernet(
            space, init_std=self.config.init_std, temperature=self.config.temperature, generator=self.generator
        )
        self.objective = objective_for(task, state_loss=self.config.state_loss)
        self.circuit_optimizer = torch.optim.Adam(self.supernet.circuit_parameters(), lr=self.config.lr)
        self.structure_optimizer = torch.optim.Adam(self.supernet.structure_parameters(), lr=self.config.structure_lr)
        self.epoch = 0
        self.history = SearchHistory()

    def loss(self) -> torch.Tensor:
        """The supernet's loss on the task (differentiable in alpha and theta)."""
        return self.objective.loss(self.supernet(initial_states=self.objective.initial_states))

    def temperature(self, epoch: int) -> float:
        """The softmax temperature at ``epoch`` (geometric from ``temperature`` to ``final_temperature``)."""
        cfg = self.config
        span = cfg.epochs - self.warmup_epochs - 1
        if cfg.final_temperature is None or span < 1:
            return cfg.temperature
        progress = min(max(epoch - self.warmup_epochs, 0), span) / span
        return cfg.temperature * (cfg.final_temperature / cfg.temperature) ** progress

    def step(self) -> float:
        """One epoch of training; returns the loss before the update."""
        self.supernet.temperature = self.temperature(self.epoch)
        self.circuit_optimizer.zero_grad()
        self.structure_optimizer.zero_grad()
        loss = self.loss()
        loss.backward()
        self.circuit_optimizer.step()
        if self.epoch < self.warmup_epochs:
            return float(loss.detach())
        if self.config.update == "alternating":
            # DARTS-style: the structure step sees the circuit weights after their update.
            self.structure_optimizer.zero_grad()
            self.loss().backward()
        self.structure_optimizer.step()
        return float(loss.detach())

    def fit(self, *, callback: Callable[[DiffQAS], None] | None = None) -> DiffQASResult:
        """Train until ``config.epochs`` (continuing from :attr:`epoch` after a resume), then :meth:`derive`.

        ``callback(self)`` runs after every epoch (the CLI writes progress and checkpoints from it).
        """
        while self.epoch < self.config.epochs:
            loss = self.step()
            self.history.append(self.epoch, loss, [p.detach().tolist() for p in self.supernet.probabilities()])
            self.epoch += 1
            if callback is not None:
                callback(self)
        return self.derive()

    def derive(self) -> DiffQASResult:
        """Pick the architecture, re-train its angles on their own and score it with the shared evaluator."""
        from qas.evaluate import evaluate
        from qas.optimize import fit_parameters

        cfg = self.config
        with torch.no_grad():
            search_loss = float(self.loss())
        # The most probable architectures, each re-trained; on equal losses the more probable one wins.
        fits = []
        for choice in self.supernet.choices(cfg.derive_top, cfg.derive, self.generator):
            fit = fit_parameters(
                self.supernet.circuit(choice),
                self.task,
                steps=cfg.retrain_steps,
                restarts=cfg.retrain_restarts,
                seed=cfg.seed,
            )
            fits.append((fit.loss, len(fits), choice, fit))
        _, _, choice, fit = min(fits, key=lambda f: (f[0], f[1]))
        circuit, derived_loss = fit.circuit, fit.loss
        if cfg.simplify:
            simplified = prune(merge_rotations(circuit), self.task, cfg.prune_tolerance)
            if simplified != circuit:
                refit = fit_parameters(simplified, self.task, steps=cfg.retrain_steps, seed=cfg.seed)
                circuit, derived_loss = refit.circuit, refit.loss
        # fit=False: the angles were just fitted, so the evaluator scores them as they are.
        score = evaluate(circuit, self.task, backend=cfg.backend, fit=False)
        architecture = tuple(self.space.names(choice))
        logger.info("derived %s: loss %.3g, %d gates", " ".join(architecture), derived_loss, len(circuit))
        return DiffQASResult(
            architecture=architecture,
            choice=tuple(choice),
            circuit=circuit,
            search_loss=search_loss,
            derived_loss=derived_loss,
            score=score,
            goal_met=self.goal_met(score),
            history=self.history,
        )

    def goal_met(self, score: Any) -> bool:
        """Chemical accuracy for ground states, ``goal_fidelity`` for states and unitaries."""
        if isinstance(self.task, GroundState):
            return bool(score.energy_error <= self.config.goal_energy_error)
        return bool(score.fidelity >= self.config.goal_fidelity)

    # ----- checkpoints ----------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: weights, optimiser moments, epoch, history and the random state."""
        return {
            "config": asdict(self.config),
            "epoch": self.epoch,
            "supernet": self.supernet.state_dict(),
            "circuit_optimizer": self.circuit_optimizer.state_dict(),
            "structure_optimizer": self.structure_optimizer.state_dict(),
            "history": asdict(self.history),
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])
        self.supernet.load_state_dict(state["supernet"])
        self.circuit_optimizer.load_state_dict(state["circuit_optimizer"])
        self.structure_optimizer.load_state_dict(state["structure_optimizer"])
        self.history = SearchHistory(**state["history"])
        self.generator.set_state(state["generator"])
