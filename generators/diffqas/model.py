"""A variational-circuit model for learning tasks: classical pre-processing, the supernet, classical read-out.

DiffQAS-QRL (Chen 2024) writes the model as Q(s) = G_eta(F_theta(H_delta(s))): H_delta scales the inputs into
rotation angles, F is the (super)circuit read out as the Z expectation of every qubit, and G_eta is a linear layer.
Here H_delta is ``arctan(s @ M)`` with a trainable F x F matrix ``M`` started at a diagonal of per-feature scales
(the arctan keeps any real feature in (-pi/2, pi/2), the usual encoding for unbounded RL observations), so the same
model classifies points or acts in CartPole, and over a one-architecture space it is that hand-designed circuit fed
learned mixtures of the features. A full matrix rather than a trainable scale per feature: in CartPole it lets every
qubit read, e.g., pole angle plus angular velocity, and it ended the policies that stalled at returns of 100-300
(docs/diffqas-cartpole.md, section 5: trainings below 450 fell from 27 of 80 to 1 of 80).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from qas.errors import ConfigError
from qas.generators.diffqas.space import SearchSpace
from qas.generators.diffqas.supernet import Supernet


def _scales_as_map(module: nn.Module, state_dict: dict[str, Any], prefix: str, *_: Any) -> None:
    """Weights saved before the input map (one scale per feature, ``input_scale``) load as that diagonal map."""
    scales = state_dict.pop(prefix + "input_scale", None)
    if scales is not None and prefix + "input_map" not in state_dict:
        state_dict[prefix + "input_map"] = torch.diag(scales)


class VariationalModel(nn.Module):
    """``(B, F)`` inputs -> ``(B, n_outputs)``; F is the number of features the space's encoders read.

    Args:
        space: the search space (with encoding candidates ``xI``).
        n_outputs: size of the linear read-out.
        dtype: simulation precision (complex64 is plenty for learning tasks and twice as fast).
        generator: seeds the circuit weights and the read-out layer.
        input_scale: the starting diagonal of ``M``, one scale per feature (default 1); off-diagonal entries start
            at 0, so a fresh model encodes feature i as ``arctan(scale_i * s_i)``.
    """

    def __init__(
        self,
        space: SearchSpace,
        n_outputs: int,
        *,
        dtype: torch.dtype = torch.complex64,
        generator: torch.Generator | None = None,
        input_scale: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        n = space.n_qubits
        n_inputs = max(space.num_inputs, 1)
        if input_scale is not None and len(input_scale) != n_inputs:
            raise ConfigError(f"input_scale needs {n_inputs} values (one per input feature), got {len(input_scale)}")
        start = torch.ones(n_inputs) if input_scale is None else torch.tensor(input_scale, dtype=torch.float32)
        self.input_map = nn.Parameter(torch.diag(start))
        self.register_load_state_dict_pre_hook(_scales_as_map)
        self.supernet = Supernet(space, init_std=0.1, dtype=dtype, generator=generator)
        self.head = nn.Linear(n, n_outputs)
        with torch.no_grad():
            bound = 1 / n**0.5
            self.head.weight.uniform_(-bound, bound, generator=generator)
            self.head.bias.zero_()
        # Z eigenvalue of qubit q on basis state i (qubit 0 is the most significant bit): (2**n, n).
        bits = (torch.arange(2**n)[:, None] >> torch.arange(n - 1, -1, -1)[None, :]) & 1
        self.register_buffer("z_signs", (1 - 2 * bits).to(torch.float32), persistent=False)

    def structure_parameters(self) -> list[nn.Parameter]:
        return self.supernet.structure_parameters()

    def circuit_and_readout_parameters(self) -> list[nn.Parameter]:
        return [*self.supernet.circuit_parameters(), *self.head.parameters()]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Everything but the structure logits: input map, circuit angles and read-out."""
        return [self.input_map, *self.circuit_and_readout_parameters()]

    def expectations(self, inputs: torch.Tensor, choices: torch.Tensor | None = None) -> torch.Tensor:
        """<Z_q> of every qubit, ``(B, n)``; ``choices`` as in :meth:`Supernet.forward`."""
        angles = torch.atan(inputs @ self.input_map)
        states = self.supernet(angles, choices=choices)  # (B, 2**n)
        return (states.abs() ** 2).to(self.z_signs.dtype) @ self.z_signs

    def forward(self, inputs: torch.Tensor, choices: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.expectations(inputs, choices))
