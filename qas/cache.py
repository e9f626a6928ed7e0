"""A persistent evaluation cache in an embedded SQLite file.

One row per (canonical circuit, task, evaluation settings) holds the :class:`~qas.evaluate.Score` as JSON. Each row is
committed on its own, in WAL mode, so a search that crashes or is killed keeps every evaluation it finished (WAL with
``synchronous=NORMAL`` loses committed transactions only on an operating-system crash or power loss, not when the
process dies). Several processes may share one file: SQLite serialises the writers.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

from qas.errors import InputFileError

if TYPE_CHECKING:
    from qas.circuit import Circuit
    from qas.evaluate import Score
    from qas.tasks import Task

_SCHEMA = """
CREATE TABLE IF NOT EXISTS evaluations (
    circuit_key TEXT NOT NULL,
    task_key TEXT NOT NULL,
    settings TEXT NOT NULL,
    score TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (circuit_key, task_key, settings)
)
"""


class EvaluationCache:
    """Scores of finished evaluations, keyed by ``circuit.key()``, ``task.key`` and the settings that change a score.

    Args:
        path: the SQLite file (created with its folder if missing); ``":memory:"`` for a throw-away cache.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # Autocommit mode (isolation_level=None): every put is its own committed transaction.
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except sqlite3.DatabaseError as err:
            raise InputFileError(f"cannot open evaluation cache {self.path}: {err}") from None
        self.hits = 0
        self.misses = 0

    def get(self, circuit: Circuit, task: Task, settings: str = "") -> Score | None:
        """The cached score, or None (counted in :attr:`hits` / :attr:`misses`)."""
        from qas.evaluate import Score

        row = self._db.execute(
            "SELECT score FROM evaluations WHERE circuit_key = ? AND task_key = ? AND settings = ?",
            (circuit.key(), task.key, settings),
        ).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return Score.from_dict(json.loads(row[0]))

    def put(self, circuit: Circuit, task: Task, score: Score, settings: str = "") -> None:
        """Store ``score`` (replacing an older one) and commit at once."""
        self._db.execute(
            "INSERT OR REPLACE INTO evaluations VALUES (?, ?, ?, ?, ?)",
            (circuit.key(), task.key, settings, json.dumps(score.to_dict()), time.time()),
        )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> EvaluationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EvaluationCache({self.path!r})"
