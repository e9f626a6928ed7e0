"""DiffQAS benchmarks: the DQAS Bell set-up, H2 to chemical accuracy, and CartPole-v1 policies searched under A3C.

Run ``.venv/bin/python bench/diffqas.py [--part bell|h2|cartpole|all]``. Each part prints its figures beside a peer
measured in the same run:

- bell: Zhang et al.'s set-up (2 qubits, 3 layers, pool rx/ry/rz on each qubit and both CNOTs, the DQAS loss
  sum |psi_t - psi|, 400 epochs), every seed. Peer: random architecture search over the same pool, each architecture's
  angles fitted by ``qas.optimize.fit_parameters``, until one reaches fidelity 0.99; the ratio is its wall time over
  DiffQAS's.
- h2: ``ground-state:h2`` (4 qubits, JW), alternating variational/entangling positions; the derived circuit's
  energy error from the shared evaluator (qsim) against chemical accuracy (1.6e-3 Ha).
- cartpole (slow): per benchmark seed, a supernet policy trained by A3C and its ``top_k`` most probable architectures
  (repeating one layer block) each re-trained on a validation seed (other start states too), the ``finalists`` best
  on more validation seeds (with ``--tie-validation-seeds`` above ``--validation-seeds``, those tied for the best on
  further seeds until one leads), and the best mean kept (:mod:`qas.generators.diffqas.policy_search`); then that
  circuit
  and three hand-designed circuits from the same search space (same positions, so the same size)
  are each trained from scratch by the same A3C routine, budget, seed and evaluation episodes, and trained again on
  another seed while stuck below CartPole's reward threshold (``--final-restarts``). Each training keeps its
  best-evaluated weights; the score is their mean greedy return on other fixed start states (see ``a3c.py``);
  the table averages it over the seeds.
  Every training runs one deterministic A3C learner; ``--jobs`` trainings run side by side.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np
import torch

from qas.generators.diffqas import DiffQAS, SearchSpace
from qas.generators.diffqas.a3c import STRUCTURES, A3CConfig, train_with_restarts
from qas.generators.diffqas.policy_search import PolicySearchConfig, search_policy
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
SEARCHED = "diffqas (searched)"


def cartpole_space() -> SearchSpace:
    return SearchSpace.layered(4, 2, encoding=True)


def _train_fixed(choice: list[int], config: A3CConfig, restarts: int) -> tuple[float, float, int]:
    """Score, wall time and seed of architecture ``choice`` trained from scratch, restarted while stuck (one
    benchmark job)."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    result = train_with_restarts(cartpole_space().fixed(choice), config, restarts)
    return result.score, time.perf_counter() - start, result.config.seed


def _search(config: A3CConfig, search: PolicySearchConfig) -> tuple[list[int], str]:
    """The searched architecture of one seed and a line on how it was chosen (one benchmark job)."""
    torch.set_num_threads(1)
    space = cartpole_space()
    found = search_policy(space, config, search)
    ranked = ", ".join(
        f"{' '.join(c.architecture[: space.period])} p={c.probability:.4f} val={'/'.join(f'{v:.0f}' for v in c.scores)}"
        for c in found.candidates
    )
    return list(found.best.choice), f"supernet score {found.supernet.score:.0f}; candidates: {ranked}"


