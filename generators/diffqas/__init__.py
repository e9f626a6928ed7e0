"""DiffQAS: differentiable quantum architecture search with a softmax-weighted supernet.

References: Zhang et al., "Differentiable Quantum Architecture Search" (DQAS, 2020); Chen, "Differentiable Quantum
Architecture Search in Asynchronous Quantum Reinforcement Learning" (DiffQAS-QRL, 2024).
"""

from qas.generators.diffqas.search import DiffQAS, DiffQASConfig, DiffQASResult, SearchHistory
from qas.generators.diffqas.space import BLOCKS, Candidate, GateTemplate, SearchSpace
from qas.generators.diffqas.supernet import Supernet

__all__ = [
    "BLOCKS",
    "Candidate",
    "DiffQAS",
    "DiffQASConfig",
    "DiffQASResult",
    "GateTemplate",
    "SearchHistory",
    "SearchSpace",
    "Supernet",
]
