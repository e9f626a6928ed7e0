"""The ``qas`` command line: a thin Typer layer over the Python API.

Every command calls one library function and prints either a rich, human summary or, with ``--json``, exactly one
JSON object on stdout. Exit codes: 0 ok, 1 a search missed its goal, 2 bad input (one ``error: ...`` line on stderr,
no traceback).

Other packages add commands through the ``qas.cli`` entry-point group: each entry is a ``register(app)`` callable that
adds commands to the Typer app. Their commands follow the same conventions: raise a :class:`~qas.errors.QasError` for
bad input, ``raise typer.Exit(1)`` when a search fails, and print JSON with :func:`print_json`. Heavy libraries
(Cirq, torch) are imported inside the commands so that ``qas --help`` stays fast.
"""

from __future__ import annotations

import json
import math
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

import qas
from qas.circuit import Circuit, load_circuit, op
from qas.compile import BUILT_IN_METHODS, DEFAULT_TOLERANCE
from qas.devices import DEVICES, load_device
from qas.draw import save, to_text
from qas.errors import QasError
from qas.evaluate import evaluate as evaluate_circuit
from qas.export import FORMATS, to_device
from qas.export import export as export_text
from qas.gate_sets import GATE_SETS
from qas.gates import GATES
from qas.plugins import plugins
from qas.targets import parse_task

app = typer.Typer(
    name="qas",
    help="Search for quantum circuits: evaluate, compile, export and draw them; train and run search agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the summary.")]
DeviceOption = Annotated[
    str | None, typer.Option("--device", "-d", help="Built-in device name (see `qas info`) or a .json/.yaml file.")
]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


# ----- helpers shared with plugin commands ---------------------------------------------------------------------------


def print_json(data: dict[str, Any]) -> None:
    """Print ``data`` as one JSON object (numpy scalars and arrays become numbers and lists)."""

    def default(value: Any) -> Any:
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, Path):
            return str(value)
        raise TypeError(f"cannot write {type(value).__name__} as JSON")

    print(json.dumps(data, default=default))


def _metrics_table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    for key, value in rows.items():
        shown = f"{value:.6g}" if isinstance(value, float) and math.isfinite(value) else str(value)
        table.add_row(key, shown)
    return table


# ----- commands ------------------------------------------------------------------------------------------------------


@app.command()
def info(as_json: JsonOption = False) -> None:
    """List gates, gate sets, devices, compile methods, registered environments and CLI plugins."""
    data = {
        "gates": {
            g.name: {"qubits": g.num_qubits, "params": g.num_params, "description": g.description}
            for g in GATES.values()
        },
        "gate_sets": {
            name: {"gates": [str(c) for c in gs.choices], "connectivity": gs.connectivity}
            for name, gs in GATE_SETS.items()
        },
        "devices": {
            d.name: {"qubits": d.n_qubits, "gates": list(d.gates), "description": d.description}
            for d in DEVICES.values()
        },
        "compile_methods": ["auto", *BUILT_IN_METHODS, *_plugin_names("qas.compilers")],
        "environments": _registered_environments(),
        "cli_plugins": _plugin_names("qas.cli"),
    }
    if as_json:
        print_json(data)
        return
    gates = Table("gate", "qubits", "params", "description", title="Gates", title_justify="left")
    for name, g in data["gates"].items():
        gates.add_row(name, str(g["qubits"]), str(g["params"]), g["description"])
    sets = Table("gate set", "gates", "connectivity", title="Gate sets", title_justify="left")
    for name, gs in data["gate_sets"].items():
        sets.add_row(name, " ".join(gs["gates"]), gs["connectivity"])
    devices = Table("device", "qubits", "gates", "description", title="Devices", title_justify="left")
    for name, d in data["devices"].items():
        devices.add_row(name, str(d["qubits"]), " ".join(d["gates"]), d["description"])
    console.print(gates, sets, devices)
    console.print(f"[bold]Compile methods[/]: {', '.join(data['compile_methods'])}")
    console.print(f"[bold]Environments[/]: {', '.join(data['environments']) or '(none installed)'}")
    console.print(f"[bold]CLI plugins[/]: {', '.join(data['cli_plugins']) or '(none installed)'}")


def _plugin_names(group: str) -> list[str]:
    """Entry-point names of ``group``, without importing them (some pull in torch)."""
    return sorted(ep.name for ep in entry_points(group=group))


def _registered_environments() -> list[str]:
    """Gymnasium ids under the ``qas/`` namespace (registered on ``import qas`` by the environments package)."""
    try:
        import gymnasium
    except ImportError:
        return []
    return sorted(env_id for env_id in gymnasium.registry if env_id.startswith("qas/"))


