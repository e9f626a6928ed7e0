"""The two noise processes of the multimodal diffusion: absorbing (masking) for gates, Gaussian for angles.

Gates: masked (absorbing-state) discrete diffusion, as in MDLM/MaskGIT, over placement tokens. At time ``t`` in
[0, 1] each step of the circuit is independently replaced by a ``MASK`` token with probability ``t``; the model
predicts the original placement of every masked step. genQC instead runs Gaussian diffusion on fixed token
embeddings (reference notes, section 5). Masking fits a discrete structure better (reference notes, section 12.3):

- every intermediate state is a partial circuit, so inpainting is exact: given steps are simply never masked;
- allowed gates and coupled qubit pairs are exact masks on the logits, not hopes;
- a sample needs at most ``max_steps`` denoiser calls (one revealed step each), and fewer with several per call.

Angles: variance-preserving Gaussian diffusion with the cosine schedule (alpha_bar = cos^2(pi t / 2)) on the point
(cos a, sin a) of each angle, so that -pi and pi are the same point; the model predicts the clean point (x0) and
sampling runs deterministic DDIM steps. Its time is drawn independently of the gates' time for half of the training
batches (genQC permutes them in 95%), so the model learns both modalities conditioned on any noise level of the other.
"""

from __future__ import annotations

import math

import torch


def alpha_bar(t: torch.Tensor) -> torch.Tensor:
    """Signal fraction of the angle process at time ``t`` (cosine schedule, clipped away from exactly 0)."""
    return torch.cos(0.5 * math.pi * t).pow(2).clamp(min=1e-5, max=1.0)


def mask_tokens(
    placements: torch.Tensor, t: torch.Tensor, mask_id: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask each step with probability ``t`` (per circuit). Returns (noisy tokens, boolean mask of masked steps)."""
    masked = torch.rand(placements.shape, generator=generator, device=placements.device) < t[:, None]
    return torch.where(masked, torch.full_like(placements, mask_id), placements), masked


def angle_points(angles: torch.Tensor) -> torch.Tensor:
    """Angles ``(..., P)`` -> points ``(..., 2P)`` on the unit circles (cos first, then sin)."""
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


def point_angles(points: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`angle_points` (any radius)."""
    half = points.shape[-1] // 2
    return torch.atan2(points[..., half:], points[..., :half])


def noise_angles(
    x0: torch.Tensor, t: torch.Tensor, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``x_t = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) eps`` for ``x0`` of shape ``(B, ...)``; returns (x_t, eps)."""
    eps = torch.randn(x0.shape, generator=generator, device=x0.device)
    a = alpha_bar(t).reshape(-1, *([1] * (x0.ndim - 1)))
    return a.sqrt() * x0 + (1 - a).sqrt() * eps, eps


def ddim_step(x_t: torch.Tensor, x0_hat: torch.Tensor, t: float, s: float) -> torch.Tensor:
    """One deterministic DDIM step of the angle process from time ``t`` to ``s < t`` given the predicted x0."""
    a_t, a_s = alpha_bar(torch.tensor(t)), alpha_bar(torch.tensor(s))
    eps_hat = (x_t - a_t.sqrt() * x0_hat) / (1 - a_t).sqrt().clamp_min(1e-4)
    return a_s.sqrt() * x0_hat + (1 - a_s).sqrt() * eps_hat


def reveal_counts(num_masked: int, steps: int) -> list[int]:
    """How many positions to reveal at each of ``steps`` sampling steps (cosine: few at first, more later)."""
    remaining = [round(num_masked * math.cos(0.5 * math.pi * (k + 1) / steps)) for k in range(steps)]
    counts, before = [], num_masked
    for r in remaining:
        counts.append(before - r)
        before = r
    return counts
