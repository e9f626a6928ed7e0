"""Batched Levenberg-Marquardt: the step's linear solve and a fit to a known minimum."""

from __future__ import annotations

import torch

from qas.least_squares import levenberg_marquardt, solve_positive_definite


def test_the_step_solves_positive_definite_systems_and_skips_the_rest() -> None:
    generator = torch.Generator().manual_seed(0)
    jacobian = torch.randn(3, 40, 6, generator=generator, dtype=torch.float64)
    matrices = jacobian.transpose(1, 2) @ jacobian
    matrices[2] = -torch.eye(6, dtype=torch.float64)  # not positive definite: no step for that row
    vectors = torch.randn(3, 6, generator=generator, dtype=torch.float64)
    steps = solve_positive_definite(matrices, vectors)
    assert torch.allclose(steps[:2], torch.linalg.solve(matrices[:2], vectors[:2]), atol=1e-12)
    assert torch.equal(steps[2], torch.zeros(6, dtype=torch.float64))


def test_rows_converge_to_their_own_least_squares_minimum() -> None:
    # r(x) = (x0^2 - a, x0 x1 - b): zero residual at x0 = sqrt(a), x1 = b / sqrt(a), per row.
    goals = torch.tensor([[4.0, 2.0], [9.0, -3.0]], dtype=torch.float64)

    def residuals(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r = torch.stack([x[:, 0] ** 2 - goals[:, 0], x[:, 0] * x[:, 1] - goals[:, 1]], dim=1)
        zero = torch.zeros_like(x[:, 0])
        jacobian = torch.stack([torch.stack([2 * x[:, 0], zero], dim=1), torch.stack([x[:, 1], x[:, 0]], dim=1)], dim=1)
        return r, jacobian

    x, cost = levenberg_marquardt(residuals, torch.ones(2, 2, dtype=torch.float64), iterations=100)
    assert torch.all(cost < 1e-20)
    assert torch.allclose(x, torch.tensor([[2.0, 1.0], [3.0, -1.0]], dtype=torch.float64), atol=1e-10)
