"""Fewer CNOTs in u3/cx output: the removal search's settings here, and qas.compile's rewrite of Toffoli answers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import qas
from qas import numerical_synthesis
from qas.circuit import Circuit, op
from qas.generators.diffusion import resynthesis
from qas.generators.diffusion.resynthesis import fewer_cnots
from qas.linalg import unitary_fidelity
from qas.translate import translate

torch.set_num_threads(1)

# The Peres gate: a Toffoli, then a CNOT on its controls. Nielsen & Chuang's 6-CNOT Toffoli ends with
# cx(0, 1) (t (x) tdg) cx(0, 1), so the extra CNOT cancels one: 5 CNOTs suffice, where the discrete answer (ccx + cx)
# translated gate by gate costs 7.
PERES = Circuit(3, (op("ccx", 0, 1, 2), op("cx", 0, 1)))


def test_fewer_cnots_shortens_the_peres_gate() -> None:
    target = PERES.unitary()
    assert translate(PERES, ("u3", "cx")).cnot_count == 7
    shorter = fewer_cnots(target, PERES)
    assert shorter is not None and shorter.cnot_count <= 5
    assert 1 - unitary_fidelity(target, shorter.unitary()) < 1e-9


def test_the_search_bound_counts_fitted_rows_not_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[int] = []
    fit_skeletons = numerical_synthesis.fit_skeletons

    def counting_fit(target: np.ndarray, skeletons: list, **kwargs: Any) -> tuple[np.ndarray, list[Circuit]]:
        rows.append(len(skeletons) * kwargs["restarts"])
        return fit_skeletons(target, skeletons, **kwargs)

    monkeypatch.setattr(numerical_synthesis, "fit_skeletons", counting_fit)
    monkeypatch.setattr(resynthesis, "MAX_ROWS", 10)
    # One round, however fast the machine: Peres' 7-CNOT skeleton has 5 distinct removals, fitted from 2 starts; the
    # next (6 removals of the 6-CNOT skeleton found) would pass the bound.
    shorter = fewer_cnots(PERES.unitary(), PERES)
    assert rows == [10] and shorter is not None and shorter.cnot_count == 6


@pytest.mark.parametrize(
    ("target", "most"),
    [(PERES, 5), (Circuit(3, (op("h", 0), op("ccx", 0, 1, 2), op("cx", 0, 1), op("x", 2))), 5)],
)
def test_compile_to_u3_cx_rewrites_toffoli_answers_with_fewer_cnots(target: Circuit, most: int) -> None:
    result = qas.compile(target.unitary(), method="diffusion", gates=("u3", "cx"), seed=0)
    assert result.infidelity < 1e-6
    assert {o.gate for o in result.circuit} <= {"u3", "cx"} and result.circuit.cnot_count <= most


def test_compile_keeps_the_toffoli_when_the_gate_set_has_it() -> None:
    discrete = qas.compile(PERES.unitary(), method="diffusion", gates="h,cx,z,x,ccx,swap", seed=0)
    assert discrete.infidelity < 1e-9 and any(o.gate == "ccx" for o in discrete.circuit)


def test_a_fresh_qas_compile_process_writes_the_peres_gate_with_five_cnots(tmp_path) -> None:
    # In a new process: the rewrite's former wall-clock bound also counted Cirq's first import (~2.5 s), which left a
    # fresh `qas compile` with 6-7 CNOTs where a warm process found 5.
    np.save(tmp_path / "peres.npy", PERES.unitary())
    qas_cli = Path(sys.executable).with_name("qas")
    out = subprocess.run([qas_cli, "compile", tmp_path / "peres.npy", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["method"] == "diffusion" and result["infidelity"] < 1e-9 and result["cnot_count"] == 5
