import math

import cirq
import numpy as np
import pytest

from qas import GATE_SETS, get_gate, get_gate_set, op
from qas.errors import UnknownGateError
from qas.gates import GATES


@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_matrix_matches_cirq(name: str) -> None:
    spec = GATES[name]
    params = [0.3 + 0.4 * i for i in range(spec.num_params)]
    ours = spec.matrix(*params)
    theirs = cirq.unitary(spec.cirq_gate(*params))
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    np.testing.assert_allclose(ours.conj().T @ ours, np.eye(2**spec.num_qubits), atol=1e-12)


def test_unknown_gate_suggests_close_name() -> None:
    with pytest.raises(UnknownGateError, match="Did you mean 'cx'"):
        get_gate("cxx")


def test_presets_have_published_contents() -> None:
    kuo = GATE_SETS["kuo"]
    assert [str(c) for c in kuo.choices] == ["rz(0.785398)", "x", "y", "z", "h", "cx"]
    assert kuo.qubit_tuples(2, 3) == [(0, 1), (1, 2), (2, 0)]
    assert GATE_SETS["kanqas"].qubit_tuples(2, 2) == [(0, 1), (1, 0)]
    assert kuo.choices[0].fixed_params == (math.pi / 4,)
    assert get_gate_set("h,cx,rz").gate_names == ("h", "cx", "rz")
    with pytest.raises(UnknownGateError, match="neither a gate-set preset"):
        get_gate_set("kuoo")


def test_an_operation_moves_to_other_qubits_by_list_or_dict() -> None:
    cx = op("cx", 1, 0)
    assert cx.moved([5, 7]) == op("cx", 7, 5)
    assert cx.moved({0: 3, 1: 2}) == op("cx", 2, 3)
    assert op("rz", 0, params=[0.5]).moved(range(4, 6)) == op("rz", 4, params=[0.5])
