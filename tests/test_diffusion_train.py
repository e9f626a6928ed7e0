"""Training the diffusion denoiser: a tiny run lowers the loss, checkpoints load, and a stopped run resumes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qas.cli import main
from qas.errors import ConfigError, InputFileError
from qas.generators.diffusion.dataset import DatasetConfig, generate
from qas.generators.diffusion.model import load_weights
from qas.generators.diffusion.train import TrainConfig, train
from qas.runs import MetricsLog

torch.set_num_threads(1)

TINY = {"d_model": 32, "layers": 1, "heads": 2, "batch_size": 64, "lr": 3e-3, "warmup_steps": 10, "log_every": 10}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("data")
    generate(DatasetConfig(gates=("h", "cx", "rz"), size=4000, seed=0, max_gates=6), path)
    return str(path)


def test_tiny_training_run_lowers_both_losses(dataset, tmp_path) -> None:
    result = train(TrainConfig(dataset=dataset, steps=300, **TINY), tmp_path, log=lambda _: None)
    assert result["step"] == 300
    rows = MetricsLog(tmp_path / "progress.csv").rows()
    tokens = [float(r["token_loss"]) for r in rows]
    angles = [float(r["angle_loss"]) for r in rows]
    assert np.mean(tokens[-3:]) < 0.8 * tokens[0]
    assert np.mean(angles[-3:]) < 0.8 * angles[0]
    model, meta = load_weights(tmp_path)
    assert meta["gates"] == ["h", "cx", "rz"] and meta["trained_steps"] == 300
    assert model.config.max_steps == 6 and not model.training


def test_a_batch_larger_than_the_dataset_is_refused(dataset, tmp_path) -> None:
    # No batch would ever be full: training looped forever without a step.
    settings = {**TINY, "batch_size": 100_000}
    with pytest.raises(ConfigError, match=r"batch_size 100000 exceeds the dataset's \d+ circuits"):
        train(TrainConfig(dataset=dataset, steps=2, **settings), tmp_path, log=lambda _: None)


def test_the_cli_refuses_it_without_leaving_an_empty_run_folder(dataset, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train-generator", "--dataset", dataset, "--set", "batch_size=100000"]) == 2
    assert "exceeds the dataset's" in capsys.readouterr().err
    assert not any((tmp_path / "runs" / "generator").iterdir())


def test_stopped_run_resumes_where_it_left_off(dataset, tmp_path) -> None:
    train(TrainConfig(dataset=dataset, steps=20, checkpoint_every=10, **TINY), tmp_path, log=lambda _: None)
    messages: list[str] = []
    result = train(TrainConfig(dataset=dataset, steps=30, **TINY), tmp_path, log=messages.append)
    assert messages[0].startswith("resumed") and "step 20" in messages[0]
    assert result["step"] == 30
    assert [r["step"] for r in MetricsLog(tmp_path / "progress.csv").rows()] == ["10", "20", "30"]


def test_bad_training_settings_raise() -> None:
    with pytest.raises(ConfigError, match="unknown train-generator setting"):
        TrainConfig.from_dict({"dataset": "x", "learning_rate": 1})
    with pytest.raises(ConfigError, match="needs a dataset"):
        TrainConfig.from_dict({})
    with pytest.raises(ConfigError, match="divisible"):
        TrainConfig.from_dict({"dataset": "x", "d_model": 30, "heads": 4})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lr": float("nan")}, "lr must be a finite number, got nan"),
        ({"lr": "abc"}, "lr must be a number, got 'abc'"),
        ({"steps": 2.5}, "steps must be an integer, got 2.5"),
        ({"batch_size": 0, "steps": 0}, "batch_size, steps must be at least 1"),
        ({"ema_decay": 1.0}, "cfg_drop and full_gate_set_prob must be in [0, 1], ema_decay in [0, 1)"),
    ],
)
def test_bad_setting_values_are_named(settings: dict, message: str) -> None:
    # Each of these failed later with a traceback (torch's "Invalid learning rate", range() with step 0) or, for
    # steps 0, wrote untrained weights.
    with pytest.raises(ConfigError) as raised:
        TrainConfig.from_dict({"dataset": "x", **settings})
    assert str(raised.value) == message


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_cuda_device_without_cuda_is_refused_up_front() -> None:
    with pytest.raises(ConfigError, match=r"^device 'cuda' was asked for, but torch sees no CUDA device here$"):
        TrainConfig.from_dict({"dataset": "x", "device": "cuda"})


def test_damaged_weights_or_trainer_state_are_one_error_naming_the_file(dataset, tmp_path) -> None:
    train(TrainConfig(dataset=dataset, steps=10, checkpoint_every=10, **TINY), tmp_path, log=lambda _: None)
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(InputFileError, match=r"model\.safetensors: Error while deserializing header"):
        load_weights(tmp_path)
    (tmp_path / "trainer_state.pt").write_bytes(b"")
    with pytest.raises(InputFileError, match=r"trainer_state\.pt: Ran out of input"):
        train(TrainConfig(dataset=dataset, steps=20, **TINY), tmp_path, log=lambda _: None)
    torch.save({"model": {}}, tmp_path / "trainer_state.pt")  # a torch file, but not this trainer's state
    with pytest.raises(InputFileError, match=r"trainer_state\.pt: Error\(s\) in loading state_dict for Denoiser"):
        train(TrainConfig(dataset=dataset, steps=20, **TINY), tmp_path, log=lambda _: None)
