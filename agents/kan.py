"""A compact Kolmogorov-Arnold network in torch: B-spline ``KANLinear`` layers stacked into a ``KAN``.

Each edge (i -> o) carries a learnable function ``phi(x) = w_b * silu(x) + w_s * sum_k c_k B_k(x)``: a SiLU base
branch plus a B-spline of order ``spline_order`` on a uniform grid of ``grid_size`` intervals (Liu et al. 2024,
arXiv:2404.19756). The layer computes all edges with two matrix products, one on ``silu(x)`` and one on the flattened
B-spline basis, as efficient-kan does, instead of pykan's (batch, out, in) activations.

Written here rather than imported: pykan reseeds the global RNGs in every constructor and writes files, and
efficient-kan / torchkan declare torchvision, which has no CPU wheel here (see the ecosystem notes).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch as th
from torch import nn
from torch.nn import functional


class KANLinear(nn.Module):
    """A KAN layer: ``in_features`` inputs, ``out_features`` outputs, one learnable 1-D function per edge.

    Args:
        in_features: inputs.
        out_features: outputs.
        grid_size: spline intervals on ``grid_range``.
        spline_order: B-spline order k (3 = cubic).
        grid_range: the interval the initial grid covers; :meth:`update_grid` adapts it to the data.
        scale_noise: std of the initial spline coefficients (small: the layer starts close to its base branch).
        scale_base: scale of the base weights' initialisation.
        scale_spline: scale of the per-edge spline multipliers.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        grid_size: int = 5,
        spline_order: int = 3,
        grid_range: tuple[float, float] = (-1.0, 1.0),
        scale_noise: float = 0.1,
        scale_base: float = 1.0,
        scale_spline: float = 1.0,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.grid_size, self.spline_order = grid_size, spline_order
        step = (grid_range[1] - grid_range[0]) / grid_size
        knots = th.arange(-spline_order, grid_size + spline_order + 1, dtype=th.float32) * step + grid_range[0]
        # A parameter without gradient rather than a buffer, so SB3's target-network copy (polyak_update over
        # parameters) carries grid updates across along with the coefficients fitted to them.
        self.grid = nn.Parameter(knots.expand(in_features, -1).contiguous(), requires_grad=False)  # (in, G + 2k + 1)
        self.base_weight = nn.Parameter(th.empty(out_features, in_features))
        self.spline_weight = nn.Parameter(th.empty(out_features, in_features, grid_size + spline_order))
        self.spline_scaler = nn.Parameter(th.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.base_weight, a=5**0.5 * scale_base)
        nn.init.kaiming_uniform_(self.spline_scaler, a=5**0.5 * scale_spline)
        with th.no_grad():
            noise = (th.rand(grid_size + 1, in_features, out_features) - 0.5) * scale_noise / grid_size
            self.spline_weight.copy_(self._curve_to_coefficients(self.grid.T[spline_order:-spline_order], noise))

    def b_splines(self, x: th.Tensor) -> th.Tensor:
        """The B-spline basis at ``x`` (batch, in): (batch, in, grid_size + spline_order), by Cox-de Boor."""
        grid = self.grid
        x = x.unsqueeze(-1)
        bases = ((x >= grid[:, :-1]) & (x < grid[:, 1:])).to(x.dtype)
        for k in range(1, self.spline_order + 1):
            left = (x - grid[:, : -(k + 1)]) / (grid[:, k:-1] - grid[:, : -(k + 1)]) * bases[..., :-1]
            right = (grid[:, k + 1 :] - x) / (grid[:, k + 1 :] - grid[:, 1:-k]) * bases[..., 1:]
            bases = left + right
        return bases

    def _curve_to_coefficients(self, x: th.Tensor, y: th.Tensor) -> th.Tensor:
        """Least-squares spline coefficients (out, in, G + k) whose curves pass through ``y`` (batch, in, out)."""
        basis = self.b_splines(x).transpose(0, 1)  # (in, batch, G + k)
        solution = th.linalg.lstsq(basis, y.transpose(0, 1)).solution  # (in, G + k, out)
        return solution.permute(2, 0, 1).contiguous()

    @property
    def scaled_spline_weight(self) -> th.Tensor:
        return self.spline_weight * self.spline_scaler.unsqueeze(-1)

    def forward(self, x: th.Tensor) -> th.Tensor:
        base = functional.linear(functional.silu(x), self.base_weight)
        spline = functional.linear(self.b_splines(x).flatten(1), self.scaled_spline_weight.flatten(1))
        return base + spline

    @th.no_grad()
    def update_grid(self, x: th.Tensor, margin: float = 0.01, grid_eps: float = 0.02) -> None:
        """Move the grid to the inputs' distribution (``x``: (batch, in)) and refit the splines to keep each curve.

        The new knots mix the sample quantiles (weight ``1 - grid_eps``) with a uniform grid over the data range
        (weight ``grid_eps``), as pykan's ``update_grid_from_samples`` does. Unlike pykan, an input that takes a
        single value in ``x`` keeps its grid and its curve: one point says nothing about where the data lies, and a
        refit through it would erase the curve everywhere else (a circuit-tensor entry that is 0 throughout the
        sample would forget what its 1 is worth, and a grid collapsed onto 0 would give 1 no spline at all).
        """
        batch = x.size(0)
        varied = (x.amax(0) - x.amin(0)) > 1e-6  # (in,)
        old_output = th.einsum("bik,oik->bio", self.b_splines(x), self.scaled_spline_weight)  # (batch, in, out)
        x_sorted = th.sort(x, dim=0).values
        quantiles = th.linspace(0, batch - 1, self.grid_size + 1, device=x.device).long()
        adaptive = x_sorted[quantiles]  # (G + 1, in)
        step = (x_sorted[-1] - x_sorted[0] + 2 * margin) / self.grid_size
        uniform = th.arange(self.grid_size + 1, device=x.device, dtype=x.dtype).unsqueeze(1) * step
        uniform = uniform + x_sorted[0] - margin
        inner = grid_eps * uniform + (1 - grid_eps) * adaptive
        k = self.spline_order
        offsets = th.arange(1, k + 1, device=x.device, dtype=x.dtype).unsqueeze(1) * step
        grid = th.cat([inner[:1] - offsets.flip(0), inner, inner[-1:] + offsets])  # (G + 2k + 1, in)
        self.grid.copy_(th.where(varied.unsqueeze(1), grid.T, self.grid))
        refitted = self._curve_to_coefficients(x, old_output) / self.spline_scaler.unsqueeze(-1)
        self.spline_weight.copy_(th.where(varied.unsqueeze(-1), refitted, self.spline_weight))

    def regularization_loss(self, activation_weight: float = 1.0, entropy_weight: float = 1.0) -> th.Tensor:
        """pykan's sparsity regulariser, on the spline coefficients (a proxy for the activations' L1 norms)."""
        l1 = self.spline_weight.abs().mean(-1)  # (out, in)
        total = l1.sum()
        p = l1 / total
        entropy = -th.sum(p * th.log(p + 1e-12))
        return activation_weight * total + entropy_weight * entropy