def bench_cartpole(seeds: list[int], config: A3CConfig, search: PolicySearchConfig, jobs: int) -> None:
    space = cartpole_space()
    rounds = ""
    if search.tie_break_rounds:
        rounds = f", finalists tied for the best on up to {search.tie_validation_seeds}"
    print(
        f"== CartPole-v1, A3C ({config.workers} learner(s) per training, {jobs} trainings side by side): supernet "
        f"{search.search_steps} steps (structure: {config.structure}); its {search.top_k} most probable "
        f"architectures (tied layers: {search.tied}) "
        f"validated {search.validation_steps} steps each on one seed, the best {search.finalists} on "
        f"{search.validation_seeds} (seed+offset){rounds};"
        f"\nthen every circuit (searched and hand-designed) "
        f"{config.total_steps} steps from scratch (up to {search.final_restarts} restarts while below the reward "
        f"threshold); score = "
        f"mean greedy return of the best of the evaluations ({config.eval_episodes} episodes every "
        f"{config.eval_every} steps) on {config.score_episodes} other episodes; "
        f"seeds {seeds}",
        flush=True,
    )
    start = time.perf_counter()
    hand = {name: space.choice_of(blocks * 2) for name, blocks in HAND_DESIGNED.items()}
    scores: dict[str, dict[int, float]] = {SEARCHED: {}, **{name: {} for name in HAND_DESIGNED}}
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        # The searches go first: each is followed by a final training, so they are the critical path.
        searches = {s: pool.submit(_search, replace(config, seed=s), search) for s in seeds}
        hand_jobs = {
            (name, s): pool.submit(_train_fixed, choice, replace(config, seed=s), search.final_restarts)
            for s in seeds
            for name, choice in hand.items()
        }
        finals = {}
        for s, job in searches.items():
            choice, how = job.result()
            print(f"seed {s}: searched {' '.join(space.names(choice))} ({how})", flush=True)
            finals[s] = pool.submit(_train_fixed, choice, replace(config, seed=s), search.final_restarts)
        # Each training's score is printed as it comes in, so an interrupted run still leaves its figures.
        for (name, s), job in [*hand_jobs.items(), *(((SEARCHED, s), job) for s, job in finals.items())]:
            scores[name][s], wall, kept_seed = job.result()
            restarted = f", restarted: seed {kept_seed} kept" if kept_seed != s else ""
            print(f"seed {s} {name}: score {scores[name][s]:.1f} ({wall:.0f} s{restarted})", flush=True)
    print("method | mean score | std over seeds | per seed")
    for name, per_seed in scores.items():
        values = [per_seed[s] for s in seeds]
        print(f"{name} | {np.mean(values):.1f} | {np.std(values):.1f} | {' '.join(f'{v:.0f}' for v in values)}")
    best = max(HAND_DESIGNED, key=lambda name: np.mean(list(scores[name].values())))
    ours, theirs = np.mean(list(scores[SEARCHED].values())), np.mean(list(scores[best].values()))
    gaps = [scores[SEARCHED][s] - scores[best][s] for s in seeds]
    print(
        f"searched vs best hand-designed ({best}): {ours:.2f} vs {theirs:.2f}, ratio {ours / theirs:.4f}; paired "
        f"difference {np.mean(gaps):+.2f} +- {np.std(gaps, ddof=1) / np.sqrt(len(gaps)):.2f} (standard error); "
        f"target {'met' if ours >= theirs else 'missed'}; wall time {time.perf_counter() - start:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["bell", "h2", "cartpole", "all"], default="all")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed .. first-seed + seeds - 1")
    parser.add_argument("--h2-layers", type=int, default=3)
    defaults = PolicySearchConfig()
    parser.add_argument("--search-steps", type=int, default=defaults.search_steps, help="A3C steps of the supernet")
    parser.add_argument("--top-k", type=int, default=defaults.top_k, help="architectures validated per search")
    parser.add_argument("--finalists", type=int, default=defaults.finalists, help="validated on several seeds")
    parser.add_argument("--untied", action="store_true", help="also architectures whose layers differ")
    parser.add_argument(
        "--validation-steps", type=int, default=defaults.validation_steps, help="A3C steps of each validation training"
    )
    parser.add_argument(
        "--validation-seeds", type=int, default=defaults.validation_seeds, help="validation trainings per finalist"
    )
    parser.add_argument(
        "--tie-validation-seeds",
        type=int,
        default=defaults.tie_validation_seeds,
        help="validation trainings of finalists tied for the best mean (one more per round until one leads)",
    )
    parser.add_argument("--cartpole-steps", type=int, default=50_000, help="A3C steps of each final training")
    parser.add_argument(
        "--final-restarts", type=int, default=defaults.final_restarts, help="restarts of a stuck final training"
    )
    parser.add_argument("--evaluations", type=int, default=20, help="greedy evaluations per training (keep_best)")
    parser.add_argument("--workers", type=int, default=1, help="A3C learners per training (1: deterministic)")
    parser.add_argument(
        "--structure", choices=STRUCTURES, default=A3CConfig.structure, help="how the supernet policy acts and learns"
    )
    parser.add_argument("--jobs", type=int, default=2, help="trainings run side by side")
    args = parser.parse_args()
    if args.evaluations < 1:
        parser.error(f"--evaluations must be at least 1, got {args.evaluations}")
    torch.set_num_threads(1)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    if args.part in ("bell", "all"):
        bench_bell(seeds)
    if args.part in ("h2", "all"):
        bench_h2(seeds, args.h2_layers)
    if args.part in ("cartpole", "all"):
        steps = args.cartpole_steps
        config = A3CConfig(
            total_steps=steps,
            workers=args.workers,
            eval_every=steps // args.evaluations,
            eval_episodes=20,
            structure=args.structure,
        )
        search = PolicySearchConfig(
            args.search_steps,
            args.top_k,
            args.finalists,
            args.validation_steps,
            args.validation_seeds,
            args.tie_validation_seeds,
            tied=not args.untied,
            final_restarts=args.final_restarts,
        )
        bench_cartpole(seeds, config, search, args.jobs)


if __name__ == "__main__":
    main()
