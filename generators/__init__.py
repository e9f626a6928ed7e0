"""Circuit generators: models that propose whole circuits for a target (diffusion, DiffQAS)."""

from typing import Any


def __getattr__(name: str) -> Any:
    # Lazy, so that ``import qas.generators`` stays light (no torch) until a generator is used.
    if name == "DiffQAS":
        from qas.generators.diffqas import DiffQAS

        return DiffQAS
    raise AttributeError(f"module 'qas.generators' has no attribute {name!r}")
