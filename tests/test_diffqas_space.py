"""DiffQAS search spaces: candidate expansion, YAML loading and clear errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from qas.circuit import Circuit, op
from qas.errors import ConfigError, QasError, UnknownGateError
from qas.generators.diffqas import BLOCKS, SearchSpace
from qas.generators.diffqas.space import make_candidate


def test_dqas_pool_has_the_papers_eight_choices_per_layer() -> None:
    space = SearchSpace.dqas(2, 3)
    assert len(space.positions) == 3
    assert [c.name for c in space.positions[0]] == ["rx0", "rx1", "ry0", "ry1", "rz0", "rz1", "cx01", "cx10"]
    assert space.size == 8**3


def test_candidates_expand_to_operations_with_weights_inputs_and_constants() -> None:
    cand = make_candidate("blk", 3, {"blk": ["h 0", "ry 1 theta", "rz 2 x1", "rx 0 0.5", "cx 0 2"]})
    assert cand.num_weights == 1 and cand.num_inputs == 2
    ops = cand.operations([0.3], inputs=[9.0, -1.25])
    assert ops == [
        op("h", 0),
        op("ry", 1, params=[0.3]),
        op("rz", 2, params=[-1.25]),
        op("rx", 0, params=[0.5]),
        op("cx", 0, 2),
    ]


def test_blocks_act_on_every_qubit() -> None:
    assert [str(g) for g in BLOCKS["cnot_ring"](3)] == ["cx 0 1", "cx 1 2", "cx 2 0"]
    assert len(BLOCKS["cz_all"](4)) == 6
    assert [str(g) for g in BLOCKS["enc_h_ry"](2)] == ["h 0", "ry 0 x0", "h 1", "ry 1 x1"]
    assert make_candidate("none", 4).gates == ()


def test_layered_space_circuit_of_a_choice() -> None:
    space = SearchSpace.layered(3, layers=2)
    assert [len(p) for p in space.positions] == [4, 4, 4, 4]
    choice = [1, 0, 3, 2]  # ry, cnot_ladder, rot, cz_all
    weights = [[0.1, 0.2, 0.3], [], [0.0] * 9, []]
    circuit = space.circuit(choice, weights)
    assert space.names(choice) == ["ry", "cnot_ladder", "rot", "cz_all"]
    assert space.choice_of(["ry", "cnot_ladder", "rot", "cz_all"]) == choice
    assert circuit.metrics()["cnot_count"] == 2 and circuit.gate_count == 3 + 2 + 9 + 3
    assert circuit.operations[0] == op("ry", 0, params=[0.1])


def test_yaml_file_with_prefix_layers_and_custom_candidates(tmp_path: Path) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(
        "n_qubits: 2\nprefix: [[enc_ry]]\nlayers: 2\nlayer:\n  - [ry, mine]\n  - [cx01, none]\n"
        "custom:\n  mine: ['rz 0 theta', 'cz 0 1']\n"
    )
    space = SearchSpace.load(path)
    layer = [["ry", "mine"], ["cx01", "none"]]
    assert [[c.name for c in p] for p in space.positions] == [["enc_ry"], *layer, *layer]
    assert space.num_inputs == 2
    assert len(SearchSpace.load(path, layers=3).positions) == 7  # --layers overrides the file
    # The enc_ry prefix breaks the repetition: the only period is the whole space.
    assert space.period == 5 and SearchSpace.layered(4, 3, encoding=True).period == 3
    assert SearchSpace.dqas(2, 3).period == 1  # three identical positions


def test_fixed_space_circuit_matches_hand_built_circuit() -> None:
    space = SearchSpace.dqas(2, 3)
    circuit = space.circuit([2, 6, 2], [[math.pi / 2], [], [0.0]])
    expected = Circuit(2, (op("ry", 0, params=[math.pi / 2]), op("cx", 0, 1), op("ry", 0, params=[0.0])))
    assert circuit == expected
    np.testing.assert_allclose(np.abs(circuit.final_state()) ** 2, [0.5, 0, 0, 0.5], atol=1e-12)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"n_qubits": 2, "layer": [["ry0", "rx9"]]}, "qubit 9 is out of range"),
        ({"n_qubits": 2, "layer": [["cnot_ladr"]]}, "Did you mean 'cnot_ladder'"),
        ({"n_qubits": 2, "layer": [[]]}, "non-empty list"),
        ({"n_qubits": 0, "layer": [["ry"]]}, "n_qubits"),
        ({"n_qubits": 2, "layer": [["ry"]], "layers": 0}, "layers must be a positive integer"),
        ({"n_qubits": 2, "layers": 2}, "needs positions or layer"),
        ({"n_qubits": 2, "layer": [["ry"]], "extra": 1}, "unknown search-space key"),
        ({"n_qubits": 2, "layer": [["b"]], "custom": {"b": ["ry 0 phi"]}}, "'phi' is not 'theta'"),
        ({"n_qubits": 2, "layer": [["b"]], "custom": {"b": ["cx 0"]}}, "needs 2 qubit(s)"),
        ({"n_qubits": 2, "layer": [["ry", "ry"]]}, "lists a candidate twice"),
        ({"n_qubits": 2, "positions": [["ry"]], "layers": 3}, "a space given as positions lists every position"),
        ({"n_qubits": True, "layer": [["ry"]]}, "n_qubits, a positive integer; got True"),
        ({"n_qubits": 2, "layer": [["ry"]], "layers": True}, "layers must be a positive integer, got True"),
    ],
)
def test_bad_spaces_raise_config_errors_naming_the_problem(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SearchSpace.from_dict(data)


def test_unknown_gate_in_custom_candidate() -> None:
    with pytest.raises(UnknownGateError, match="'rq'"):
        SearchSpace.from_dict({"n_qubits": 1, "layer": [["b"]], "custom": {"b": ["rq 0 theta"]}})


def test_wrong_choice_is_rejected() -> None:
    with pytest.raises(QasError, match="does not pick one candidate"):
        SearchSpace.dqas(2, 3).circuit([0, 8, 0], [[0.0], [], [0.0]])


def test_explicit_layout_round_trips_every_space() -> None:
    for space in [SearchSpace.dqas(3, 2), SearchSpace.layered(4, 2, encoding=True)]:
        assert SearchSpace.from_dict(space.to_dict()) == space


def test_choice_of_names_an_unknown_candidate_and_a_wrong_length() -> None:
    space = SearchSpace.layered(3, layers=1)
    with pytest.raises(QasError, match="position 1 has no candidate 'cnot_spiral'"):
        space.choice_of(["ry", "cnot_spiral"])
    with pytest.raises(QasError, match="does not name one candidate at each of 2 positions"):
        space.choice_of(["ry"])
