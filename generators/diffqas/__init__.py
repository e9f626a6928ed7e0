"""DiffQAS: differentiable quantum architecture search with a softmax-weighted supernet.

References: Zhang et al., "Differentiable Quantum Architecture Search" (DQAS, 2020); Chen, "Differentiable Quantum
Architecture Search in Asynchronous Quantum Reinforcement Learning" (DiffQAS-QRL, 2024).
"""

from importlib import import_module
from typing import Any

# Names resolve on first use (PEP 562) so that importing the CLI module of this package, which every `qas` command
# line does to list its commands, does not pay torch's ~2 s import.
_EXPORTS = {
    "DiffQAS": "search",
    "DiffQASConfig": "search",
    "DiffQASResult": "search",
    "SearchHistory": "search",
    "BLOCKS": "space",
    "Candidate": "space",
    "GateTemplate": "space",
    "SearchSpace": "space",
    "Supernet": "supernet",
    "PolicySearchConfig": "policy_search",
    "search_policy": "policy_search",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
