import numpy as np
import pytest

from qas import Circuit, op
from qas.encoding import CircuitEncoding
from qas.errors import InvalidCircuitError, QasError


def test_round_trip_keeps_qubit_order_of_asymmetric_gates() -> None:
    enc = CircuitEncoding(("h", "cx", "ccx", "cswap", "rz", "swap", "cp"), 4, 10)
    c = Circuit(
        4,
        (
            op("cx", 3, 1),
            op("ccx", 2, 0, 1),
            op("cswap", 3, 2, 0),
            op("rz", 1, params=[0.25]),
            op("swap", 2, 1),
            op("cp", 3, 0, params=[-1.5]),
        ),
    )
    e = enc.encode(c)
    assert e.tokens[:, 0].tolist() == [0, 2, 0, -2]
    assert e.tokens[:, 1].tolist() == [-3, 3, -3, 0]
    assert np.all(e.tokens[:, len(c) :] == enc.pad_token)
    back = enc.decode(e)
    # Symmetric gates come back with sorted qubits, which is the same unitary.
    np.testing.assert_allclose(back.unitary(), c.unitary(), atol=1e-6)
    assert back.operations[0] == op("cx", 3, 1)
    assert back.operations[2] == op("cswap", 3, 0, 2)


def test_onehot_marks_roles_and_ignores_padding() -> None:
    enc = CircuitEncoding(("h", "cx"), 2, 4)
    oh = enc.onehot(enc.encode(Circuit(2, (op("h", 0), op("cx", 0, 1)))))
    assert oh.shape == (2, 4, 2)
    assert oh[0, 0].tolist() == [1, 0] and oh[0, 1].tolist() == [0, -1] and oh[1, 1].tolist() == [0, 1]
    assert not oh[:, 2:].any()


def test_invalid_inputs() -> None:
    enc = CircuitEncoding(("h", "cx"), 2, 2)
    with pytest.raises(InvalidCircuitError, match="not in the encoding"):
        enc.encode(Circuit(2, (op("x", 0),)))
    with pytest.raises(InvalidCircuitError, match="holds 2"):
        enc.encode(Circuit(2, (op("h", 0),) * 3))
    bad = enc.encode(Circuit(2, (op("h", 0), op("h", 1))))
    bad.tokens[:, 0] = [2, 2]  # two targets, no control: not a cx
    with pytest.raises(InvalidCircuitError, match="column 0"):
        enc.decode(bad)
    assert enc.decode(bad, strict=False) == Circuit(2, (op("h", 1),))
    with pytest.raises(QasError, match="duplicate"):
        CircuitEncoding(("h", "h"), 2, 2)
