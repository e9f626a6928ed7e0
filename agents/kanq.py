"""KAN-Q (KANQAS, arXiv:2406.17630): masked (double) DQN whose Q-function is a Kolmogorov-Arnold network.

The KAN replaces SB3's MLP head inside the Q-network, so the Q-function is a pure KAN (the ecosystem notes' option
b), and :class:`KANDQNPolicy` records the KAN settings in ``_get_constructor_parameters`` so ``KANDQN.load``
rebuilds it. KANQAS refits the spline grids to replayed states every 50 replays; ``grid_update_interval`` does the
same here, and ``kan_regularization`` adds pykan's sparsity penalty to the TD loss.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork
from torch import nn

from qas.agents.kan import KAN
from qas.agents.masked_dqn import MaskedDQN
from qas.errors import ConfigError


class KANQNetwork(QNetwork):
    """Q-network ``features -> KAN([features, *net_arch, n_actions]) -> Q-values``.

    ``net_arch`` lists the KAN's hidden widths (KANQAS Bell: ``[2]``, i.e. ``[84, 2, 12]``); ``kan`` holds the
    :class:`~qas.agents.kan.KAN` settings, as :class:`KANDQNPolicy` resolves them from ``policy_kwargs``.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        net_arch: list[int] | None = None,
        normalize_images: bool = True,
        kan: dict[str, Any] | None = None,
        **unused_mlp_args: Any,  # activation_fn: DQNPolicy passes it, a KAN learns its activations
    ) -> None:
        # The parent builds an MLP head from net_arch; with no hidden layers it is one small Linear, replaced below.
        super().__init__(
            observation_space, action_space, features_extractor, features_dim, [], nn.ReLU, normalize_images
        )
        self.net_arch = list(net_arch) if net_arch is not None else [8]
        self.kan_kwargs = dict(kan or {})
        self.q_net = KAN([features_dim, *self.net_arch, int(action_space.n)], **self.kan_kwargs)  # type: ignore[assignment]

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return super()._get_constructor_parameters() | {"kan": self.kan_kwargs}


class KANDQNPolicy(DQNPolicy):
    """DQN policy with KAN Q-networks; ``policy_kwargs``: ``net_arch`` (hidden widths), ``grid_size``,
    ``spline_order``, ``grid_range``, ``layer_norm``, ``output_affine`` (see :class:`~qas.agents.kan.KAN`)."""

    def __init__(
        self,
        *args: Any,
        grid_size: int = 5,
        spline_order: int = 3,
        grid_range: tuple[float, float] = (-1.0, 1.0),
        layer_norm: bool = False,
        output_affine: bool = False,
        **kwargs: Any,
    ) -> None:
        net_arch = kwargs.get("net_arch") or []
        widths = net_arch if isinstance(net_arch, list) else [net_arch]
        if not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in (grid_size, spline_order, *widths)
        ):
            raise ConfigError(
                "KAN grid_size, spline_order and the net_arch widths must be integers >= 1, got "
                f"{grid_size!r}, {spline_order!r} and {net_arch!r}"
            )
        self.kan_kwargs = {
            "grid_size": int(grid_size),
            "spline_order": int(spline_order),
            "grid_range": grid_range,
            "layer_norm": bool(layer_norm),
            "output_affine": bool(output_affine),
        }
        super().__init__(*args, **kwargs)

    def make_q_net(self) -> KANQNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return KANQNetwork(**net_args, kan=self.kan_kwargs).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return super()._get_constructor_parameters() | self.kan_kwargs


class KANDQN(MaskedDQN):
    """Masked (double) DQN with a KAN Q-function (``policy="KanPolicy"``) or, for comparison, an MLP.

    :param kan_regularization: weight of the KAN sparsity penalty added to the TD loss (0 = off).
    :param grid_update_interval: refit the spline grids to a replayed batch every this many gradient steps
        (KANQAS: 50); 0 = never.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"KanPolicy": KANDQNPolicy, **MaskedDQN.policy_aliases}

    def __init__(
        self,
        policy: str | type[DQNPolicy],
        env: Any,
        *,
        kan_regularization: float = 0.0,
        grid_update_interval: int = 0,
        **kwargs: Any,
    ) -> None:
        self.kan_regularization = kan_regularization
        self.grid_update_interval = grid_update_interval
        super().__init__(policy, env, **kwargs)

    def _kan(self) -> KAN | None:
        q_net = self.q_net.q_net
        return q_net if isinstance(q_net, KAN) else None

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        kan = self._kan()
        interval = self.grid_update_interval
        if (
            kan is not None
            and interval > 0
            and self._n_updates // interval != (self._n_updates + gradient_steps) // interval
        ):
            observations = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env).observations  # type: ignore[union-attr]
            features = self.q_net.extract_features(observations, self.q_net.features_extractor)
            kan.update_grid(features)
        super().train(gradient_steps, batch_size)

    def _auxiliary_loss(self) -> th.Tensor | float:
        kan = self._kan()
        if kan is None or self.kan_regularization == 0:
            return 0.0
        return self.kan_regularization * kan.regularization_loss()
