"""OpenQASM 2.0 and 3.0 export and import for :class:`qas.Circuit`.

A small reader and writer of our own rather than Cirq's: ``cirq.contrib.qasm_import`` needs ``ply`` and maps every
gate to a Cirq gate first, so reading back ``p``, ``cp`` or ``u3`` would not give the same registry gates, and Cirq's
writer rewrites the Google-native gates into long qelib1 sequences. Here every registry gate is written under its own
name, with a ``gate`` definition in the header for the few that the standard include files lack, and read back as
the same gate, so ``from_qasm(to_qasm(c)) == c`` (angles to float precision).

The reader covers the unitary subset of both versions: ``qreg``/``qubit`` registers (several are numbered in order)
and hardware qubits ``$i``, gate calls on qubits or whole registers, ``gate`` definitions (expanded), parameter
expressions with ``pi``, and the standard-library gates of qelib1.inc (Qiskit's extended one included) and
stdgates.inc. Barriers, classical declarations and final measurements are skipped; a gate on a qubit after its
measurement, and anything else (``reset``, control flow, gate modifiers), raises :class:`QasmError` naming the line:
dropping a mid-circuit measurement would change what the circuit does.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from qas.circuit import Circuit, Operation
from qas.errors import QasmError
from qas.gates import GATES

_VERSIONS = ("2.0", "3.0")

# Registry gates whose name differs in OpenQASM 2's qelib1.inc (which predates p, cp).
_QASM2_NAMES = {"i": "id", "p": "u1", "cp": "cu1"}
_QASM3_NAMES = {"i": "id"}

# Definitions for registry gates missing from the standard include files, written with standard gates. Where noted
# they are equal up to a global phase, which OpenQASM gates do not carry; the reader maps these names straight back.
_DEFINITIONS = {
    # sqrt(X) = e^{i pi/4} rx(pi/2): Qiskit's qelib1 definition.
    "sx": "gate sx a { sdg a; h a; sdg a; }",
    "swap": "gate swap a, b { cx a, b; cx b, a; cx a, b; }",
    "cswap": "gate cswap a, b, c { cx c, b; ccx a, b, c; cx c, b; }",
    # sqrt(iSWAP) = exp(i pi/8 (XX + YY)) = rxx(-pi/4) ryy(-pi/4), each a basis-changed rzz.
    "sqrt_iswap": (
        "gate sqrt_iswap a, b { h a; h b; cx a, b; rz(-pi/4) b; cx a, b; h a; h b; "
        "rx(pi/2) a; rx(pi/2) b; cx a, b; rz(-pi/4) b; cx a, b; rx(-pi/2) a; rx(-pi/2) b; }"
    ),
    # ECR = rzx(-pi/4) . X(a) . rzx(pi/4), as Qiskit defines it; exact.
    "ecr": "gate ecr a, b { h b; cx a, b; rz(pi/4) b; cx a, b; h b; x a; h b; cx a, b; rz(-pi/4) b; cx a, b; h b; }",
    # PhasedXZ(x, z, a) = Z^z Z^a X^x Z^-a in half turns; up to a global phase.
    "phased_xz": "gate phased_xz(x, z, a) q { rz(-pi*a) q; rx(pi*x) q; rz(pi*(a+z)) q; }",
}
_NEEDS_DEFINITION = {"2.0": set(_DEFINITIONS), "3.0": {"sqrt_iswap", "ecr", "phased_xz"}}

# Standard-library gates that are not registry gates, defined exactly (phase included) in registry gates: those of
# stdgates.inc and qelib1.inc, and the extensions in Qiskit's qelib1.inc, which Qiskit's QASM 2 writer uses without a
# definition (rccx, c3sqrtx). rccx and rc3x are Qiskit's relative-phase Toffolis, whose phases are part of the gate.
# The multi-controlled ones are Barenco et al.'s (1995) lemma 7.5: C^n P(l) = CP(l/2) C^(n-1)X CP(-l/2) C^(n-1)X
# C^(n-1)P(l/2), with X = H P(pi) H and sqrt(X) = H P(pi/2) H.
_STANDARD_LIBRARY = """
gate u2(phi, lam) q { u3(pi/2, phi, lam) q; }
gate u(theta, phi, lam) q { u3(theta, phi, lam) q; }
gate sxdg a { phased_xz(-0.5, 0, 0) a; }
gate cy a, b { sdg b; cx a, b; s b; }
gate ch a, b { ry(pi/4) b; cx a, b; ry(-pi/4) b; }
gate crz(lam) a, b { rz(lam/2) b; cx a, b; rz(-lam/2) b; cx a, b; }
gate cry(theta) a, b { ry(theta/2) b; cx a, b; ry(-theta/2) b; cx a, b; }
gate crx(theta) a, b { h b; crz(theta) a, b; h b; }
gate rzz(theta) a, b { cx a, b; rz(theta) b; cx a, b; }
gate rxx(theta) a, b { h a; h b; rzz(theta) a, b; h a; h b; }
gate cu3(theta, phi, lam) c, t { p((lam+phi)/2) c; p((lam-phi)/2) t; cx c, t; u3(-theta/2, 0, -(phi+lam)/2) t; cx c, t; u3(theta/2, phi, 0) t; }
gate cu(theta, phi, lam, gamma) c, t { p(gamma) c; cu3(theta, phi, lam) c, t; }
gate csx a, b { h b; cp(pi/2) a, b; h b; }
gate u0(gamma) q { id q; }
gate rccx a, b, c { h c; t c; cx b, c; tdg c; cx a, c; t c; cx b, c; tdg c; h c; }
gate rc3x a, b, c, d { h d; t d; cx c, d; tdg d; h d; cx a, d; t d; cx b, d; tdg d; cx a, d; t d; cx b, d; tdg d; h d; t d; cx c, d; tdg d; h d; }
gate c3x a, b, c, d { h d; cp(pi/2) c, d; ccx a, b, c; cp(-pi/2) c, d; ccx a, b, c; cp(pi/4) b, d; cx a, b; cp(-pi/4) b, d; cx a, b; cp(pi/4) a, d; h d; }
gate c3sqrtx a, b, c, d { h d; cp(pi/4) c, d; ccx a, b, c; cp(-pi/4) c, d; ccx a, b, c; cp(pi/8) b, d; cx a, b; cp(-pi/8) b, d; cx a, b; cp(pi/8) a, d; h d; }
gate c4x a, b, c, d, e { h e; cp(pi/2) d, e; c3x a, b, c, d; cp(-pi/2) d, e; c3x a, b, c, d; h e; c3sqrtx a, b, c, e; }
"""  # noqa: E501

# Names the reader maps directly to registry gates, beyond the registry's own names.
_ALIASES = {"id": "i", "U": "u3", "CX": "cx", "u1": "p", "phase": "p", "cu1": "cp", "cphase": "cp"}

_SKIPPED = ("creg", "bit", "barrier", "include", "gphase")
_INCLUDES = ('"qelib1.inc"', '"stdgates.inc"')


def to_qasm(circuit: Circuit, version: str = "3.0") -> str:
    """OpenQASM text of ``circuit`` in ``version`` ``"2.0"`` or ``"3.0"`` (one register ``q``, no measurements)."""
    if version not in _VERSIONS:
        raise QasmError(f"unsupported OpenQASM version {version!r}; use one of {', '.join(_VERSIONS)}")
    names = _QASM2_NAMES if version == "2.0" else _QASM3_NAMES
    used = dict.fromkeys(o.gate for o in circuit.operations)
    lines = [f"OPENQASM {version};", 'include "qelib1.inc";' if version == "2.0" else 'include "stdgates.inc";']
    lines += [_DEFINITIONS[g] for g in used if g in _NEEDS_DEFINITION[version]]
    lines.append(f"qreg q[{circuit.n_qubits}];" if version == "2.0" else f"qubit[{circuit.n_qubits}] q;")
    for o in circuit.operations:
        params = f"({', '.join(format_angle(p) for p in o.params)})" if o.params else ""
        lines.append(f"{names.get(o.gate, o.gate)}{params} {', '.join(f'q[{q}]' for q in o.qubits)};")
    return "\n".join(lines) + "\n"


# How far an angle may be from a multiple of pi to be written as one.
_PI_MULTIPLE_ATOL = 1e-14


def format_angle(value: float, digits: int | None = None) -> str:
    """``pi/4``-style text for simple multiples of pi, else the number (full precision, or ``digits`` significant).

    Multiples of pi (zero included) within 1e-14 are written as such: synthesis leaves rounding residue such as
    ``2.22e-16`` where it means 0, and the text stays exact to that tolerance while staying readable.
    """
    if abs(value) < _PI_MULTIPLE_ATOL:
        return "0"
    ratio = Fraction(value / math.pi).limit_denominator(64)
    if ratio != 0 and abs(float(ratio) * math.pi - value) < _PI_MULTIPLE_ATOL:
        num = {1: "", -1: "-"}.get(ratio.numerator, f"{ratio.numerator}*")
        return f"{num}pi" + (f"/{ratio.denominator}" if ratio.denominator != 1 else "")
    return repr(value) if digits is None else f"{value:.{digits}g}"


# ----- reading -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GateDefinition:
    params: tuple[str, ...]
    qubits: tuple[str, ...]
    body: tuple[tuple[str, int], ...]  # (statement, line) pairs


@dataclass(frozen=True)
class _Call:
    name: str
    args: tuple[str, ...]  # parameter expressions
    operands: tuple[str, ...]  # qubit arguments as written


_CALL = re.compile(r"^([A-Za-z_][\w]*)\s*(?:\((.*)\))?\s*(.*)$", re.DOTALL)


def from_qasm(text: str) -> Circuit:
    """Parse OpenQASM 2.0 or 3.0 text into a :class:`qas.Circuit`.

    Raises:
        QasmError: on malformed text or an unsupported construct, naming the line.
    """
    if not isinstance(text, str):
        raise QasmError(f"OpenQASM input must be text, got {type(text).__name__}")
    reader = _Reader()
    for statement, line in _statements(_STANDARD_LIBRARY):
        reader.statement(statement, line, library=True)
    statements = _statements(text)
    if not statements:
        raise QasmError("empty OpenQASM program")
    for statement, line in statements:
        reader.statement(statement, line)
    return reader.circuit()


class _Reader:
    """Holds the registers and gate definitions seen so far and collects the operations."""

    def __init__(self) -> None:
        self.registers: dict[str, tuple[int, int]] = {}  # name -> (offset, size)
        self.n_qubits = 0
        self.hardware_qubits = False
        self.definitions: dict[str, _GateDefinition] = {}
        self.user_defined: set[str] = set()
        self.operations: list[Operation] = []
        self.measured: set[int] = set()

    def circuit(self) -> Circuit:
        if self.n_qubits == 0:
            raise QasmError("the program declares no qubits")
        return Circuit(self.n_qubits, tuple(self.operations))

    def statement(self, statement: str, line: int, library: bool = False) -> None:
        def fail(problem: str) -> QasmError:
            return QasmError(f"line {line}: {problem} in {statement!r}")

        head, _, rest = statement.partition(" ")
        if head == "OPENQASM":
            if rest.strip() not in ("2.0", "3.0", "3"):
                raise fail(f"unsupported OpenQASM version {rest.strip()!r}")
        elif head == "include":
            if rest.strip() not in _INCLUDES:
                raise fail("only qelib1.inc and stdgates.inc can be included")
        elif head == "gate":
            self._define(statement, fail, user=not library)
        elif head in ("qreg", "qubit") or statement.startswith("qubit["):
            self._declare(statement, fail)
        elif re.search(r"\bmeasure\b", statement):
            # measure q[0] -> c[0] (version 2); c[0] = measure q[0], bit c = measure q, measure q[0] (version 3)
            operand = statement.split("measure", 1)[1].split("->")[0].strip()
            self.measured.update(self._resolve_operand(operand, fail))
        elif head in _SKIPPED or statement.startswith("bit["):
            return
        elif head == "opaque":
            raise fail("opaque gates cannot be simulated")
        elif head in ("reset", "if", "for", "while", "def", "ctrl", "inv", "pow", "negctrl") or "@" in statement:
            raise fail(f"unsupported statement {head!r} (qas reads the unitary subset of OpenQASM)")
        else:
            self._apply(statement, fail)

    def _declare(self, statement: str, fail: Callable[[str], QasmError]) -> None:
        match = re.fullmatch(r"qreg\s+(\w+)\s*\[\s*(\d+)\s*\]", statement) or re.fullmatch(
            r"qubit\s*(?:\[\s*(\d+)\s*\])?\s+(\w+)", statement
        )
        if match is None:
            raise fail("malformed qubit register declaration")
        if self.hardware_qubits:
            raise fail("qubit registers mixed with hardware qubits ($i)")
        if statement.startswith("qreg"):
            name, size = match.group(1), int(match.group(2))
        else:
            name, size = match.group(2), int(match.group(1) or 1)
        if name in self.registers:
            raise fail(f"register {name!r} declared twice")
        if size < 1:
            raise fail("a register needs at least one qubit")
        self.registers[name] = (self.n_qubits, size)
        self.n_qubits += size

    def _define(self, statement: str, fail: Callable[[str], QasmError], user: bool) -> None:
        match = re.fullmatch(r"gate\s+(\w+)\s*(?:\(([^)]*)\))?\s*([^{]*)\{(.*)\}", statement, re.DOTALL)
        if match is None:
            raise fail("malformed gate definition")
        name = match.group(1)
        if user and _registry_name(name) is not None:
            # A program that defines a standard or registry gate (as our own writer does) means that gate.
            return
        params = tuple(p.strip() for p in (match.group(2) or "").split(",") if p.strip())
        qubits = tuple(q.strip() for q in match.group(3).split(",") if q.strip())
        body = tuple((s, 0) for s, _ in _statements(match.group(4)))
        self.definitions[name] = _GateDefinition(params, qubits, body)
        if user:
            self.user_defined.add(name)

    def _apply(self, statement: str, fail: Callable[[str], QasmError]) -> None:
        call = _parse_call(statement, fail)
        if _registry_name(call.name) is None and call.name not in self.definitions:
            raise fail(f"unknown gate {call.name!r}")
        operands = [self._resolve_operand(o, fail) for o in call.operands]
        definition = self.definitions.get(call.name)
        if not operands and definition is not None and not definition.qubits:
            return  # a gate on no qubits is a global phase (Qiskit writes GlobalPhaseGate so), which qas drops
        if not operands:
            raise fail(f"gate {call.name!r} applied to no qubits")
        # A whole-register operand broadcasts the gate over the register (OpenQASM 2 semantics).
        sizes = {len(o) for o in operands if len(o) > 1}
        if len(sizes) > 1:
            raise fail("registers of different sizes in one gate call")
        width = sizes.pop() if sizes else 1
        params = tuple(_evaluate(a, {}, fail) for a in call.args)
        for i in range(width):
            qubits = tuple(o[i] if len(o) > 1 else o[0] for o in operands)
            if self.measured.intersection(qubits):
                raise fail(f"gate {call.name!r} on a measured qubit (qas reads measurements only at the end)")
            self._emit(call.name, params, qubits, fail, depth=0)

    def _resolve_operand(self, operand: str, fail: Callable[[str], QasmError]) -> list[int]:
        if re.fullmatch(r"\$\d+", operand):
            index = int(operand[1:])
            if self.registers and not self.hardware_qubits:
                raise fail("hardware qubits ($i) mixed with declared registers")
            self.hardware_qubits = True
            self.n_qubits = max(self.n_qubits, index + 1)
            return [index]
        match = re.fullmatch(r"(\w+)\s*(?:\[\s*(\d+)\s*\])?", operand)
        if match is None:
            raise fail(f"malformed qubit argument {operand!r}")
        name, index = match.group(1), match.group(2)
        if name not in self.registers:
            raise fail(f"unknown qubit register {name!r}")
        offset, size = self.registers[name]
        if index is None:
            return list(range(offset, offset + size))
        if int(index) >= size:
            raise fail(f"qubit index {index} out of range for register {name}[{size}]")
        return [offset + int(index)]

    def _emit(
        self,
        name: str,
        params: tuple[float, ...],
        qubits: tuple[int, ...],
        fail: Callable[[str], QasmError],
        depth: int,
    ) -> None:
        registry = None if name in self.user_defined else _registry_name(name)
        if registry is not None:
            spec = GATES[registry]
            if len(params) != spec.num_params or len(qubits) != spec.num_qubits:
                raise fail(
                    f"gate {name!r} takes {spec.num_params} parameter(s) and {spec.num_qubits} qubit(s), "
                    f"got {len(params)} and {len(qubits)}"
                )
            if len(set(qubits)) != len(qubits):
                raise fail(f"gate {name!r} applied to repeated qubits")
            self.operations.append(Operation(registry, qubits, params))
            return
        definition = self.definitions.get(name)
        if definition is None:
            raise fail(f"unknown gate {name!r}")
        if len(params) != len(definition.params) or len(qubits) != len(definition.qubits):
            raise fail(
                f"gate {name!r} takes {len(definition.params)} parameter(s) and {len(definition.qubits)} qubit(s), "
                f"got {len(params)} and {len(qubits)}"
            )
        if depth > 64:
            raise fail(f"gate {name!r} nests definitions too deeply")
        env = dict(zip(definition.params, params, strict=True))
        wires = dict(zip(definition.qubits, qubits, strict=True))
        for body_statement, _ in definition.body:
            call = _parse_call(body_statement, fail)
            inner = tuple(_evaluate(a, env, fail) for a in call.args)
            try:
                inner_qubits = tuple(wires[o] for o in call.operands)
            except KeyError as err:
                raise fail(f"gate {name!r} body uses undeclared qubit {err.args[0]!r}") from None
            self._emit(call.name, inner, inner_qubits, fail, depth + 1)


def _registry_name(name: str) -> str | None:
    if name in GATES:
        return name
    return _ALIASES.get(name)


def _parse_call(statement: str, fail: Callable[[str], QasmError]) -> _Call:
    match = _CALL.match(statement)
    if match is None:
        raise fail("malformed statement")
    args = _split_top_level(match.group(2)) if match.group(2) is not None else []
    operands = [o.strip() for o in match.group(3).split(",")] if match.group(3).strip() else []
    if any(not a for a in args) or any(not o for o in operands):
        raise fail("empty argument")
    return _Call(match.group(1), tuple(args), tuple(operands))


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def _statements(text: str) -> list[tuple[str, int]]:
    """Split a program into (statement, line number) pairs: ``;``-terminated, or ``gate ... { ... }`` blocks."""
    # Drop comments but keep newlines, so line numbers stay right.
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.DOTALL)
    text = re.sub(r"//[^\n]*", "", text)
    out: list[tuple[str, int]] = []
    start, line, depth = 0, 1, 0
    start_line = 1
    for i, ch in enumerate(text):
        if ch == "\n":
            line += 1
        if not text[start:i].strip():
            start_line = line
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise QasmError(f"line {line}: unmatched '}}'")
            if depth == 0:
                out.append((" ".join(text[start : i + 1].split()), start_line))
                start = i + 1
        elif ch == ";" and depth == 0:
            out.append((" ".join(text[start:i].split()), start_line))
            start = i + 1
    if depth != 0:
        raise QasmError(f"line {start_line}: unterminated '{{' block")
    rest = text[start:].strip()
    if rest:
        raise QasmError(f"line {start_line}: missing ';' after {rest!r}")
    return [(s, n) for s, n in out if s]


_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "exp": math.exp,
    "ln": math.log,
    "sqrt": math.sqrt,
}
_CONSTANTS = {"pi": math.pi, "π": math.pi, "tau": math.tau, "τ": math.tau, "euler": math.e, "ℇ": math.e}


def _evaluate(expression: str, env: dict[str, float], fail: Callable[[str], QasmError]) -> float:
    """Evaluate a parameter expression (numbers, pi, gate parameters, + - * / ^ **, and sin/cos/... calls)."""
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except SyntaxError:
        raise fail(f"malformed parameter expression {expression!r}") from None

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name) and (node.id in env or node.id in _CONSTANTS):
            return env.get(node.id, _CONSTANTS.get(node.id, 0.0))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = value(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
            if len(node.args) != 1:
                raise fail(f"{node.func.id} takes one argument")
            return _FUNCTIONS[node.func.id](value(node.args[0]))
        raise fail(f"unsupported parameter expression {expression!r}")

    try:
        result = value(tree.body)
    except (ZeroDivisionError, OverflowError, ValueError) as err:
        if isinstance(err, QasmError):
            raise
        raise fail(f"cannot evaluate {expression!r}: {err}") from None
    if not math.isfinite(result):
        raise fail(f"parameter {expression!r} is not finite")
    return result
