"""Every exception qas raises on bad input.

All of them subclass :class:`QasError`, itself a :class:`ValueError`, so callers can catch one type. The CLI turns
any ``QasError`` into a one-line message and exit code 2.
"""

from __future__ import annotations


class QasError(ValueError):
    """Base class for errors caused by bad input to qas."""


class InvalidUnitaryError(QasError):
    """A matrix is not square, not a power of two in size, not unitary, or holds NaN/inf."""


class InvalidStateError(QasError):
    """A state vector has the wrong size, is not normalised, or holds NaN/inf."""


class InvalidHamiltonianError(QasError):
    """A Hamiltonian is malformed (bad Pauli string, wrong qubit count, complex or NaN coefficient)."""


class UnknownGateError(QasError):
    """A gate name is not in the gate registry."""


class InvalidCircuitError(QasError):
    """An operation has the wrong number of qubits or parameters, or a qubit index out of range."""


class QasmError(QasError):
    """OpenQASM text could not be parsed or uses something qas does not support."""


class UnknownDeviceError(QasError):
    """A device name or device file could not be resolved."""


class UnknownTargetError(QasError):
    """A task string such as ``state:ghz3`` names no known target."""


class ConfigError(QasError):
    """A configuration file or ``--set key=value`` override is invalid."""


class InputFileError(QasError):
    """An input file is missing, unreadable or of an unsupported type."""


class MissingDependencyError(QasError):
    """An optional dependency (an extra such as ``qas[qiskit]``) is needed and not installed."""