@app.command()
def evaluate(
    file: Annotated[Path, typer.Argument(help="Circuit file: .qasm (OpenQASM 2/3) or .json (qas).")],
    task: Annotated[
        str,
        typer.Option(
            "--task", "-t", help="KIND:TARGET, e.g. state:ghz3, unitary:toffoli, ground-state:h2, state:FILE.npy."
        ),
    ],
    noise: Annotated[
        str | None, typer.Option(help="CHANNEL:P, or 1q=CHANNEL:P,2q=CHANNEL:P,readout=CHANNEL:P.")
    ] = None,
    device: DeviceOption = None,
    backend: Annotated[str, typer.Option(help="Simulator backend: auto, numpy, qsim, cirq or torch.")] = "auto",
    as_json: JsonOption = False,
) -> None:
    """Score a circuit on a task: fidelity (state, unitary) or fitted energy (ground state), plus its costs."""
    circuit = load_circuit(file)
    parsed = parse_task(task, noise=noise)
    score = evaluate_circuit(circuit, parsed, device=load_device(device) if device else None, backend=backend)
    data: dict[str, Any] = {"task": task}
    data |= {
        key: getattr(score, key) for key in ("fidelity", "energy", "energy_error") if getattr(score, key) is not None
    }
    # Ground-state scores carry the circuit with fitted angles.
    data |= {**score.metrics, "fits_device": score.fits_device, "circuit": (score.circuit or circuit).to_qasm("3.0")}
    if as_json:
        print_json(data)
        return
    console.print(_metrics_table(f"{file.name} on {task}", {k: v for k, v in data.items() if k != "circuit"}))


