import os

import pytest

from qas.errors import ConfigError, InputFileError
from qas.runs import MetricsLog, apply_overrides, atomic_write_text, load_config, new_run_dir, save_line_plot


def test_run_dirs_count_up(tmp_path) -> None:
    a = new_run_dir("dqn", "qas/StatePreparation-v0", root=tmp_path)
    b = new_run_dir("dqn", "qas/StatePreparation-v0", root=tmp_path)
    assert a.name == "qas-StatePreparation-v0_1" and b.name == "qas-StatePreparation-v0_2"


def test_atomic_write_leaves_no_temporaries(tmp_path) -> None:
    p = atomic_write_text(tmp_path / "x" / "config.yaml", "a: 1\n")
    assert p.read_text() == "a: 1\n"
    assert [f.name for f in p.parent.iterdir()] == ["config.yaml"]
    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask


def test_overrides_parse_yaml_values_and_nest() -> None:
    cfg = apply_overrides({"lr": 0.1, "net": {"arch": [8]}}, ["lr=1e-3", "net.arch=[64, 64]", "gamma=0.99"])
    assert cfg == {"lr": 1e-3, "net": {"arch": [64, 64]}, "gamma": 0.99}
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides({}, ["lr"])
    with pytest.raises(ConfigError, match="not a section"):
        apply_overrides({"lr": 1}, ["lr.x=2"])


def test_load_config_errors(tmp_path) -> None:
    with pytest.raises(InputFileError, match=r"config file .*missing.yaml does not exist"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(InputFileError, match=r"cannot read config file .*: Is a directory"):
        load_config(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(bad)


def test_metrics_log_resumes_with_same_columns(tmp_path) -> None:
    log = MetricsLog(tmp_path / "progress.csv")
    log.append({"step": 1, "fidelity": 0.5})
    MetricsLog(tmp_path / "progress.csv").append({"step": 2, "fidelity": 0.9, "extra": 1})
    assert log.rows() == [{"step": "1", "fidelity": "0.5"}, {"step": "2", "fidelity": "0.9"}]


def test_line_plot_is_a_png(tmp_path) -> None:
    p = save_line_plot(tmp_path / "curve.png", {"f": ([0, 1, 2], [0.1, 0.5, 0.9])}, "step", "fidelity")
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
