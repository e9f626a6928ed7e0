"""Target devices as plain data: a native gate set and a coupling graph.

Built-in devices model the three hardware families users target: IBM-like (``rz, sx, x, cx`` on a line or the
27-qubit heavy-hex lattice of IBM's Falcon processors), Google-like (``phased_xz, cz`` on a square grid) and
trapped-ion-like (``rx, ry, rz, cz``, all to all). A user device comes from a JSON or YAML file::

    name: my-chip
    gates: [rz, sx, x, cx]
    edges: [[0, 1], [1, 2], [2, 3]]
    n_qubits: 4          # optional: defaults to the largest qubit in ``edges`` + 1

Edges are undirected: a two-qubit gate may act on an edge in either direction.
"""

from __future__ import annotations

import difflib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qas.errors import UnknownDeviceError, UnknownGateError
from qas.files import read_text_file
from qas.gates import get_gate

if TYPE_CHECKING:
    import networkx as nx

    from qas.circuit import Circuit

# Qubit pairs of IBM's 27-qubit Falcon r4 heavy-hex lattice (ibmq_montreal and its siblings).
_FALCON_27_EDGES = (
    (0, 1), (1, 2), (1, 4), (2, 3), (3, 5), (4, 7), (5, 8), (6, 7), (7, 10), (8, 9), (8, 11), (10, 12), (11, 14),
    (12, 13), (12, 15), (13, 14), (14, 16), (15, 18), (16, 19), (17, 18), (18, 21), (19, 20), (19, 22), (21, 23),
    (22, 25), (23, 24), (24, 25), (25, 26),
)  # fmt: skip


@dataclass(frozen=True)
class Device:
    """A device: qubits ``0 .. n_qubits-1``, the gates it runs natively, and the qubit pairs it couples.

    Attributes:
        name: the name ``load_device`` and the CLI know it by.
        gates: native registry gate names.
        edges: coupled qubit pairs (undirected), each as ``(a, b)`` with ``a < b``.
        n_qubits: number of physical qubits.
        description: one line for ``qas info``.
    """

    name: str
    gates: tuple[str, ...]
    edges: tuple[tuple[int, int], ...] = field(repr=False)
    n_qubits: int
    description: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.n_qubits, bool) or not isinstance(self.n_qubits, int) or self.n_qubits < 1:
            raise UnknownDeviceError(
                f"device {self.name!r}: n_qubits must be a positive integer, got {self.n_qubits!r}"
            )
        for g in self.gates:
            get_gate(g)
        edges = tuple(sorted({(min(a, b), max(a, b)) for a, b in self.edges}))
        bad = [e for e in edges if e[0] == e[1] or e[0] < 0 or e[1] >= self.n_qubits]
        if bad:
            raise UnknownDeviceError(f"device {self.name!r}: edge {list(bad[0])} is not a pair of its qubits")
        object.__setattr__(self, "edges", edges)

    @property
    def graph(self) -> nx.Graph:
        """The coupling graph: every qubit a node (integers), every coupled pair an edge."""
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(self.n_qubits))
        graph.add_edges_from(self.edges)
        return graph

    def fits(self, circuit: Circuit) -> bool:
        """Whether ``circuit`` runs as it is: native gates only, and every multi-qubit gate on coupled qubits."""
        if circuit.n_qubits > self.n_qubits:
            return False
        coupled = set(self.edges)
        return all(
            o.gate in self.gates
            and all((min(a, b), max(a, b)) in coupled for a, b in itertools.combinations(o.qubits, 2))
            for o in circuit.operations
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "gates": list(self.gates),
            "edges": [list(e) for e in self.edges],
            "n_qubits": self.n_qubits,
        }


def _line(n: int) -> tuple[tuple[int, int], ...]:
    return tuple((i, i + 1) for i in range(n - 1))


def _grid(rows: int, cols: int) -> tuple[tuple[int, int], ...]:
    """Nearest-neighbour pairs of a rows x cols grid, qubits numbered row by row."""
    right = [(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)]
    down = [(r * cols + c, (r + 1) * cols + c) for r in range(rows - 1) for c in range(cols)]
    return tuple(right + down)


DEVICES: dict[str, Device] = {
    d.name: d
    for d in [
        Device("ibm-line", ("rz", "sx", "x", "cx"), _line(7), 7, "IBM-like 7-qubit line, rz/sx/x/cx"),
        Device(
            "ibm-heavy-hex", ("rz", "sx", "x", "cx"), _FALCON_27_EDGES, 27, "IBM Falcon 27-qubit heavy-hex, rz/sx/x/cx"
        ),
        Device("google-grid", ("phased_xz", "cz"), _grid(4, 4), 16, "Google-like 4x4 grid, phased_xz/cz"),
        Device(
            "ion-all-to-all",
            ("rx", "ry", "rz", "cz"),
            tuple(itertools.combinations(range(8), 2)),
            8,
            "trapped-ion-like 8 qubits, all to all, rx/ry/rz/cz",
        ),
    ]
}


def load_device(spec: str | Path | Device) -> Device:
    """A built-in device by name, or a device read from a JSON/YAML file (see the module docstring)."""
    if isinstance(spec, Device):
        return spec
    if str(spec) in DEVICES:
        return DEVICES[str(spec)]
    path = Path(spec)
    if path.suffix.lower() not in (".json", ".yaml", ".yml"):
        close = difflib.get_close_matches(str(spec), DEVICES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownDeviceError(
            f"unknown device {str(spec)!r}.{hint} Built-in devices: {', '.join(DEVICES)}; or give a .json/.yaml file"
        )
    return _device_from_text(read_text_file(path, "device"), path)


def _device_from_text(text: str, path: Path) -> Device:
    import yaml

    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise UnknownDeviceError(f"device file {path.name!r} is not valid {path.suffix[1:].upper()}: {err}") from None
    if not isinstance(data, dict) or "gates" not in data or "edges" not in data:
        raise UnknownDeviceError(f"device file {path.name!r} needs the keys 'gates' and 'edges'")
    try:
        edges = tuple((int(a), int(b)) for a, b in data["edges"])
        gates = tuple(str(g) for g in data["gates"])
        n_qubits = int(data.get("n_qubits", 1 + max((max(e) for e in edges), default=0)))
        return Device(str(data.get("name", path.stem)), gates, edges, n_qubits, str(data.get("description", "")))
    except UnknownGateError as err:
        raise UnknownDeviceError(f"device file {path.name!r}: {err}") from None
    except UnknownDeviceError:
        raise
    except (TypeError, ValueError) as err:
        raise UnknownDeviceError(
            f"device file {path.name!r}: 'edges' must be pairs of qubit indices and 'n_qubits' an integer ({err})"
        ) from None
