"""Pictures of circuits: a text diagram (Cirq's), and SVG or PNG drawn with matplotlib.

The images come from one small matplotlib drawer rather than ``cirq.contrib.svg``: matplotlib writes both SVG and PNG
(no cairo needed to rasterise an SVG), shows every qubit including idle ones, and labels gates with their qas names
and angles as multiples of pi.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from qas.circuit import Circuit, Operation
from qas.errors import InputFileError
from qas.qasm import format_angle

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Gates drawn with control dots: gate name -> (number of controls, symbol on the target qubits).
_CONTROLLED = {"cx": (1, "target"), "ccx": (2, "target"), "cz": (1, "dot"), "cp": (1, "dot"), "cswap": (1, "swap")}


def to_text(circuit: Circuit, *, unicode: bool = True) -> str:
    """Cirq's text diagram of ``circuit`` (one line per used qubit, ``0: ───H───@───``)."""
    return circuit.to_cirq().to_text_diagram(use_unicode_characters=unicode)


def to_svg(circuit: Circuit) -> str:
    """The circuit drawn as an SVG document."""
    buffer = io.StringIO()
    _save(circuit, buffer, "svg")
    return buffer.getvalue()


def to_png(circuit: Circuit, *, dpi: int = 150) -> bytes:
    """The circuit drawn as PNG bytes."""
    buffer = io.BytesIO()
    _save(circuit, buffer, "png", dpi=dpi)
    return buffer.getvalue()


def save(circuit: Circuit, path: str | Path) -> Path:
    """Write a drawing of ``circuit`` to ``path``; the suffix (.svg, .png or .txt) picks the format."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        path.write_text(to_svg(circuit))
    elif suffix == ".png":
        path.write_bytes(to_png(circuit))
    elif suffix == ".txt":
        path.write_text(to_text(circuit) + "\n")
    else:
        raise InputFileError(f"cannot draw to {str(path)!r}: use a .svg, .png or .txt file name")
    return path


def _save(circuit: Circuit, target: io.IOBase, fmt: str, dpi: int = 150) -> None:
    # A bare Figure (not pyplot's) needs no GUI backend and is freed with its last reference.
    to_figure(circuit).savefig(target, format=fmt, dpi=dpi, bbox_inches="tight")


def _columns(circuit: Circuit) -> list[int]:
    """Column of each operation: as early as possible, where a gate occupies every wire between its extreme qubits."""
    free_at = [0] * circuit.n_qubits
    columns = []
    for o in circuit.operations:
        span = range(min(o.qubits), max(o.qubits) + 1)
        column = max(free_at[q] for q in span)
        for q in span:
            free_at[q] = column + 1
        columns.append(column)
    return columns


def _label(o: Operation) -> str:
    name = {"sdg": "S†", "tdg": "T†", "sx": "√X", "sqrt_iswap": "√iSWAP", "phased_xz": "PhXZ"}.get(o.gate, o.gate)
    name = name.upper() if len(name) <= 2 else name
    if not o.params:
        return name
    # phased_xz parameters are exponents (half turns), the others angles in radians.
    args = [f"{p:.3g}" for p in o.params] if o.gate == "phased_xz" else [format_angle(p, digits=3) for p in o.params]
    return f"{name}\n({', '.join(args)})"


def _box_width(text: str) -> float:
    """Width in wire spacings of a box holding ``text`` (about 0.08 per character at the label font size)."""
    return max(0.7, 0.08 * max(len(line) for line in text.split("\n")) + 0.2)


def to_figure(circuit: Circuit) -> Figure:
    """A matplotlib figure of the circuit: wires top (qubit 0) to bottom, gates in ASAP columns."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, Rectangle

    columns = _columns(circuit)
    labels = [_label(o) for o in circuit.operations]
    n_columns = max(columns, default=-1) + 1
    # Each column is as wide as its widest box; x holds the column centres.
    widths = [0.7] * n_columns
    for column, text in zip(columns, labels, strict=True):
        widths[column] = max(widths[column], _box_width(text))
    x_of = [sum(widths[:c]) + 0.3 * c + widths[c] / 2 for c in range(n_columns)]
    right = sum(widths) + 0.3 * n_columns + 0.2
    fig = Figure(figsize=(1.0 + 0.75 * right, 0.25 + 0.6 * circuit.n_qubits))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.9, right)
    ax.set_ylim(circuit.n_qubits - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    style = {"color": "black", "linewidth": 1.0, "zorder": 1}
    for q in range(circuit.n_qubits):
        ax.plot([-0.4, right], [q, q], **style)
        ax.text(-0.5, q, f"q{q}", ha="right", va="center", fontsize=9)

    def box(x: float, top: float, bottom: float, text: str) -> None:
        w = _box_width(text)
        ax.add_patch(Rectangle((x - w / 2, top - 0.3), w, bottom - top + 0.6, facecolor="white", edgecolor="black"))
        ax.text(x, (top + bottom) / 2, text, ha="center", va="center", fontsize=7 if "\n" in text else 9, zorder=3)

    def cross(x: float, q: int) -> None:
        ax.plot([x - 0.12, x + 0.12], [q - 0.12, q + 0.12], **style)
        ax.plot([x - 0.12, x + 0.12], [q + 0.12, q - 0.12], **style)

    def dot(x: float, q: int) -> None:
        ax.add_patch(Circle((x, q), 0.08, color="black", zorder=2))

    for o, column, text in zip(circuit.operations, columns, labels, strict=True):
        x = x_of[column]
        if len(o.qubits) > 1:
            ax.plot([x, x], [min(o.qubits), max(o.qubits)], **style)
        if o.gate in _CONTROLLED:
            n_controls, symbol = _CONTROLLED[o.gate]
            for q in o.qubits[:n_controls]:
                dot(x, q)
            for q in o.qubits[n_controls:]:
                if symbol == "target":
                    ax.add_patch(Circle((x, q), 0.18, facecolor="white", edgecolor="black", zorder=2))
                    ax.plot([x - 0.18, x + 0.18], [q, q], **{**style, "zorder": 3})
                    ax.plot([x, x], [q - 0.18, q + 0.18], **{**style, "zorder": 3})
                elif symbol == "swap":
                    cross(x, q)
                else:
                    dot(x, q)
            if o.params:
                ax.text(x + 0.1, (o.qubits[0] + o.qubits[1]) / 2, text.split("\n")[1], fontsize=7, va="center")
        elif o.gate == "swap":
            for q in o.qubits:
                cross(x, q)
        elif len(o.qubits) == 1:
            box(x, o.qubits[0], o.qubits[0], text)
        else:
            # Other multi-qubit gates: one box over their wires, the qubit order written inside.
            box(x, min(o.qubits), max(o.qubits), f"{text}\n{' '.join(map(str, o.qubits))}")
    return fig
