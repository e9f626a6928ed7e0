"""Training the denoiser on a dataset folder, with checkpoints in a run folder that a later call resumes.

A run folder (``runs/generator/<name>_<n>/``) holds ``config.yaml`` (the resolved :class:`TrainConfig`),
``progress.csv`` (loss per logging interval), ``model.safetensors`` + ``model.json`` (EMA weights: what sampling
loads) and ``trainer_state.pt`` (raw weights, optimiser, step, random state: what resuming loads). All are written
atomically, so a run killed at any moment resumes from its last checkpoint.

Each batch trains both modalities at once: gate steps are masked with a random rate ``t`` and angle points noised at
``t_w`` (independent of ``t`` in half of the batches); the loss is the cross-entropy on masked steps plus the squared
error of the predicted clean angle points on steps whose true gate has parameters. The gate-set condition is the set
of gates the circuit uses plus random others (all of them half of the time): every circuit is a valid example for any
superset of its gates, so the model learns to respect the condition without changing the data distribution.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional

from qas.errors import ConfigError
from qas.runs import MetricsLog, atomic_write, load_config, load_saved, reading, write_yaml
from qas.settings import check_numbers, from_mapping
from qas.sim.torch_backend import torch_device

from .dataset import CircuitDataset
from .model import Denoiser, DenoiserConfig, save_weights
from .placements import PlacementVocabulary
from .schedule import angle_points, mask_tokens, noise_angles


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of ``qas train-generator`` (defaults: a ~0.8 M-parameter model that trains on a CPU)."""

    dataset: str = ""
    d_model: int = 128
    layers: int = 4
    heads: int = 4
    batch_size: int = 256
    lr: float = 5e-4
    warmup_steps: int = 500
    steps: int = 20_000
    max_minutes: float = 0.0  # stop (with a checkpoint) after this wall time; 0 = no limit
    cfg_drop: float = 0.1  # probability of withholding the unitary (classifier-free guidance)
    full_gate_set_prob: float = 0.5
    ema_decay: float = 0.999
    log_every: int = 50
    checkpoint_every: int = 500
    device: str = "cpu"
    threads: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        check_numbers(self)
        counts = ("d_model", "layers", "heads", "batch_size", "steps", "log_every", "checkpoint_every", "threads")
        small = [name for name in counts if getattr(self, name) < 1]
        if small:
            raise ConfigError(f"{', '.join(small)} must be at least 1")
        if self.lr <= 0 or self.warmup_steps < 0 or self.max_minutes < 0:
            raise ConfigError("lr must be positive, warmup_steps and max_minutes >= 0")
        if not (0 <= self.cfg_drop <= 1 and 0 <= self.full_gate_set_prob <= 1 and 0 <= self.ema_decay < 1):
            raise ConfigError("cfg_drop and full_gate_set_prob must be in [0, 1], ema_decay in [0, 1)")
        if self.d_model % self.heads:
            raise ConfigError(f"d_model={self.d_model} must be divisible by heads={self.heads}")
        torch_device(self.device)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """From a mapping (a config file, ``--set`` overrides); unknown keys and bad values are errors."""
        config = from_mapping(cls, data, "train-generator")
        if not config.dataset:
            raise ConfigError("train-generator needs a dataset folder (--dataset, made by `qas dataset`)")
        return config


def condition_vectors(
    vocab: PlacementVocabulary,
    placements: torch.Tensor,
    full_prob: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Training conditions ``(B, num_gates + n_qubits)``: used gates plus random extras, and the qubit count."""
    num_gates = len(vocab.encoding.gates)
    gate_of = torch.as_tensor(vocab.gate_index, device=placements.device)[placements]  # (B, T), -1 for padding
    used = torch.zeros(placements.shape[0], num_gates + 1, device=placements.device)
    used.scatter_(1, gate_of + 1, 1.0)
    used = used[:, 1:]
    extra = torch.rand(used.shape, generator=generator, device=used.device) < 0.5
    full = torch.rand(used.shape[0], 1, generator=generator, device=used.device) < full_prob
    gates = torch.where(full, torch.ones_like(used), torch.maximum(used, extra.float()))
    qubits = torch.zeros(placements.shape[0], vocab.n_qubits, device=placements.device)
    qubits[:, vocab.n_qubits - 1] = 1.0
    return torch.cat([gates, qubits], dim=1)


def gate_condition(vocab: PlacementVocabulary, gates: list[str] | None, n_qubits: int) -> torch.Tensor:
    """The condition vector ``(num_gates + n_qubits,)`` for sampling with ``gates`` (None: all) on ``n_qubits``."""
    names = vocab.encoding.gates
    vec = torch.tensor([1.0 if gates is None or g in gates else 0.0 for g in names] + [0.0] * vocab.n_qubits)
    vec[len(names) + n_qubits - 1] = 1.0
    return vec


def diffusion_loss(
    model: Denoiser,
    vocab: PlacementVocabulary,
    batch: dict[str, torch.Tensor],
    config: TrainConfig,
    gen: torch.Generator,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The joint loss of one batch (see the module docstring) and its parts for logging."""
    placements, angles, unitaries = batch["placements"], batch["angles"], batch["unitaries"]
    size, device = placements.shape[0], placements.device
    t = torch.rand(size, generator=gen, device=device).clamp_min(1e-3)
    independent = torch.rand(size, generator=gen, device=device) < 0.5
    t_w = torch.where(independent, torch.rand(size, generator=gen, device=device), t)
    tokens, masked = mask_tokens(placements, t, model.config.mask_id, gen)
    x0 = angle_points(angles)
    x_t, _ = noise_angles(x0, t_w, gen)
    drop = torch.rand(size, generator=gen, device=device) < config.cfg_drop
    condition = condition_vectors(vocab, placements, config.full_gate_set_prob, gen)
    logits, x0_hat = model(tokens, x_t, t, t_w, condition, unitaries, drop)
    token_loss = functional.cross_entropy(logits[masked], placements[masked]) if masked.any() else logits.sum() * 0
    has_params = torch.as_tensor(vocab.num_params, device=device)[placements] > 0
    angle_loss = ((x0_hat - x0) ** 2).sum(-1)[has_params].mean() if has_params.any() else token_loss * 0
    return token_loss + angle_loss, {"token_loss": token_loss.item(), "angle_loss": angle_loss.item()}


def _lr_at(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 10% over ``steps``."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps))
    return config.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * progress)))


