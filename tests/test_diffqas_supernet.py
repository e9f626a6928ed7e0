"""The DiffQAS supernet: exact on one architecture, mixing as specified, gradients equal to finite differences."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from qas.errors import QasError
from qas.generators.diffqas import DiffQAS, SearchSpace, Supernet
from qas.generators.diffqas.objectives import objective_for
from qas.pauli import PauliSum
from qas.sim.statevector import apply_operation
from qas.tasks import GroundState, StatePreparation, UnitarySynthesis

torch.set_num_threads(1)

BELL = StatePreparation(np.array([1, 0, 0, 1]) / np.sqrt(2), name="bell")


def _random_state(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    return psi / np.linalg.norm(psi)


def test_one_architecture_supernet_is_exactly_its_circuit() -> None:
    net = Supernet(SearchSpace.layered(3, layers=2), init_std=1.0, generator=torch.Generator().manual_seed(1))
    choice = [3, 1, 1, 2]  # rot, cnot_ring, ry, cz_all
    circuit = net.circuit(choice)
    fixed = net.fixed(choice)
    np.testing.assert_allclose(fixed().detach().numpy()[0], circuit.final_state(), atol=1e-12)


def test_supernet_output_is_the_normalised_softmax_mixture() -> None:
    space = SearchSpace.from_dict({"n_qubits": 2, "layer": [["ry0", "cx01", "rx1"]]})
    net = Supernet(space, init_std=1.0, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        net.alphas[0].copy_(torch.tensor([0.2, -0.4, 1.0]))
    probs = torch.softmax(net.alphas[0], 0).detach().numpy()
    zero = np.eye(4)[0].astype(complex)
    outs = [apply_operation(zero, net.circuit([j]).operations[0], 2) for j in range(3)]
    mixed = sum(p * o for p, o in zip(probs, outs, strict=True))
    np.testing.assert_allclose(net().detach().numpy()[0], mixed / np.linalg.norm(mixed), atol=1e-12)


@pytest.mark.parametrize(
    "task",
    [
        StatePreparation(_random_state(2, 0)),
        UnitarySynthesis(np.linalg.qr(np.random.default_rng(1).normal(size=(4, 4)) + 0j)[0]),
        GroundState(PauliSum(2, ((0.5, "ZZ"), (-0.3, "XI"), (0.2, "YY"), (0.1, "IZ")))),
    ],
    ids=["state", "unitary", "ground"],
)
def test_gradient_matches_central_finite_differences(task) -> None:
    net = Supernet(SearchSpace.dqas(2, 3), init_std=0.8, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        for a in net.alphas:
            a.normal_(generator=torch.Generator().manual_seed(11))
    objective = objective_for(task)

    def loss() -> torch.Tensor:
        return objective.loss(net(initial_states=objective.initial_states))

    params = [*net.structure_parameters(), *net.circuit_parameters()]
    grads = torch.autograd.grad(loss(), params)
    h = 1e-6
    for p, g in zip(params, grads, strict=True):
        numeric = torch.zeros_like(p)
        for i in range(p.numel()):
            with torch.no_grad():
                p.view(-1)[i] += h
                up = float(loss())
                p.view(-1)[i] -= 2 * h
                down = float(loss())
                p.view(-1)[i] += h
            numeric.view(-1)[i] = (up - down) / (2 * h)
        torch.testing.assert_close(g, numeric, atol=1e-7, rtol=1e-5)


def test_encoding_candidates_read_per_sample_inputs() -> None:
    space = SearchSpace.from_dict({"n_qubits": 2, "layer": [["enc_ry"], ["cx01"]]})
    net = Supernet(space)
    inputs = torch.tensor([[0.0, 0.0], [np.pi, 0.0], [np.pi / 2, 0.0]])
    states = net(inputs).detach().numpy()
    np.testing.assert_allclose(np.abs(states) ** 2, [[1, 0, 0, 0], [0, 0, 0, 1], [0.5, 0, 0, 0.5]], atol=1e-12)
    with pytest.raises(QasError, match="pass inputs"):
        net()


def test_structure_weights_choose_the_entangler_bell_needs() -> None:
    # Position 0 must rotate qubit 0 out of |0> (only ry0 can); position 1 must entangle (only cx01 can).
    space = SearchSpace.from_dict({"n_qubits": 2, "positions": [["rz0", "ry0", "rz1"], ["none", "rz1", "rx0", "cx01"]]})
    search = DiffQAS(space, BELL, epochs=150, warmup=0.2, seed=0)
    _train(search, 150)
    probs = [p.detach().numpy() for p in search.supernet.probabilities()]
    assert space.names(search.supernet.choice()) == ["ry0", "cx01"]
    assert probs[1][3] > 0.9, probs
    assert float(search.loss().detach()) < 1e-3


def _train(search: DiffQAS, epochs: int) -> None:
    for _ in range(epochs):
        search.step()
        search.epoch += 1


def test_resumed_search_continues_exactly() -> None:
    settings = {"epochs": 20, "warmup": 0.25, "update": "alternating"}
    straight = DiffQAS(SearchSpace.dqas(2, 3), BELL, seed=4, **settings)
    _train(straight, 20)
    first = DiffQAS(SearchSpace.dqas(2, 3), BELL, seed=4, **settings)
    _train(first, 10)
    resumed = DiffQAS(SearchSpace.dqas(2, 3), BELL, seed=99, **settings)
    resumed.load_state_dict(first.state_dict())
    _train(resumed, 10)
    torch.testing.assert_close(resumed.supernet.theta, straight.supernet.theta, atol=0, rtol=0)
    for a, b in zip(resumed.supernet.alphas, straight.supernet.alphas, strict=True):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_search_rejects_a_space_of_the_wrong_width_a_bad_task_and_an_unknown_setting() -> None:
    with pytest.raises(QasError, match="search space has 3 qubits but the task is on 2"):
        DiffQAS(SearchSpace.dqas(3, 2), BELL)
    with pytest.raises(QasError, match="search space has 3 qubits but the task is on 2"):
        DiffQAS(SearchSpace.dqas(3, 2), "state:bell")  # a task string is parsed
    with pytest.raises(QasError, match=r"must be a qas\.tasks\.Task or a task string such as 'state:bell', got 5$"):
        DiffQAS(SearchSpace.dqas(2, 2), 5)  # type: ignore[arg-type]
    with pytest.raises(QasError, match=r"unknown DiffQAS setting\(s\) \['epoch'\]; known: \["):
        DiffQAS(SearchSpace.dqas(2, 2), BELL, epoch=3)


def test_inference_operators_match_the_gate_path_and_follow_weight_updates() -> None:
    space = SearchSpace.layered(3, layers=2, encoding=True)
    net = Supernet(space, init_std=0.7, generator=torch.Generator().manual_seed(2))
    inputs = torch.randn(5, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    with torch.no_grad():
        for a in net.alphas:
            a.normal_(generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(net(inputs).detach(), _no_grad_forward(net, inputs))
    with torch.no_grad():
        net.theta.add_(0.3)  # an optimiser step: the cached operators must be rebuilt
    torch.testing.assert_close(net(inputs).detach(), _no_grad_forward(net, inputs))


def _no_grad_forward(net: Supernet, inputs: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return net(inputs)


def test_warm_up_keeps_the_structure_uniform_then_the_temperature_anneals() -> None:
    search = DiffQAS(SearchSpace.dqas(2, 2), BELL, epochs=30, warmup=1 / 3, final_temperature=0.1)
    _train(search, 10)
    for a in search.supernet.alphas:
        assert torch.equal(a, torch.zeros_like(a))
    assert search.temperature(0) == search.temperature(10) == 1.0
    assert search.temperature(29) == pytest.approx(0.1)
    _train(search, 20)
    assert search.supernet.temperature == pytest.approx(0.1)
    assert all(float(p.detach().max()) > 0.9 for p in search.supernet.probabilities())  # committed to one candidate


def test_top_architectures_are_the_most_probable_in_order() -> None:
    import itertools

    net = Supernet(SearchSpace.dqas(2, 3))
    with torch.no_grad():
        for k, a in enumerate(net.alphas):
            a.normal_(generator=torch.Generator().manual_seed(5 + k))  # distinct positions: no ties
    probs = [p.detach() for p in net.probabilities()]
    every = sorted(
        itertools.product(range(8), repeat=3), key=lambda c: -float(np.prod([probs[k][j] for k, j in enumerate(c)]))
    )
    assert net.choices(5) == [list(c) for c in every[:5]]
    assert net.choice() == list(every[0])


def test_tied_architectures_repeat_the_most_probable_layer_blocks() -> None:
    import itertools

    space = SearchSpace.layered(2, 2, encoding=True)  # (encoding, rotation, entangler) twice: 64 tied of 4096
    net = Supernet(space)
    with torch.no_grad():
        for k, a in enumerate(net.alphas):
            a.normal_(generator=torch.Generator().manual_seed(11 + k))
    probs = [p.detach() for p in net.probabilities()]
    tied = sorted(
        (list(block) * 2 for block in itertools.product(range(4), repeat=3)),
        key=lambda c: -float(np.prod([probs[k][j] for k, j in enumerate(c)])),
    )
    assert net.choices(6, tied=True) == tied[:6]
    assert net.choices(6, tied=True) != net.choices(6)  # the untied top six mix blocks
    sampled = net.choices(20, "sample", torch.Generator().manual_seed(0), tied=True)
    assert all(c[:3] == c[3:] for c in sampled) and len({tuple(c) for c in sampled}) > 1


def test_sampled_architectures_act_alone_and_carry_their_log_probability() -> None:
    import itertools

    space = SearchSpace.layered(2, 2, encoding=True)
    net = Supernet(space, init_std=1.0, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        for k, a in enumerate(net.alphas):
            a.normal_(generator=torch.Generator().manual_seed(21 + k))
    choices = net.sample(6, torch.Generator().manual_seed(3), tied=True)
    assert torch.equal(choices[:, :3], choices[:, 3:]) and len({tuple(c) for c in choices.tolist()}) > 1
    # Each sample passes through exactly its own architecture: no mixture, no renormalisation.
    inputs = torch.rand(6, 2, generator=torch.Generator().manual_seed(4))
    states = net(inputs, choices=choices)
    for b, choice in enumerate(choices.tolist()):
        alone = net.fixed(choice)(inputs[b : b + 1])[0]
        np.testing.assert_allclose(states[b].detach().numpy(), alone.detach().numpy(), atol=1e-12)
    with torch.no_grad():  # at inference the input-free positions act through their cached operators: same states
        np.testing.assert_allclose(net(inputs, choices=choices).numpy(), states.detach().numpy(), atol=1e-12)
        # A copy's weights count versions from 0 again: at this net's version with other weights, it must not reuse
        # this net's cached operators.
        net.theta.add_(0.0)
        net(inputs, choices=choices)  # caches at version 1
        twin = copy.deepcopy(net)
        twin.theta.mul_(0.5)
        assert twin.theta._version == net.theta._version == 1
        cached = twin(inputs, choices=choices)
    np.testing.assert_allclose(cached.numpy(), twin(inputs, choices=choices).detach().numpy(), atol=1e-12)
    # Untied, an architecture's log-probability sums its positions'; tied, the 64 repeated blocks share all the mass,
    # in the proportions of their untied probabilities.
    probs = net.probabilities()
    untied = net.log_probability(choices)
    expected = sum(torch.log(p[choices[:, k]]) for k, p in enumerate(probs))
    torch.testing.assert_close(untied, expected)
    every = torch.tensor([list(block) * 2 for block in itertools.product(range(4), repeat=3)])
    tied = net.log_probability(every, tied=True)
    assert float(tied.detach().exp().sum()) == pytest.approx(1.0, abs=1e-12)
    torch.testing.assert_close(tied - tied[0], net.log_probability(every) - net.log_probability(every)[0])
    # Draws follow the block distribution.
    many = net.sample(4000, torch.Generator().manual_seed(5), tied=True)
    frequencies = torch.bincount(many[:, 1], minlength=4) / 4000
    torch.testing.assert_close(frequencies.double(), net.block_log_probabilities(tied=True)[1].exp(), atol=0.03, rtol=0)
    # The score-function gradient reaches the structure logits.
    net.log_probability(choices, tied=True).sum().backward()
    assert all(a.grad is not None and a.grad.abs().sum() > 0 for a in net.alphas) and net.theta.grad is None
    with pytest.raises(QasError, match=r"choices must have shape \(B, 6\) for B = 6 states, got \(6, 3\)"):
        net(inputs, choices=choices[:, :3])
