"""qas: search for quantum circuits.

The core (this package) holds the circuit model, simulators, the shared evaluator, hardware export, the CLI and the
Python API. Environments (``qas.envs``), agents (``qas.agents``) and generators (``qas.generators``) build on it.
"""

from qas.circuit import Circuit, Operation, op

# qas.compile names the function: this import rebinds the attribute that the submodule import set. Neither module
# imports Cirq at import time.
from qas.compile import CompileResult, compile
from qas.devices import Device, load_device
from qas.errors import QasError

# Imported eagerly (it loads neither cirq nor torch) so that the names qas.evaluate and qas.evaluate_many are the
# functions, not the module.
from qas.evaluate import Score, evaluate, evaluate_many
from qas.export import ExportResult, to_device
from qas.gate_sets import GATE_SETS, GateChoice, GateSet, get_gate_set
from qas.gates import GATES, GateSpec, get_gate
from qas.noise import NoiseModel
from qas.pauli import PauliSum
from qas.plugins import run_registrations as _run_registrations
from qas.targets import parse_task
from qas.tasks import GroundState, StatePreparation, Task, UnitarySynthesis

__all__ = [
    "GATES",
    "GATE_SETS",
    "Circuit",
    "CompileResult",
    "Device",
    "ExportResult",
    "GateChoice",
    "GateSet",
    "GateSpec",
    "GroundState",
    "NoiseModel",
    "Operation",
    "PauliSum",
    "QasError",
    "Score",
    "StatePreparation",
    "Task",
    "UnitarySynthesis",
    "compile",
    "evaluate",
    "evaluate_many",
    "get_gate",
    "get_gate_set",
    "load_device",
    "op",
    "parse_task",
    "to_device",
]

# Installed capability packages register themselves here (the environments' Gymnasium ids, for instance).
_run_registrations()
