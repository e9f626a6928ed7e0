"""DiffQAS benchmarks: the DQAS Bell set-up, H2 to chemical accuracy, and CartPole-v1 policies searched under A3C.

Run ``.venv/bin/python bench/diffqas.py [--part bell|h2|cartpole|all]``. Each part prints its figures beside a peer
measured in the same run:

- bell: Zhang et al.'s set-up (2 qubits, 3 layers, pool rx/ry/rz on each qubit and both CNOTs, the DQAS loss
  sum |psi_t - psi|, 400 epochs), every seed. Peer: random architecture search over the same pool, each architecture's
  angles fitted by ``qas.optimize.fit_parameters``, until one reaches fidelity 0.99; the ratio is its wall time over
  DiffQAS's.
- h2: ``ground-state:h2`` (4 qubits, JW), alternating variational/entangling positions; the derived circuit's
  energy error from the shared evaluator (qsim) against chemical accuracy (1.6e-3 Ha).
- cartpole (slow): per seed, a supernet policy trained by A3C, its derived circuit re-trained from scratch, and three
  hand-designed circuits of the same size trained the same way; greedy returns averaged over seeds.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import replace

import numpy as np
import torch

from qas.generators.diffqas import DiffQAS, SearchSpace
from qas.generators.diffqas.a3c import A3CConfig, make_policy, train_a3c
from qas.optimize import fit_parameters
from qas.targets import parse_task

BELL_LOSS_GOAL = 0.02


def bench_bell(seeds: list[int]) -> None:
    task = parse_task("state:bell")
    space = SearchSpace.dqas(2, 3)
    print(
        f"== DQAS Bell set-up: {len(space.positions)} layers x {len(space.positions[0])} choices, 400 epochs, l1 loss"
    )
    print(
        "seed | final loss | first epoch < 0.02 | derived (argmax)      | derived l1 (search weights) | fidelity "
        "| ms/epoch | total s"
    )
    times = []
    for seed in seeds:
        search = DiffQAS(space, task, epochs=400, seed=seed, state_loss="l1", retrain_restarts=2)
        start = time.perf_counter()
        marks: list[float] = []
        result = search.fit(
            callback=lambda s, marks=marks: marks.append(time.perf_counter()) if s.epoch == 400 else None
        )
        elapsed = time.perf_counter() - start
        per_epoch = (marks[0] - start) / 400
        losses = result.history.losses
        first = next((i + 1 for i, loss in enumerate(losses) if loss < BELL_LOSS_GOAL), None)
        choice = list(result.choice)
        with torch.no_grad():
            derived = search.supernet.fixed(choice)
            derived_l1 = float((torch.tensor(task.target) - derived()[0]).abs().sum())
        times.append(elapsed)
        print(
            f"{seed:4d} | {losses[-1]:10.4f} | {first!s:>18} | {' '.join(result.architecture):21} | "
            f"{derived_l1:27.4f} | {result.score.fidelity:8.5f} | {per_epoch * 1e3:.1f} | {elapsed:.1f}"
        )
    diffqas_time = float(np.median(times))
    peer_time, peer_tries = _random_search_peer(space, task, seed=0)
    print(f"DiffQAS median wall time {diffqas_time:.1f} s (search, derivation, re-training and scoring)")
    print(
        f"peer: random architecture search + fit_parameters found F >= 0.99 after {peer_tries} architectures in "
        f"{peer_time:.1f} s -> ratio peer/DiffQAS {peer_time / diffqas_time:.2f}"
    )


def _random_search_peer(space: SearchSpace, task: object, seed: int) -> tuple[float, int]:
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for tries in range(1, space.size + 1):
        choice = [int(rng.integers(len(p))) for p in space.positions]
        weights = [[0.1] * space.positions[k][j].num_weights for k, j in enumerate(choice)]
        fit = fit_parameters(space.circuit(choice, weights), task, restarts=2, seed=seed)  # type: ignore[arg-type]
        if 1 - fit.loss >= 0.99:
            return time.perf_counter() - start, tries
    return math.inf, space.size


def bench_h2(seeds: list[int], layers: int) -> None:
    task = parse_task("ground-state:h2")
    space = SearchSpace.layered(task.n_qubits, layers)
    print(f"== H2 ({task.n_qubits} qubits), {len(space.positions)} positions, exact {task.exact_energy:.6f} Ha")
    print("seed | energy (Ha) | error (Ha) | chem. acc. | CNOTs | depth | architecture | s")
    for seed in seeds:
        start = time.perf_counter()
        result = DiffQAS(space, task, epochs=400, seed=seed).fit()
        m = result.score.metrics
        print(
            f"{seed:4d} | {result.score.energy:11.6f} | {result.score.energy_error:10.2e} | {result.goal_met!s:>10} | "
            f"{m['cnot_count']:5d} | {m['depth']:5d} | {' '.join(result.architecture)} | "
            f"{time.perf_counter() - start:.0f}"
        )


# Hand-designed policies of the searched size (2 layers of encoding, variational block, entangler), after the
# usual VQC-RL designs: Rx encoding with general rotations and a CNOT ring; H+Ry encoding with Ry and a CNOT ladder;
# Ry encoding with general rotations and all-to-all CZ.
HAND_DESIGNED = {
    "rx-rot-ring": ["enc_rx", "rot", "cnot_ring"],
    "hry-ry-ladder": ["enc_h_ry", "ry", "cnot_ladder"],
    "ry-rot-czall": ["enc_ry", "rot", "cz_all"],
}


def bench_cartpole(seeds: list[int], search_steps: int, steps: int, workers: int) -> None:
    space = SearchSpace.layered(4, 2, encoding=True)
    print(
        f"== CartPole-v1, A3C ({workers} workers): supernet search {search_steps} env steps, then every fixed circuit "
        f"(derived and hand-designed) {steps} env steps from scratch; {len(seeds)} seeds"
    )
    returns: dict[str, list[float]] = {"diffqas (derived, re-trained)": [], **{k: [] for k in HAND_DESIGNED}}
    start = time.perf_counter()
    for seed in seeds:
        config = A3CConfig(total_steps=steps, workers=workers, seed=seed)
        supernet = make_policy(space, seed=seed)
        search = train_a3c(supernet, replace(config, total_steps=search_steps))
        choice = supernet.supernet.choice()
        derived = train_a3c(make_policy(space.fixed(choice), seed=seed), config)
        returns["diffqas (derived, re-trained)"].append(derived.eval_return)
        line = [f"seed {seed}: supernet {search.eval_return:.1f}, derived {' '.join(space.names(choice))} "]
        line.append(f"{derived.eval_return:.1f}")
        for name, blocks in HAND_DESIGNED.items():
            fixed = _fixed_space(space, blocks * 2)
            hand = train_a3c(make_policy(fixed, seed=seed), config)
            returns[name].append(hand.eval_return)
            line.append(f"{name} {hand.eval_return:.1f}")
        print(", ".join(line), flush=True)
    print("method | mean greedy return | std over seeds")
    for name, values in returns.items():
        print(f"{name} | {np.mean(values):.1f} | {np.std(values):.1f}")
    best_hand = max(np.mean(returns[k]) for k in HAND_DESIGNED)
    ours = np.mean(returns["diffqas (derived, re-trained)"])
    print(f"ratio DiffQAS / best hand-designed: {ours / best_hand:.2f}; wall time {time.perf_counter() - start:.0f} s")


def _fixed_space(space: SearchSpace, names: list[str]) -> SearchSpace:
    choice = [[c.name for c in cands].index(name) for cands, name in zip(space.positions, names, strict=True)]
    return space.fixed(choice)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["bell", "h2", "cartpole", "all"], default="all")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--h2-layers", type=int, default=3)
    parser.add_argument("--search-steps", type=int, default=10_000, help="A3C steps of the supernet search")
    parser.add_argument("--cartpole-steps", type=int, default=15_000, help="A3C steps of each fixed circuit")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = list(range(args.seeds))
    if args.part in ("bell", "all"):
        bench_bell(seeds)
    if args.part in ("h2", "all"):
        bench_h2(seeds, args.h2_layers)
    if args.part in ("cartpole", "all"):
        bench_cartpole(seeds, args.search_steps, args.cartpole_steps, args.workers)


if __name__ == "__main__":
    main()
