"""``qas tune``: Optuna studies in a file storage, and two worker processes sharing one PostgreSQL study."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

import qas  # noqa: F401  (registers the environments)
from qas.agents.tune import tune
from qas.errors import QasError

BELL = {"target": "bell", "preset": "kuo"}


def test_tune_runs_trials_and_a_second_call_continues_the_same_study(tmp_path) -> None:
    storage = f"sqlite:///{tmp_path}/tune.db"
    kwargs = {"env_kwargs": BELL, "trials": 1, "timesteps": 300, "storage": storage, "n_evaluations": 2, "seed": 0}
    tune("dqn", "qas/StatePreparation-v0", root=tmp_path, **kwargs)
    study = tune("dqn", "qas/StatePreparation-v0", root=tmp_path, **kwargs)
    assert len(study.trials) == 2  # load_if_exists: the second call added to the first call's study
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(finished) == 2
    assert all(Path(t.user_attrs["run_dir"]).is_dir() for t in finished)
    assert {"learning_rate", "gamma", "net_arch"} <= set(study.trials[0].params)
    assert study.best_value <= 0.98  # the best possible Kuo return on Bell: F - 0.01 after two gates, undiscounted


def test_trials_are_scored_on_the_environment_they_train_on(tmp_path, monkeypatch) -> None:
    """The hyperparameter file's env_kwargs (Kuo's preset) apply to the scoring environment, not only to training."""
    import gymnasium as gym

    made: list[dict] = []
    make = gym.make
    monkeypatch.setattr(gym, "make", lambda env_id, **kwargs: made.append(kwargs) or make(env_id, **kwargs))
    tune("dqn", "qas/StatePreparation-v0", env_kwargs={"target": "bell"}, trials=1, timesteps=300, root=tmp_path)
    assert made and all(kwargs == BELL for kwargs in made)


def test_a_bad_environment_value_is_refused_before_the_study(tmp_path) -> None:
    storage = f"sqlite:///{tmp_path}/tune.db"
    with pytest.raises(QasError, match="unknown state target 'nope'"):  # was a failed trial, logged with a traceback
        tune("dqn", "qas/StatePreparation-v0", env_kwargs={"target": "nope"}, storage=storage, root=tmp_path)
    assert not (tmp_path / "tune.db").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on loopback (Debian's binaries; initdb runs as the postgres user)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg not installed (pip install 'qas[postgres]')")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start initdb as another user")
    pg = Path(bins[-1])
    base = Path(tempfile.mkdtemp(prefix="qas-pg-"))
    if as_postgres:
        shutil.chown(base, "postgres")
    port = _free_port()
    data, log = base / "data", base / "log"
    subprocess.run(
        [*as_postgres, pg / "initdb", "-D", data, "-U", "postgres", "--auth=trust"], check=True, capture_output=True
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base}"
    start = [*as_postgres, pg / "pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start"]
    subprocess.run(start, check=True, capture_output=True)
    try:
        subprocess.run(
            [pg / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "optunatest"], check=True
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/optunatest"  # the README's form, no driver named
    finally:
        subprocess.run([*as_postgres, pg / "pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_two_worker_processes_share_one_postgresql_study(postgres_url, tmp_path) -> None:
    qas_cli = Path(sys.executable).parent / "qas"
    argv = [qas_cli, "tune", "--agent", "dqn", "--env-kwargs", "target=bell", "--trials", "2", "--timesteps", "200"]
    argv += ["--n-evaluations", "1", "--storage", postgres_url, "--study-name", "shared", "--runs-dir", tmp_path]
    workers = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    assert len(study.trials) == 4
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    # Both workers wrote runs: trial numbers 0..3 were handed out once each across the two processes.
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]
    assert len(list((tmp_path / "tune" / "shared" / "dqn").iterdir())) == 4
