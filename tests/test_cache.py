"""The SQLite evaluation cache: hits, settings-aware keys, and no finished evaluation lost to a SIGKILL."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import qas
from qas import Circuit, GroundState, PauliSum, StatePreparation, op
from qas.cache import EvaluationCache
from qas.errors import QasError
from qas.evaluate import settings_key

H2_2Q = PauliSum(2, ((-1.0524, "II"), (0.3979, "ZI"), (-0.3979, "IZ"), (-0.0113, "ZZ"), (0.1809, "XX")))


def test_hits_are_keyed_by_canonical_circuit_and_task(tmp_path: Path) -> None:
    task = StatePreparation(np.array([1, 0, 0, 1]) / np.sqrt(2))
    a = Circuit(2, (op("h", 0), op("x", 1), op("cx", 0, 1)))
    b = Circuit(2, (op("x", 1), op("h", 0), op("cx", 0, 1)))  # same canonical form as a
    with EvaluationCache(tmp_path / "cache.db") as cache:
        first = qas.evaluate(a, task, cache=cache)
        assert (cache.hits, cache.misses, len(cache)) == (0, 1, 1)
        assert qas.evaluate(b, task, cache=cache) == first
        assert cache.hits == 1
        other_task = StatePreparation(np.array([0, 1, 1, 0]) / np.sqrt(2))
        assert qas.evaluate(a, other_task, cache=cache).fidelity == pytest.approx(1.0)
        assert len(cache) == 2
    # reopened from disk, the rows are still there
    with EvaluationCache(tmp_path / "cache.db") as cache:
        assert len(cache) == 2 and cache.get(a, task) == first


def test_fit_settings_are_part_of_the_key(tmp_path: Path) -> None:
    ansatz = Circuit(2, (op("ry", 0, params=[0.0]), op("cx", 0, 1), op("ry", 1, params=[0.0])))
    task = GroundState(H2_2Q)
    with EvaluationCache(tmp_path / "cache.db") as cache:
        fitted = qas.evaluate(ansatz, task, cache=cache)
        unfitted = qas.evaluate(ansatz, task, cache=cache, fit=False)
        assert unfitted.energy != fitted.energy and len(cache) == 2
        cached = qas.evaluate_many([ansatz, ansatz], task, cache=cache, workers=1)
        assert [s.energy for s in cached] == [fitted.energy, fitted.energy] and cache.hits == 1


def test_evaluate_many_stores_every_new_score(tmp_path: Path) -> None:
    task = StatePreparation(np.array([1, 0, 0, 1]) / np.sqrt(2))
    circuits = [Circuit(2, (op("ry", 0, params=[t]), op("cx", 0, 1))) for t in np.linspace(0, 3, 7)]
    with EvaluationCache(tmp_path / "cache.db") as cache:
        first = qas.evaluate_many(circuits, task, cache=cache)
        assert len(cache) == 7
        assert qas.evaluate_many(circuits, task, cache=cache) == first and cache.hits == 7


_WORKER = textwrap.dedent(
    """
    import sys
    from qas import Circuit, GroundState, PauliSum, evaluate, op
    from qas.cache import EvaluationCache

    h = PauliSum(2, ((-1.0524, "II"), (0.3979, "ZI"), (-0.3979, "IZ"), (-0.0113, "ZZ"), (0.1809, "XX")))
    cache = EvaluationCache(sys.argv[1])
    for i in range(10_000):  # far more than can finish before the kill
        circuit = Circuit(2, (op("ry", 0, params=[0.001 * i]), op("cx", 0, 1), op("ry", 1, params=[0.0])))
        evaluate(circuit, GroundState(h), cache=cache, fit_options={"steps": 5})
        print(i, flush=True)
    """
)


def test_cache_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    proc = subprocess.Popen([sys.executable, "-c", _WORKER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        finished = -1
        deadline = time.monotonic() + 120
        while finished < 5 and time.monotonic() < deadline:
            finished = int(proc.stdout.readline())
        assert finished >= 5, "worker did not get going"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with EvaluationCache(path) as cache:
        # every evaluation the worker reported finished is there, intact and equal to a fresh one
        assert len(cache) >= finished + 1
        task = GroundState(H2_2Q)
        for i in (0, finished):
            circuit = Circuit(2, (op("ry", 0, params=[0.001 * i]), op("cx", 0, 1), op("ry", 1, params=[0.0])))
            stored = cache.get(circuit, task, settings_key(task, True, {"steps": 5}))
            assert stored is not None
            assert stored.energy == pytest.approx(qas.evaluate(circuit, task, fit_options={"steps": 5}).energy)


def test_unreadable_cache_file(tmp_path: Path) -> None:
    bad = tmp_path / "cache.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(QasError, match="cannot open evaluation cache"):
        EvaluationCache(bad)
