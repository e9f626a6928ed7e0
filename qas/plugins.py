"""The registry through which the core finds the capability packages without importing them directly.

The core never imports ``qas.envs``, ``qas.agents`` or ``qas.generators``. Each declares entry points in
``pyproject.toml`` instead, and the core loads them by group:

- ``qas.register``: a callable run once on ``import qas`` (the environments register their Gymnasium ids here);
- ``qas.cli``: a callable ``register(app: typer.Typer)`` that adds the package's CLI commands;
- ``qas.compilers``: a callable ``compile(target, **options) -> CompileResult`` named by method (``qas.compile``).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any


def plugins(group: str) -> dict[str, Callable[..., Any]]:
    """Load every entry point of ``group``: name -> loaded object."""
    return {ep.name: ep.load() for ep in entry_points(group=group)}


def run_registrations() -> None:
    """Run the ``qas.register`` hooks (called once from ``qas/__init__``)."""
    for hook in plugins("qas.register").values():
        hook()