class KAN(nn.Module):
    """A stack of :class:`KANLinear` layers with widths ``layers`` (e.g. ``[84, 2, 12]``, the KANQAS Bell net)."""

    def __init__(self, layers: Sequence[int], **layer_kwargs: float | int | tuple[float, float]) -> None:
        super().__init__()
        if len(layers) < 2 or any(int(w) < 1 for w in layers):
            raise ValueError(f"KAN widths must be at least two positive integers, got {list(layers)}")
        self.layers = nn.ModuleList(
            KANLinear(int(i), int(o), **layer_kwargs)  # type: ignore[arg-type]
            for i, o in itertools.pairwise(layers)
        )

    def forward(self, x: th.Tensor) -> th.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    @th.no_grad()
    def update_grid(self, x: th.Tensor, margin: float = 0.01, grid_eps: float = 0.02) -> None:
        """Refit every layer's grid to the activations that ``x`` produces at its input."""
        for layer in self.layers:
            layer.update_grid(x, margin=margin, grid_eps=grid_eps)
            x = layer(x)

    def regularization_loss(self, activation_weight: float = 1.0, entropy_weight: float = 1.0) -> th.Tensor:
        return sum(  # type: ignore[return-value]
            layer.regularization_loss(activation_weight, entropy_weight) for layer in self.layers
        )
