"""The denoiser: one transformer over the circuit's steps, the target unitary's rows and a condition token.

Inputs, as one sequence of ``1 + 2^n + T`` tokens with full self-attention (tiny for 3-5 qubits):

- the *condition token*: a plain vector of the allowed gates (multi-hot), the qubit count (one-hot) and the two
  diffusion times (sinusoidal), through an MLP. No text encoder and nothing to download (genQC uses frozen CLIP);
- *unitary tokens*: row ``i`` of the phase-fixed target unitary (real and imaginary parts) through a linear map, plus
  a learned row embedding. For classifier-free guidance they are replaced by one learned "no unitary" vector;
- *step tokens*: the (possibly masked) placement of step ``t``, its noisy angle points and a step embedding.

Outputs, from the step tokens: logits over placements (the gate process) and the predicted clean angle points (the
angle process). The condition vector is also added to every step token, which trains faster than attention alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from qas.errors import InputFileError
from qas.runs import atomic_write, reading, write_json
from qas.sim.torch_backend import torch_device


@dataclass(frozen=True)
class DenoiserConfig:
    """Sizes of the denoiser; written next to the weights so a checkpoint rebuilds its own model."""

    num_placements: int  # placement classes including padding (the mask token is one more)
    num_gates: int
    n_qubits: int
    max_steps: int
    max_params: int
    d_model: int = 128
    layers: int = 4
    heads: int = 4
    ff_mult: int = 4

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def mask_id(self) -> int:
        return self.num_placements

    @property
    def condition_size(self) -> int:
        return self.num_gates + self.n_qubits


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features ``(B, dim)`` of times ``t`` in [0, 1]."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device) / half)
    angles = 1000.0 * t[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class Denoiser(nn.Module):
    """Predicts placement logits ``(B, T, num_placements)`` and clean angle points ``(B, T, 2 max_params)``."""

    def __init__(self, config: DenoiserConfig) -> None:
        super().__init__()
        self.config = config
        d, dim = config.d_model, 2**config.n_qubits
        self.angle_width = 2 * config.max_params
        self.token_embed = nn.Embedding(config.num_placements + 1, d)  # + the mask token
        self.step_embed = nn.Parameter(torch.randn(config.max_steps, d) * 0.02)
        self.angle_in = nn.Linear(self.angle_width, d) if self.angle_width else None
        self.row_in = nn.Linear(2 * dim, d)
        self.row_embed = nn.Parameter(torch.randn(dim, d) * 0.02)
        self.null_unitary = nn.Parameter(torch.randn(dim, d) * 0.02)
        self.condition = nn.Sequential(nn.Linear(config.condition_size + 2 * d, d), nn.GELU(), nn.Linear(d, d))
        layer = nn.TransformerEncoderLayer(
            d, config.heads, config.ff_mult * d, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.transformer = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.token_out = nn.Linear(d, config.num_placements)
        self.angle_out = nn.Linear(d, self.angle_width) if self.angle_width else None

    def forward(
        self,
        tokens: torch.Tensor,
        angle_points: torch.Tensor,
        t_tokens: torch.Tensor,
        t_angles: torch.Tensor,
        condition: torch.Tensor,
        unitary: torch.Tensor,
        drop_unitary: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """
        Args:
            tokens: ``(B, T)`` placement indices, ``mask_id`` where masked.
            angle_points: ``(B, T, 2 max_params)`` noisy angle points.
            t_tokens, t_angles: ``(B,)`` times of the two processes in [0, 1].
            condition: ``(B, num_gates + n_qubits)`` allowed gates (multi-hot) and qubit count (one-hot).
            unitary: ``(B, 2, d, d)`` real and imaginary parts of the phase-fixed target.
            drop_unitary: ``(B,)`` bool, True where the unitary is withheld (classifier-free guidance).
        """
        batch, d = tokens.shape[0], self.config.d_model
        cond = self.condition(torch.cat([condition, time_embedding(t_tokens, d), time_embedding(t_angles, d)], dim=-1))
        rows = self.row_in(torch.cat([unitary[:, 0], unitary[:, 1]], dim=-1)) + self.row_embed
        if drop_unitary is not None:
            rows = torch.where(drop_unitary[:, None, None], self.null_unitary.expand(batch, -1, -1), rows)
        steps = self.token_embed(tokens) + self.step_embed + cond[:, None, :]
        if self.angle_in is not None:
            steps = steps + self.angle_in(angle_points)
        x = self.transformer(torch.cat([cond[:, None, :], rows, steps], dim=1))
        h = self.norm(x[:, -tokens.shape[1] :])
        angles = self.angle_out(h) if self.angle_out is not None else h.new_zeros(*h.shape[:2], 0)
        return self.token_out(h), angles


def save_weights(model: Denoiser, ema: dict[str, torch.Tensor] | None, directory: Path, meta: dict) -> None:
    """Write ``model.safetensors`` (the EMA weights when given: they sample better) and ``model.json`` atomically."""
    state = ema if ema is not None else model.state_dict()
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    atomic_write(directory / "model.safetensors", lambda p: save_file(tensors, str(p)))
    write_json(directory / "model.json", {"denoiser": model.config.to_dict(), **meta})


def load_weights(directory: str | Path, device: str | torch.device = "cpu") -> tuple[Denoiser, dict]:
    """A denoiser (in eval mode) and its metadata from a folder holding ``model.safetensors`` and ``model.json``."""
    device = torch_device(device)
    directory = Path(directory)
    if not (directory / "model.json").is_file():
        raise InputFileError(f"{directory} holds no generator weights (model.json is missing)")
    with reading(directory / "model.json"):
        meta = json.loads((directory / "model.json").read_text())
        model = Denoiser(DenoiserConfig(**meta["denoiser"]))
    with reading(directory / "model.safetensors", also=(SafetensorError,)):
        model.load_state_dict(load_file(str(directory / "model.safetensors"), device=str(device)))
    return model.to(device).eval(), meta
