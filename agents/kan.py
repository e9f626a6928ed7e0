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


def uniform_spline_pieces(order: int) -> th.Tensor:
    """The polynomial pieces of B-splines of ``order`` on uniform knots: ``P`` (order + 1, order + 1) such that at
    relative position ``t`` in [0, 1) inside knot interval j, the splines ``B_{j-order} .. B_j`` are
    ``[1, t, ..., t^order] @ P``.

    Cox-de Boor's recursion on unit-spaced knots, run on polynomial coefficients: at degree r, interval spline m
    (m = 0 the leftmost) is ``((t + r - m) b_{m-1} + (m + 1 - t) b_m) / r`` of the degree r - 1 splines ``b``.
    """
    zero = th.zeros(order + 1, dtype=th.float64)
    pieces = [th.eye(order + 1, dtype=th.float64)[0]]  # degree 0: the interval's indicator, the constant 1
    for r in range(1, order + 1):
        lower = [zero, *pieces, zero]  # b_{-1} .. b_r; the two outside the interval vanish there
        pieces = []
        for m in range(r + 1):
            left, right = lower[m], lower[m + 1]
            times_t = th.cat([zero[:1], (left - right)[:-1]])  # t * (left - right)
            pieces.append(((r - m) * left + (m + 1) * right + times_t) / r)
    return th.stack(pieces, dim=1).float()


