"""Environment steps per second: our Kuo-preset envs, single and batched, against the Kuo et al. code's approach.

The baseline does what qas-gym (Kuo et al. 2021, qdevpsi3/quantum-arch-search) does on every step: append the gate to a
``cirq.Circuit`` and re-simulate the whole circuit with ``cirq.Simulator`` twice, once for the observation
(``simulate_expectation_values`` of the 3n Paulis) and once for the fidelity (``simulate``); the noisy variant adds
``depolarize(0.001)`` after every gate and ``bit_flip(0.001)`` before measurement, simulated as one trajectory (the
published flaw; our envs compute the exact density-matrix fidelity instead, which is more work). All measurements run
in the same process, interleaved over ``--rounds`` rounds, and each keeps its best round, so a load spike from other
processes on a shared machine does not land on one side of a ratio only.

    .venv/bin/python bench/env_steps.py [--seconds 1] [--rounds 3] [--num-envs 4096]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import cirq
import gymnasium as gym
import numpy as np

import qas  # noqa: F401 (registers the environments)
from qas.envs import make_vec
from qas.targets import resolve_state


def _rate(run: Callable[[int], int], seconds: float) -> float:
    """Steps per second of ``run(k)`` (which performs k steps and returns how many it did), over ``seconds``."""
    run(5)  # warm-up: imports, caches
    steps, start = 0, time.perf_counter()
    chunk = 10
    while time.perf_counter() - start < seconds:
        steps += run(chunk)
        chunk = min(chunk * 2, 1000)
    return steps / (time.perf_counter() - start)


def kuo_baseline(target: str, noisy: bool) -> Callable[[int], int]:
    """Re-simulate the whole circuit with ``cirq.Simulator`` each step, as the Kuo code does."""
    state, _ = resolve_state(target)
    n = int(np.log2(len(state)))
    qubits = cirq.LineQubit.range(n)
    actions = []
    for i, q in enumerate(qubits):
        actions += [cirq.rz(np.pi / 4)(q), cirq.X(q), cirq.Y(q), cirq.Z(q), cirq.H(q)]
        actions.append(cirq.CNOT(q, qubits[(i + 1) % n]))
    observables = [p(q) for q in qubits for p in (cirq.X, cirq.Y, cirq.Z)]
    simulator = cirq.Simulator(seed=0)
    rng = np.random.default_rng(0)
    ops: list[cirq.Operation] = []

    def run(k: int) -> int:
        for _ in range(k):
            ops.append(actions[rng.integers(len(actions))])
            circuit = cirq.Circuit(ops)
            if noisy:
                circuit = circuit.with_noise(cirq.depolarize(1e-3))
                measured = circuit + cirq.Circuit(cirq.bit_flip(1e-3).on_each(*qubits))
            else:
                measured = circuit
            simulator.simulate_expectation_values(measured, observables, qubit_order=qubits)
            psi = simulator.simulate(circuit, qubit_order=qubits).final_state_vector
            fidelity = abs(np.vdot(state, psi)) ** 2
            if fidelity > 0.95 or len(ops) >= 20:
                ops.clear()
        return k

    return run


def single_env(target: str, noisy: bool) -> Callable[[int], int]:
    env = gym.make("qas/StatePreparation-v0", target=target, preset="kuo-noisy" if noisy else "kuo")
    env.reset(seed=0)
    rng = np.random.default_rng(0)

    def run(k: int) -> int:
        for a in rng.integers(env.action_space.n, size=k):
            _, _, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                env.reset()
        return k

    return run


def batched_env(target: str, noisy: bool, num_envs: int, record_circuits: bool) -> Callable[[int], int]:
    venv = make_vec(
        "qas/StatePreparation-v0",
        num_envs,
        target=target,
        preset="kuo-noisy" if noisy else "kuo",
        record_circuits=record_circuits,
    )
    venv.reset()
    rng = np.random.default_rng(0)
    actions = rng.integers(venv.action_space.n, size=(64, num_envs))

    def run(k: int) -> int:
        for i in range(max(1, k // num_envs)):
            venv.step(actions[i % 64])
        return max(1, k // num_envs) * num_envs

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each mode keeps its best")
    parser.add_argument("--num-envs", type=int, default=4096, help="copies in the batched env")
    args = parser.parse_args()
    print(f"{'env':<18}{'mode':<34}{'steps/s':>12}{'x baseline':>12}", flush=True)
    for target in ("bell", "ghz3"):
        for noisy in (False, True):
            modes = {
                "Kuo code (cirq.Simulator)": kuo_baseline(target, noisy),
                "qas single env (gym.make)": single_env(target, noisy),
                f"qas make_vec x{args.num_envs}": batched_env(target, noisy, args.num_envs, record_circuits=True),
                f"qas make_vec x{args.num_envs}, no circuits": batched_env(
                    target, noisy, args.num_envs, record_circuits=False
                ),
            }
            best = dict.fromkeys(modes, 0.0)
            for _ in range(args.rounds):
                for mode, run in modes.items():
                    best[mode] = max(best[mode], _rate(run, args.seconds))
            base = best["Kuo code (cirq.Simulator)"]
            name = f"{target} {'noisy' if noisy else 'noiseless'}"
            for mode, rate in best.items():
                print(f"{name:<18}{mode:<34}{rate:>12,.0f}{rate / base:>12,.1f}", flush=True)


if __name__ == "__main__":
    main()
