"""Random circuits for the simulator and evaluator tests."""

import numpy as np

from qas import GATES, Circuit, op


def random_circuit(n: int, gates: int, rng: np.random.Generator) -> Circuit:
    """A random circuit over every registered gate that fits on ``n`` qubits, with angles in [-3, 3]."""
    names = [g.name for g in GATES.values() if g.num_qubits <= n]
    ops = []
    for _ in range(gates):
        spec = GATES[str(rng.choice(names))]
        qubits = rng.choice(n, spec.num_qubits, replace=False)
        ops.append(op(spec.name, *map(int, qubits), params=rng.uniform(-3, 3, spec.num_params).tolist()))
    return Circuit(n, tuple(ops))