class KANLinear(nn.Module):
    """A KAN layer: ``in_features`` inputs, ``out_features`` outputs, one learnable 1-D function per edge.

    Args:
        in_features: inputs.
        out_features: outputs.
        grid_size: spline intervals on ``grid_range``.
        spline_order: B-spline order k (3 = cubic).
        grid_range: the interval the initial grid covers; :meth:`update_grid` moves it to the data. Knots are
            uniform per input (see :meth:`_padded_basis`).
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
        self.register_buffer("spline_pieces", uniform_spline_pieces(spline_order), persistent=False)
        self.base_weight = nn.Parameter(th.empty(out_features, in_features))
        self.spline_weight = nn.Parameter(th.empty(out_features, in_features, grid_size + spline_order))
        self.spline_scaler = nn.Parameter(th.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.base_weight, a=5**0.5 * scale_base)
        nn.init.kaiming_uniform_(self.spline_scaler, a=5**0.5 * scale_spline)
        with th.no_grad():
            noise = (th.rand(grid_size + 1, in_features, out_features) - 0.5) * scale_noise / grid_size
            self.spline_weight.copy_(self._curve_to_coefficients(self.grid.T[spline_order:-spline_order], noise))

    def b_splines(self, x: th.Tensor) -> th.Tensor:
        """The B-spline basis at ``x`` (batch, in): (batch, in, grid_size + spline_order)."""
        k = self.spline_order
        return self._padded_basis(x)[..., k + 1 : -(k + 1)]

    def _padded_basis(self, x: th.Tensor) -> th.Tensor:
        """The basis with ``k + 1`` spare columns on each side: (batch, in, grid_size + 3k + 2).

        Column ``k + 1 + i`` holds ``B_i(x)``. On a uniform grid every B-spline is a shifted copy of one piecewise
        polynomial, so the ``k + 1`` splines that are non-zero in x's knot interval are fixed polynomials of x's
        position inside it: evaluate those (one small matrix product) and scatter them into place. The spare columns
        catch the splines of that interval which the basis lacks (near and beyond the grid's ends); the spline
        weights are zero there. Cox-de Boor's recursion over all knots does ``(G + 2k) / (k + 1)`` times the work:
        on a (64, 288) batch of GHZ-3 circuit tensors this is 2x faster (2.4-2.9 ms vs 4.9-5.9 ms, the same values to
        2e-6), and a 1,500-step KAN-Q run on GHZ-3 takes 17 s instead of 33 s.
        """
        k = self.spline_order
        start, step = self.grid[:, 0], self.grid[:, 1] - self.grid[:, 0]
        position = (x - start) / step  # in knot intervals from the first knot
        interval = position.floor()
        local = th.linalg.vander(position - interval, N=k + 1) @ self.spline_pieces  # (batch, in, k + 1)
        n_intervals = self.grid.size(1) - 1
        # Interval j holds B_{j-k}..B_j, i.e. columns j + 1 ... j + k + 1. Clamping the integer (not the float)
        # also sends NaN and infinities, which convert to the most negative integer, to the spare columns.
        first = interval.long().clamp(-1, n_intervals) + 1
        index = first.unsqueeze(-1) + th.arange(k + 1, device=x.device)
        return x.new_zeros(*x.shape, n_intervals + k + 2).scatter(-1, index, local)

    def _curve_to_coefficients(self, x: th.Tensor, y: th.Tensor) -> th.Tensor:
        """Least-squares spline coefficients (out, in, G + k) whose curves pass through ``y`` (batch, in, out).

        Solved in float64 and rounded to the weights' precision: torch's float32 CPU ``lstsq`` differs between
        processes in its last bits (measured: the same seed gave spline weights summing to -0.66337630 in one process
        and -0.66337631 in another), and a KAN-Q run amplified that to success fractions of 0.05-0.7 on one seed.
        """
        basis = self.b_splines(x).transpose(0, 1).double()  # (in, batch, G + k)
        solution = th.linalg.lstsq(basis, y.transpose(0, 1).double()).solution  # (in, G + k, out)
        return solution.permute(2, 0, 1).to(y.dtype).contiguous()

    @property
    def scaled_spline_weight(self) -> th.Tensor:
        return self.spline_weight * self.spline_scaler.unsqueeze(-1)

    def forward(self, x: th.Tensor) -> th.Tensor:
        base = functional.linear(functional.silu(x), self.base_weight)
        padded_weight = functional.pad(self.scaled_spline_weight, (self.spline_order + 1,) * 2)
        spline = functional.linear(self._padded_basis(x).flatten(1), padded_weight.flatten(1))
        return base + spline

    @th.no_grad()
    def update_grid(self, x: th.Tensor, margin: float = 0.01) -> None:
        """Spread each input's knots uniformly over its range in ``x`` (batch, in), widened by ``margin``, and refit
        the splines so that each curve stays what it was on ``x``.

        Uniform knots rather than pykan's sample quantiles: the basis evaluation relies on them, and the observations
        here take few distinct values (binary circuit tensors, Pauli expectations of Clifford states), on which
        quantile knots pile up. Unlike pykan, an input that takes a single value in ``x`` keeps its grid and its
        curve: one point says nothing about where the data lies, and a refit through it would erase the curve
        everywhere else (a circuit-tensor entry that is 0 throughout the sample would forget what its 1 is worth).
        """
        varied = (x.amax(0) - x.amin(0)) > 1e-6  # (in,)
        old_output = th.einsum("bik,oik->bio", self.b_splines(x), self.scaled_spline_weight)  # (batch, in, out)
        low = x.amin(0) - margin
        step = (x.amax(0) + margin - low) / self.grid_size
        k = self.spline_order
        positions = th.arange(-k, self.grid_size + k + 1, device=x.device, dtype=x.dtype).unsqueeze(1)
        grid = positions * step + low  # (G + 2k + 1, in)
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
    """A stack of :class:`KANLinear` layers with widths ``layers`` (e.g. ``[84, 2, 12]``, the KANQAS Bell net).

    Args:
        layers: widths, inputs first.
        layer_norm: normalise each hidden layer's outputs (LayerNorm without affine parameters, as FastKAN does
            before its layers), so that they stay on the next layer's grid. Without it a hidden unit that sums
            hundreds of edges drifts off the grid within a few thousand Q-learning steps (KAN-Q on GHZ-3's 288 inputs,
            width 8: values down to -55, 72% of them off [-1, 1]), and past the grid only the SiLU base branch acts.
        output_affine: a learnable scale and bias per output (pykan's ``node_scale``/``node_bias``). Splines on
            normalised inputs reach large values only through their coefficients, which Adam moves ~lr per step;
            a scale lets the output grow multiplicatively, as an MLP's stacked weights do (KANQAS' reward is 50 F).
        layer_kwargs: :class:`KANLinear` settings shared by all layers.
    """

    def __init__(
        self,
        layers: Sequence[int],
        *,
        layer_norm: bool = False,
        output_affine: bool = False,
        **layer_kwargs: float | int | tuple[float, float],
    ) -> None:
        super().__init__()
        if len(layers) < 2 or any(int(w) < 1 for w in layers):
            raise ValueError(f"KAN widths must be at least two positive integers, got {list(layers)}")
        self.layers = nn.ModuleList(
            KANLinear(int(i), int(o), **layer_kwargs)  # type: ignore[arg-type]
            for i, o in itertools.pairwise(layers)
        )
        hidden_norm = (lambda width: nn.LayerNorm(width, elementwise_affine=False)) if layer_norm else nn.Identity
        # One module in front of each layer; the network's own inputs pass unchanged.
        self.norms = nn.ModuleList([nn.Identity(), *(hidden_norm(int(w)) for w in layers[1:-1])])
        self.output_affine = output_affine
        if output_affine:
            self.output_scale = nn.Parameter(th.ones(int(layers[-1])))
            self.output_bias = nn.Parameter(th.zeros(int(layers[-1])))

    def forward(self, x: th.Tensor) -> th.Tensor:
        for norm, layer in zip(self.norms, self.layers, strict=True):
            x = layer(norm(x))
        if self.output_affine:
            x = x * self.output_scale + self.output_bias
        return x

    @th.no_grad()
    def update_grid(self, x: th.Tensor, margin: float = 0.01) -> None:
        """Refit every layer's grid to the activations that ``x`` produces at its input."""
        for norm, layer in zip(self.norms, self.layers, strict=True):
            x = norm(x)
            layer.update_grid(x, margin=margin)
            x = layer(x)

    def regularization_loss(self, activation_weight: float = 1.0, entropy_weight: float = 1.0) -> th.Tensor:
        return sum(  # type: ignore[return-value]
            layer.regularization_loss(activation_weight, entropy_weight) for layer in self.layers
        )
