"""DiffQAS for a small supervised task: search a variational classifier's circuit, then re-train the derived one.

The model is :class:`VariationalModel` with one output (a logit) trained by binary cross-entropy. ``joint`` updates
structure and weights on the training set together; ``alternating`` is DARTS proper (Liu et al. 2019): a weight step
on the training split, then a structure step on a held-out validation split, so the structure is chosen for how well
it generalises. :func:`make_moons` gives the usual two-moons benchmark without needing scikit-learn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from qas.errors import ConfigError, QasError
from qas.generators.diffqas.model import VariationalModel
from qas.generators.diffqas.space import SearchSpace
from qas.settings import check_numbers, from_mapping


def make_moons(n_samples: int, *, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (labels 0 and 1) with Gaussian noise, centred and scaled to about [-1, 1]."""
    rng = np.random.default_rng(seed)
    n_top = n_samples // 2
    t_top = rng.uniform(0, math.pi, n_top)
    t_bottom = rng.uniform(0, math.pi, n_samples - n_top)
    top = np.stack([np.cos(t_top), np.sin(t_top)], 1)
    bottom = np.stack([1 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)], 1)
    x = np.concatenate([top, bottom]) + rng.normal(scale=noise, size=(n_samples, 2))
    x = (x - np.array([0.5, 0.25])) / np.array([1.5, 0.75])
    y = np.concatenate([np.zeros(n_top), np.ones(n_samples - n_top)])
    order = rng.permutation(n_samples)
    return x[order].astype(np.float32), y[order].astype(np.float32)


@dataclass(frozen=True)
class ClassifierConfig:
    epochs: int = 150  # full-batch steps, for the search and again for re-training the derived circuit
    lr: float = 0.05
    structure_lr: float = 0.05
    update: Literal["joint", "alternating"] = "joint"
    seed: int = 0
    # The data set of ``qas search --task classify:moons``: ``samples`` training points and as many test points.
    samples: int = 200
    noise: float = 0.1
    goal_accuracy: float = 0.85  # test accuracy that counts as success (the CLI's exit code)

    def __post_init__(self) -> None:
        check_numbers(self)
        if self.update not in ("joint", "alternating"):
            raise ConfigError(f"update must be 'joint' or 'alternating', got {self.update!r}")
        if self.epochs < 1 or self.samples < 2 or self.noise < 0:
            raise ConfigError("epochs must be >= 1, samples >= 2 and noise >= 0")
        if min(self.lr, self.structure_lr) <= 0:
            raise ConfigError("lr and structure_lr must be positive")
        if not 0 <= self.goal_accuracy <= 1:
            raise ConfigError(f"goal_accuracy must be in [0, 1], got {self.goal_accuracy}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassifierConfig:
        """From a mapping (a run's config, ``--set`` overrides); unknown keys are an error."""
        return from_mapping(cls, data, "classifier")


@dataclass
class ClassifierResult:
    """The derived architecture, its re-trained model and accuracies, and the search's history per epoch."""

    architecture: tuple[str, ...]
    choice: tuple[int, ...]
    model: VariationalModel
    train_accuracy: float
    test_accuracy: float
    search_losses: list[float] = field(default_factory=list)
    probabilities: list[list[list[float]]] = field(default_factory=list)  # [epoch][position][candidate]


def accuracy(model: VariationalModel, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        predicted = model(torch.as_tensor(x))[:, 0] > 0
    return float((predicted.numpy() == (y > 0.5)).mean())


def _train(
    model: VariationalModel, x: torch.Tensor, y: torch.Tensor, config: ClassifierConfig, *, search: bool
) -> tuple[list[float], list[list[list[float]]]]:
    """Full-batch training; returns the loss and the structure probabilities after every epoch."""
    loss_fn = torch.nn.BCEWithLogitsLoss()
    weights = torch.optim.Adam(model.weight_parameters(), lr=config.lr)
    structure = torch.optim.Adam(model.structure_parameters(), lr=config.structure_lr) if search else None
    alternate = search and config.update == "alternating"
    n_train = int(0.7 * len(x)) if alternate else len(x)
    losses, probabilities = [], []
    for _ in range(config.epochs):
        weights.zero_grad()
        if structure is not None:
            structure.zero_grad()
        loss = loss_fn(model(x[:n_train])[:, 0], y[:n_train])
        loss.backward()
        weights.step()
        if structure is not None:
            if alternate:
                structure.zero_grad()
                loss_fn(model(x[n_train:])[:, 0], y[n_train:]).backward()
            structure.step()
        losses.append(float(loss.detach()))
        probabilities.append([p.detach().tolist() for p in model.supernet.probabilities()])
    return losses, probabilities


def search_classifier(
    space: SearchSpace,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    config: ClassifierConfig | None = None,
) -> ClassifierResult:
    """Search ``space`` for a classifier of (x, y), derive the argmax architecture and re-train it from scratch."""
    config = config or ClassifierConfig()
    if x_train.ndim != 2 or x_train.shape[1] != space.num_inputs:
        raise QasError(f"features must have shape (N, {space.num_inputs}) for this space, got {x_train.shape}")
    if not np.isin(y_train, (0, 1)).all():
        raise QasError("labels must be 0 or 1")
    x, y = torch.as_tensor(x_train), torch.as_tensor(y_train)
    supernet_model = VariationalModel(space, 1, generator=torch.Generator().manual_seed(config.seed))
    losses, probabilities = _train(supernet_model, x, y, config, search=True)
    choice = supernet_model.supernet.choice()
    derived = VariationalModel(space.fixed(choice), 1, generator=torch.Generator().manual_seed(config.seed + 1))
    _train(derived, x, y, config, search=False)
    return ClassifierResult(
        architecture=tuple(space.names(choice)),
        choice=tuple(choice),
        model=derived,
        train_accuracy=accuracy(derived, x_train, y_train),
        test_accuracy=accuracy(derived, x_test, y_test),
        search_losses=losses,
        probabilities=probabilities,
    )
