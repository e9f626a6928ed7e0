"""``qas/GroundState-v0``: grow a parameterised circuit whose fitted energy approaches a Hamiltonian's ground energy."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from qas.envs.actions import ActionTable, Connectivity
from qas.envs.base import CircuitEnv, check_max_gates, resolve_reward
from qas.envs.kernel import Register
from qas.envs.observations import make_observation
from qas.envs.presets import preset_defaults, resolve_noise
from qas.envs.rewards import RewardScheme
from qas.envs.search import EnergySearch
from qas.gate_sets import GateSet
from qas.noise import NoiseModel
from qas.pauli import PauliSum
from qas.targets import resolve_hamiltonian


class GroundStateEnv(CircuitEnv):
    """Variational quantum eigensolver search: add one gate per step, re-fit all angles, score the energy.

    ## Description
    CRLQAS 2024 (arXiv:2402.03500) set-up. After every added gate all angles of the circuit are re-fitted by
    L-BFGS-B with adjoint gradients, warm-started from the previous optimum (a new angle starts at the best of
    0, pi/2, pi, -pi/2); see :mod:`qas.envs.fitting`. Under a noise model the fitted energy is the exact
    ``Tr(H rho)`` of the noisy state, readout noise included.

    ## Action Space
    ``Discrete(A)``: the gate set on every qubit / qubit tuple; a gate with free parameters (``rx``, ``ry``, ``rz``
    in the ``crlqas`` set) is one action whose angles the environment fits. CRLQAS on H2-2q: 8 actions, LiH-4q 24,
    LiH-6q 48. :meth:`action_masks` forbids repeating a gate back to back on the same qubits.

    ## Observation Space
    ``circuit+energy`` (CRLQAS): the binary ``max_gates x rows x n`` circuit tensor (CNOT rows, then one row per
    rotation) and the energy after the previous step, bounded by the sum of ``|coefficients|``; ``circuit``;
    ``encoding`` (the shared :class:`qas.encoding.CircuitEncoding` grid); or ``pauli`` (the fitted state's
    ``<X_i>, <Y_i>, <Z_i>``).

    ## Rewards
    ``crlqas``: ``+5`` when ``E - E_min < threshold`` (chemical accuracy 1.6e-3 Ha by default), ``-5`` when the gate
    limit is reached first, else ``clip((E_prev - E) / |E_prev - E_min|, -1, 1)``. ``E_min`` is the exact ground
    energy unless ``min_energy`` is given (CRLQAS' curriculum sets it below the true value).

    ## Starting State
    The empty circuit on |0...0>.

    ## Episode End
    Terminated on success; truncated after ``max_gates`` gates (40 up to 4 qubits, 70 beyond), or earlier with
    ``random_halting``.

    ## Info
    ``energy``, ``energy_error`` (``E - exact``), ``circuit`` (with the fitted angles), cost metrics, ``is_success``,
    ``action_mask``.

    ## Arguments
    - ``target``: ``h2``, ``h2-2q``, ``lih4``, ``lih6``, ``lih4-3.4`` (:mod:`qas.molecules`), a ``.json`` file of
      Pauli terms, or a :class:`~qas.PauliSum`; default ``h2`` (4 qubits).
    - ``preset``: ``crlqas`` (the only one).
    - ``threshold``: the success energy error in Hartree; default 1.6e-3 (chemical accuracy).
    - ``min_energy``: the reward's ``E_min``; default the exact ground energy.
    - ``random_halting``: cut each episode at a random gate count drawn from ``self.np_random`` (CRLQAS, see
      :meth:`draw_limits`); default False.
    - ``gate_set``, ``connectivity``, ``max_gates``, ``noise``, ``observation``, ``reward``, ``seed``,
      ``render_mode``: as for :class:`~qas.envs.state_preparation.StatePreparationEnv`.

    >>> import gymnasium as gym, qas
    >>> env = gym.make("qas/GroundState-v0", target="h2-2q")
    >>> _ = env.reset(seed=0)
    >>> labels = [str(a) for a in env.unwrapped.table.actions]
    >>> for gate in ("ry 0", "cx 0,1"):
    ...     obs, reward, terminated, truncated, info = env.step(labels.index(gate))
    >>> abs(info["energy_error"]) < 1e-6, terminated
    (True, True)

    ## Version History
    - v0: initial version.
    """

    value_key = "energy"

    def __init__(
        self,
        target: object = "h2",
        *,
        preset: str = "crlqas",
        gate_set: str | GateSet | Sequence[str] | None = None,
        connectivity: Connectivity | None = None,
        max_gates: int | None = None,
        threshold: float | None = None,
        noise: NoiseModel | str | None = None,
        observation: str | None = None,
        reward: str | RewardScheme | None = None,
        min_energy: float | None = None,
        random_halting: bool = False,
        seed: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        if isinstance(target, PauliSum):
            self.hamiltonian, exact, self.target_name = target, None, "custom"
        else:
            self.hamiltonian, exact, self.target_name = resolve_hamiltonian(str(target))
        self.exact_energy = exact if exact is not None else self.hamiltonian.ground_energy()
        self.random_halting = bool(random_halting)
        n = self.hamiltonian.n_qubits
        super().__init__(n, render_mode, seed)
        defaults = preset_defaults(preset, n, ("crlqas",))
        self.noise = resolve_noise(noise if noise is not None else defaults["noise"])
        table = ActionTable(gate_set or defaults["gate_set"], n, connectivity, free_angles=True)
        register = Register(n, self.noise)
        limit = check_max_gates(max_gates if max_gates is not None else defaults["max_gates"])
        bound = float(sum(abs(c) for c, _ in self.hamiltonian.terms))
        kind = observation or defaults["observation"]
        e_min = self.exact_energy if min_energy is None else min_energy
        scheme = resolve_reward(reward or defaults["reward"], threshold, energy=True, min_energy=e_min)

        allowed = ("circuit+energy", "circuit", "encoding", "pauli")
        observe = functools.partial(
            make_observation, kind, allowed, table, register, limit, value_bounds=(-bound, bound)
        )
        self._build = functools.partial(EnergySearch, table, register, self.hamiltonian, observe, scheme, limit)
        self.search = self._build(1)
        self._setup_spaces(table)

    def draw_limits(self, rng: np.random.Generator, count: int) -> np.ndarray | None:
        """CRLQAS' random halting: each episode ends after ``clip(NegBin(D, 0.573), 25 D / 70, D)`` gates.

        CRLQAS draws ``clip(NegBin(70, 0.573), 25, 70)`` (mean ~52) for D = 70; other limits D are scaled alike.
        """
        if not self.random_halting:
            return None
        limit = self.search.max_gates
        return np.clip(rng.negative_binomial(limit, 0.573, size=count), round(25 * limit / 70), limit)

    def _info(self) -> dict:
        info = super()._info()
        info["energy_error"] = info["energy"] - self.exact_energy
        return info
