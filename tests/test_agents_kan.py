"""The B-spline KAN layer and the KAN-Q policy (save/load, parameter counts, learning Bell; GHZ-3 is slow: ~2 min)."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th

import qas  # noqa: F401  (registers the environments)
from qas.agents.kan import KAN, KANLinear
from qas.agents.kanq import KANDQN, KANQNetwork
from qas.envs import make_vec
from qas.runs import MetricsLog

th.set_num_threads(1)
# The two 2-gate Bell circuits in the Kuo action set: H on one qubit, then a CNOT controlled by it.
OPTIMAL_BELL = [[("h", (0,)), ("cx", (0, 1))], [("h", (1,)), ("cx", (1, 0))]]


def test_b_spline_basis_is_a_partition_of_unity_inside_the_grid() -> None:
    layer = KANLinear(3, 2, grid_size=5, spline_order=3)
    x = th.rand(100, 3) * 1.98 - 0.99
    basis = layer.b_splines(x)
    assert basis.shape == (100, 3, 5 + 3)
    assert th.allclose(basis.sum(-1), th.ones(100, 3), atol=1e-5)
    assert (basis >= 0).all()


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_b_spline_basis_matches_scipy_on_and_off_the_grid(order: int) -> None:
    from scipy.interpolate import BSpline

    layer = KANLinear(2, 1, grid_size=5, spline_order=order)
    knots = layer.grid[0].double().numpy()
    x = np.concatenate([np.linspace(-4, 4, 161), knots[1:-1]])  # beyond both ends, and on every inner knot
    expected = np.stack(
        [
            np.nan_to_num(BSpline.basis_element(knots[i : i + order + 2], extrapolate=False)(x))
            for i in range(5 + order)
        ],
        axis=-1,
    )
    basis = layer.b_splines(th.tensor(x, dtype=th.float32).unsqueeze(1).expand(-1, 2))
    np.testing.assert_allclose(basis[:, 0].numpy(), expected, atol=1e-5)


def test_kan_fits_a_smooth_function_and_keeps_it_through_a_grid_update() -> None:
    th.manual_seed(0)
    net = KAN([2, 5, 1], grid_size=5, spline_order=3)
    x = th.rand(256, 2) * 2 - 1
    y = th.sin(3 * x[:, :1]) + x[:, 1:] ** 2
    optimizer = th.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(300):
        loss = ((net(x) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 1e-3
    narrow = x * 0.5
    before = net(narrow).detach()
    net.update_grid(narrow)  # a narrower input distribution: the knots move in, the curves stay (least squares)
    assert net.layers[0].grid[:, 3].min().item() > -0.6
    assert (net(narrow).detach() - before).abs().max().item() < 0.05
    assert net.regularization_loss().item() > 0


def test_grid_update_keeps_inputs_that_take_one_value_in_the_sample() -> None:
    # A binary circuit-tensor entry that is 0 throughout the replayed sample: its grid must not collapse onto 0,
    # and what its curve gives at 1 must survive the refit.
    th.manual_seed(0)
    layer = KANLinear(2, 1, grid_size=5, spline_order=3)
    with th.no_grad():
        layer.spline_weight.normal_()

    def edge_values(x: th.Tensor) -> th.Tensor:  # (batch, in, out): each edge's spline at x
        return th.einsum("bik,oik->bio", layer.b_splines(x), layer.scaled_spline_weight).detach()

    sample = th.stack([th.zeros(64), th.rand(64) * 0.5], dim=1)  # input 0 constant, input 1 varies
    ones, grid_before = th.ones(1, 2), layer.grid.clone()
    at_one, on_sample = edge_values(ones)[:, 0], edge_values(sample)[:, 1]
    layer.update_grid(sample)
    assert th.equal(layer.grid[0], grid_before[0])
    assert layer.grid[1, -1].item() < 1.0  # input 1's grid moved in to its data
    assert th.allclose(edge_values(ones)[:, 0], at_one)
    assert th.allclose(edge_values(sample)[:, 1], on_sample, atol=0.05)


def test_layer_norm_keeps_hidden_units_on_the_grid_and_refits_see_the_normalised_values() -> None:
    th.manual_seed(0)
    net = KAN([6, 8, 2], layer_norm=True, output_affine=True)
    with th.no_grad():
        net.layers[0].base_weight.mul_(50)  # hidden pre-activations far beyond the grid [-1, 1]
    x = th.rand(128, 6)
    hidden = net.norms[1](net.layers[0](x)).detach()
    assert hidden.abs().max().item() < 8**0.5  # a LayerNorm over 8 units bounds each by sqrt(7)
    net.update_grid(x)
    second = net.layers[1]
    inner = second.grid[:, second.spline_order], second.grid[:, -second.spline_order - 1]
    assert th.allclose(inner[0], hidden.amin(0) - 0.01, atol=1e-5)
    assert th.allclose(inner[1], hidden.amax(0) + 0.01, atol=1e-5)
    with th.no_grad():
        net.output_scale.fill_(3.0)
        net.output_bias.fill_(-1.0)
        unscaled = second(hidden)
    assert th.allclose(net(x).detach(), 3 * unscaled - 1, atol=1e-5)


def test_kan_rejects_bad_widths() -> None:
    with pytest.raises(ValueError, match="at least two positive integers"):
        KAN([4])


@pytest.mark.parametrize("normalised", [False, True])
def test_kanq_policy_is_a_pure_kan_and_survives_save_and_load(tmp_path, normalised: bool) -> None:
    env = make_vec("qas/StatePreparation-v0", 1, target="bell", preset="kanqas")
    kan_kwargs = {"grid_size": 5, "spline_order": 3, "layer_norm": normalised, "output_affine": normalised}
    model = KANDQN("KanPolicy", env, policy_kwargs={"net_arch": [2], **kan_kwargs}, seed=0)
    q_net = model.q_net
    assert isinstance(q_net, KANQNetwork) and isinstance(q_net.q_net, KAN)
    widths = [(layer.in_features, layer.out_features) for layer in q_net.q_net.layers]
    assert widths == [(84, 2), (2, 12)]  # KANQAS' Bell network [84, 2, 12]
    if normalised:
        with th.no_grad():  # parameters away from their initial values, so that loading must restore them
            q_net.q_net.output_scale.fill_(2.5)
    model.save(tmp_path / "kanq.zip")
    loaded = KANDQN.load(tmp_path / "kanq.zip")
    obs = env.reset()
    np.testing.assert_allclose(
        loaded.q_net(th.as_tensor(obs)).detach().numpy(), model.q_net(th.as_tensor(obs)).detach().numpy()
    )
    assert loaded.policy.kan_kwargs == model.policy.kan_kwargs


def test_kanq_learns_bell_from_the_python_api(tmp_path) -> None:
    from qas.agents import evaluate_agent, train

    overrides = ["learning_starts=200", "exploration_fraction=0.3", "log_interval=250"]
    result = train(
        "kanq",
        "qas/StatePreparation-v0",
        env_kwargs={"target": "bell"},
        timesteps=1200,
        root=tmp_path,
        overrides=overrides,
    )
    assert [(o.gate, o.qubits) for o in result.best_circuit] in OPTIMAL_BELL
    circuit, score = evaluate_agent(result.run_dir)
    assert len(circuit) == 2 and score.fidelity == pytest.approx(1.0)


@pytest.mark.slow
def test_kanq_defaults_learn_ghz3_in_the_kanqas_setup(tmp_path) -> None:
    # KANQAS GHZ-3: 288 binary circuit-tensor inputs, 21 actions, reward 50 F on success; gamma as KANQAS sets it.
    # With KANQAS' narrow [288, 3, 21] KAN the success fraction stays at random play's ~0.02 (see bench/agents.py).
    # At 10k steps the greedy circuit prepares GHZ-3 exactly but is not yet minimal (seed 100: 6 gates, seed 101: 5).
    import gymnasium as gym

    from qas.agents.training import rollout, train

    kwargs = {"target": "ghz3", "preset": "kanqas"}
    result = train("kanq", "qas/StatePreparation-v0", env_kwargs=kwargs, timesteps=10_000, seed=100, root=tmp_path,
                   hyperparams={"gamma": 0.64})  # fmt: skip
    assert result.config["policy_kwargs"]["layer_norm"] and result.config["policy_kwargs"]["output_affine"]
    last = MetricsLog(result.run_dir / "progress.csv").rows()[-1]
    assert int(last["successes"]) / int(last["episodes"]) > 0.4  # measured 0.483; random play ~0.02
    env = gym.make("qas/StatePreparation-v0", **kwargs)
    circuit, _ = rollout(result.model, env)
    fidelity = abs(env.unwrapped.target.conj() @ circuit.final_state()) ** 2
    assert fidelity == pytest.approx(1.0) and circuit.cnot_count >= 2