@app.command()
def export(
    file: Annotated[Path, typer.Argument(help="Circuit file: .qasm or .json.")],
    device: Annotated[str, typer.Option("--device", "-d", help="Built-in device name or a .json/.yaml file.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="qasm3, qasm2, cirq-json or qiskit (QPY file).")] = "qasm3",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Translate a circuit to a device's native gates, route it onto its coupling graph, verify it and write it out."""
    if fmt not in FORMATS:
        raise QasError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "qiskit" and output is None:
        raise QasError("--format qiskit writes a QPY file: give one with -o FILE.qpy")
    result = to_device(load_circuit(file), device)
    if fmt == "qiskit":
        _write_qpy(result.to_qiskit(), output)
    else:
        text = export_text(result, fmt)
        if output is not None:
            output.write_text(text)
        elif not as_json:
            print(text, end="" if text.endswith("\n") else "\n")
    if as_json:
        print_json({**result.summary(), "circuit": result.to_qasm("3.0"), "output": output})
    elif output is not None:
        console.print(_metrics_table(f"{file.name} on {result.device.name} -> {output}", result.summary()))
    if result.verified is False:
        raise typer.Exit(EXIT_FAILED)


def _write_qpy(quantum_circuit: Any, path: Path) -> None:
    from qiskit import qpy

    with path.open("wb") as handle:
        qpy.dump(quantum_circuit, handle)


@app.command()
def draw(
    file: Annotated[Path, typer.Argument(help="Circuit file: .qasm or .json.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="out.svg, out.png or out.txt; without it, print the diagram.")
    ] = None,
) -> None:
    """Draw a circuit as a text diagram, SVG or PNG."""
    circuit = load_circuit(file)
    if output is None:
        print(to_text(circuit))
    else:
        save(circuit, output)
        console.print(f"wrote {output}")


@app.command(name="compile")
def compile_command(
    target: Annotated[
        str,
        typer.Argument(
            help="Unitary: a name (toffoli, fredkin, qft3, cnot, ...), a .npy/.txt/.csv matrix, or a circuit file "
            "(.qasm, .json) to re-synthesise; or a state (state:ghz3, state:FILE.npy) or a Hamiltonian whose ground "
            "state to prepare (ground-state:h2, ground-state:FILE.json)."
        ),
    ],
    method: Annotated[
        str,
        typer.Option(
            help="auto (generators, then numerical up to 5 qubits, 6 for states, else exact), exact (analytic), "
            "numerical (fewer CNOTs: skeletons fitted numerically; exact where shorter) or a generator name."
        ),
    ] = "auto",
    gates: Annotated[
        str | None, typer.Option(help="Output gates: a preset (ibm-native, ...) or names (u3,cx); default u3,cx.")
    ] = None,
    device: DeviceOption = None,
    tolerance: Annotated[
        float | None,
        typer.Option(
            help="Largest accepted infidelity. Given, numerical synthesis trades fidelity for fewer CNOTs, down to "
            "the fewest whose fit is within it. Default: exact circuits, a generator's accepted within "
            f"{DEFAULT_TOLERANCE:g}."
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the circuit as OpenQASM 3 here.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Compile a unitary, state or Hamiltonian's ground state into a circuit; exits 1 when the best circuit misses
    the tolerance."""
    result = qas.compile(target, method=method, gates=gates, device=device, tolerance=tolerance)
    if output is not None:
        output.write_text(result.to_qasm("3.0"))
    if as_json:
        print_json(result.to_dict() | {"output": output})
    else:
        rows = {"method": result.method, "infidelity": result.infidelity, **result.energy_summary(), **result.metrics()}
        if result.export is not None:
            rows |= {"device": result.export.device.name, "verified": result.export.verified}
        console.print(_metrics_table(f"compiled {target}", rows))
        if output is None:
            print(result.to_qasm("3.0"), end="")
    if result.infidelity > (DEFAULT_TOLERANCE if tolerance is None else tolerance):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def demo(
    method: Annotated[str, typer.Option(help="Compile method for the Toffoli step (see `qas compile`).")] = "auto",
    as_json: JsonOption = False,
) -> None:
    """Build GHZ-3, evaluate it, export it to an IBM-like heavy-hex device, compile the Toffoli gate, and compile a
    circuit for H2's ground state."""
    ghz = Circuit(3, (op("h", 0), op("cx", 0, 1), op("cx", 1, 2)))
    score = qas.evaluate(ghz, parse_task("state:ghz3"))
    noisy = qas.evaluate(ghz, parse_task("state:ghz3", noise="1q=depolarize:0.001,2q=depolarize:0.01"))
    exported = qas.to_device(ghz, "ibm-heavy-hex")
    toffoli = qas.compile("toffoli", method=method, device="ibm-line")
    h2 = qas.compile("ground-state:h2")
    data = {
        "fidelity": score.fidelity,
        "noisy_fidelity": noisy.fidelity,
        **ghz.metrics(),
        "circuit": ghz.to_qasm("3.0"),
        "export": exported.summary() | {"circuit": exported.to_qasm("3.0")},
        "compile": toffoli.to_dict(),
        "ground_state": h2.to_dict(),
    }
    if as_json:
        print_json(data)
        return
    console.rule("GHZ-3")
    print(ghz)
    console.print(
        _metrics_table("evaluated on state:ghz3", {"fidelity": score.fidelity, "noisy fidelity": noisy.fidelity})
    )
    console.rule(f"exported to {exported.device.name} (verified: {exported.verified})")
    print(exported.to_qasm("3.0"), end="")
    console.rule("Toffoli compiled for ibm-line")
    tried = ", ".join(m for m, _ in toffoli.attempts) or toffoli.method
    rows = {"method": toffoli.method, "tried": tried, "infidelity": toffoli.infidelity, **toffoli.metrics()}
    console.print(_metrics_table("qas.compile", rows | {"verified on device": toffoli.export.verified}))
    console.rule("H2 ground state compiled (state preparation of the lowest eigenvector)")
    print(h2.to_qasm("3.0"), end="")
    console.print(_metrics_table("qas.compile", {**h2.energy_summary(), **h2.metrics()}))


# ----- entry point ---------------------------------------------------------------------------------------------------


def _register_plugins() -> None:
    """Add the commands of every ``qas.cli`` plugin to ``app`` (once per process)."""
    global _plugins_registered
    if _plugins_registered:
        return
    _plugins_registered = True
    for name, register in plugins("qas.cli").items():
        try:
            register(app)
        except Exception as err:  # a broken plugin must not take the whole CLI down
            print(f"warning: CLI plugin {name!r} failed to register: {err}", file=sys.stderr)


_plugins_registered = False


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the ``qas`` console script exits with it)."""
    import yaml

    args = sys.argv[1:] if argv is None else list(argv)
    # Plugins are loaded only when the command may be theirs (or for the help listing): some import torch.
    builtin = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback is not None}
    if not args or args[0] not in builtin:
        _register_plugins()
    try:
        # Non-standalone mode hands errors to us instead of printing tracebacks; typer.Exit comes back as its code.
        code = app(args=args, prog_name="qas", standalone_mode=False)
    except typer.Abort as err:  # typer raises it for an EOFError (Ctrl-C comes back as exit code 130)
        print(f"error: input ended early: {str(err.__cause__ or '') or 'end of file'}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except typer.TyperException as err:  # usage errors: unknown option, missing argument, bad value
        ctx = getattr(err, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        print(f"error: {err.format_message()}{hint}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError as err:  # numpy: "Unable to allocate 728. TiB for an array with shape (99999999999999,) ..."
        print(_out_of_memory(str(err)), file=sys.stderr)
        return EXIT_BAD_INPUT
    except RuntimeError as err:
        # torch's allocators raise RuntimeError (OutOfMemoryError on a GPU); anything else is a bug to show whole.
        if type(err).__name__ != "OutOfMemoryError" and "can't allocate memory" not in str(err):
            raise
        print(_out_of_memory(str(err).split("can't allocate memory: ")[-1]), file=sys.stderr)
        return EXIT_BAD_INPUT
    except (QasError, OSError, yaml.YAMLError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        if isinstance(err, OSError) and err.filename is not None:  # "[Errno 2] ..." reads as a crash
            message = f"cannot open '{err.filename}': {err.strerror}"
        print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return code if isinstance(code, int) else EXIT_OK


def _out_of_memory(detail: str) -> str:
    """The one line for a request too large for this machine (a Python MemoryError may carry no message)."""
    return "error: out of memory" + (f": {detail.splitlines()[0]}" if detail.strip() else " (the request is too large)")