def train(config: TrainConfig, run_dir: str | Path, *, log: Any = print) -> dict[str, Any]:
    """Train (or resume, when ``run_dir`` holds ``trainer_state.pt``) until ``config.steps`` or ``max_minutes``."""
    run_dir = Path(run_dir)
    torch.set_num_threads(config.threads)
    device = torch.device(config.device)
    data = CircuitDataset.load(config.dataset)
    if config.batch_size > len(data):  # batches draw without repeats: none would ever be full, and training would hang
        raise ConfigError(
            f"batch_size {config.batch_size} exceeds the dataset's {len(data)} circuits; use --set batch_size=N"
        )
    vocab = PlacementVocabulary(data.config.encoding())
    model_config = DenoiserConfig(
        num_placements=len(vocab),
        num_gates=len(vocab.encoding.gates),
        n_qubits=vocab.n_qubits,
        max_steps=vocab.max_steps,
        max_params=vocab.max_params,
        d_model=config.d_model,
        layers=config.layers,
        heads=config.heads,
    )
    # Initial weights come from the run's seed, not from whatever the global RNG holds, so a run is reproducible.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = Denoiser(model_config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01)
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
    gen = torch.Generator(device=device).manual_seed(config.seed)
    order_gen = torch.Generator().manual_seed(config.seed + 1)
    step = 0
    state_path = run_dir / "trainer_state.pt"
    if state_path.exists():
        with reading(state_path):  # a foreign torch file loads, then lacks the keys or does not fit the model
            state = load_saved(state_path, map_location=device)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            ema, step = state["ema"], state["step"]
            gen.set_state(state["rng"].cpu() if device.type == "cpu" else state["rng"])
            order_gen.set_state(state["order_rng"])
        log(f"resumed {run_dir} at step {step}")
    write_yaml(run_dir / "config.yaml", asdict(config))
    metrics = MetricsLog(run_dir / "progress.csv")
    meta = {"gates": list(vocab.encoding.gates), "dataset": config.dataset, "dataset_size": len(data)}
    n_params = sum(p.numel() for p in model.parameters())
    log(f"denoiser: {n_params:,} parameters; dataset: {len(data):,} circuits; device {device}")

    def checkpoint() -> None:
        save_weights(model, ema, run_dir, {**meta, "trained_steps": step})
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "ema": ema,
            "step": step,
            "rng": gen.get_state(),
            "order_rng": order_gen.get_state(),
        }
        atomic_write(state_path, lambda p: torch.save(state, p))

    start, sums, count = time.monotonic(), {"loss": 0.0, "token_loss": 0.0, "angle_loss": 0.0}, 0
    batches = data.batches(config.batch_size, order_gen)
    model.train()
    while step < config.steps:
        index = next(batches)
        batch = {
            "placements": data.placements[index].to(device),
            "angles": data.angles[index].to(device),
            "unitaries": data.unitaries[index].to(device),
        }
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(step, config)
        loss, parts = diffusion_loss(model, vocab, batch, config, gen)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            decay = min(config.ema_decay, (1 + step) / (10 + step))
            for k, v in model.state_dict().items():
                ema[k].mul_(decay).add_(v.detach(), alpha=1 - decay) if v.dtype.is_floating_point else ema[k].copy_(v)
        step += 1
        sums["loss"] += loss.item()
        for k, v in parts.items():
            sums[k] += v
        count += 1
        if step % config.log_every == 0:
            row = {"step": step, **{k: round(v / count, 5) for k, v in sums.items()}}
            row["minutes"] = round((time.monotonic() - start) / 60, 2)
            metrics.append(row)
            log(f"step {step}: loss {row['loss']:.4f} (gates {row['token_loss']:.4f}, angles {row['angle_loss']:.4f})")
            sums, count = dict.fromkeys(sums, 0.0), 0
        out_of_time = config.max_minutes and time.monotonic() - start > 60 * config.max_minutes
        if step % config.checkpoint_every == 0 or out_of_time:
            checkpoint()
        if out_of_time:
            log(f"stopped after {config.max_minutes} minutes at step {step}")
            break
    checkpoint()
    return {"run_dir": str(run_dir), "step": step, "parameters": n_params}


def load_train_config(path: str | Path | None, overrides: dict[str, Any]) -> TrainConfig:
    """A :class:`TrainConfig` from an optional YAML file plus explicit settings (which win)."""
    data = load_config(path) if path else {}
    return TrainConfig.from_dict({**data, **{k: v for k, v in overrides.items() if v is not None}})
