"""The DiffQAS supernet: every candidate of every position at once, mixed by softmax structure weights.

At position k with candidates U_k1 .. U_kC and structure logits alpha_k, the supernet maps a state to

    psi_{k+1} = normalise( sum_j softmax(alpha_k / T)_j  U_kj(theta_kj) psi_k )

This is the supernet variant of DQAS (Zhang et al. 2020, "Differentiable Quantum Architecture Search", the
softmax-weighted sum of candidate operators with the state renormalised), which lets the structure logits alpha and
the circuit weights theta train by plain gradient descent. DiffQAS-QRL (Chen 2024) mixes whole candidate circuits
the same way; mixing per position keeps the cost linear in the number of positions instead of exponential.

DQAS' other variant, the probabilistic ensemble, samples whole architectures from the same softmax instead: with
``choices`` (from :meth:`Supernet.sample`) each input passes through its own architecture alone, and the structure
logits learn from :meth:`Supernet.log_probability` by the score-function (REINFORCE) gradient. The A3C policy search
uses it (``A3CConfig.structure``), where the mixture's ranking favoured the parameter-free candidates.

Each (position, candidate) owns its circuit weights, so a candidate's angles are learnt for that slot. A position
with one candidate is applied exactly, so a supernet over a one-architecture space (:meth:`Supernet.fixed`) is
simply that parametrised circuit: the same module trains hand-designed circuits and derived architectures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from qas.circuit import Circuit
from qas.errors import QasError
from qas.generators.diffqas.space import THETA, SearchSpace
from qas.sim import torch_backend as tb

_REAL = {torch.complex64: torch.float32, torch.complex128: torch.float64}


@dataclass(frozen=True)
class _CompiledGate:
    """One gate with its angle sources resolved to tensor indices (built once; the forward pass only gathers)."""

    gate: str
    qubits: tuple[int, ...]
    weight_index: tuple[int, ...]  # into the flat theta vector, -1 where the angle is not trainable
    input_index: tuple[int, ...]  # into the input features, -1 where the angle is not an input
    constant: tuple[float, ...]  # the fixed angle where both indices are -1


class Supernet(nn.Module):
    """Softmax mixture of a :class:`SearchSpace`'s candidates, differentiable in structure and circuit weights.

    Args:
        space: the search space.
        init_std: circuit weights start as N(0, init_std^2) (small angles: every candidate starts near identity).
        temperature: the softmax temperature T (lower is closer to a hard choice).
        dtype: complex64 (fast) or complex128 (accurate gradients; the default).
        generator: seeds the initial circuit weights.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        init_std: float = 0.1,
        temperature: float = 1.0,
        dtype: torch.dtype = torch.complex128,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if dtype not in _REAL:
            raise QasError(f"supernet dtype must be torch.complex64 or torch.complex128, got {dtype}")
        self.space = space
        self.dtype = dtype
        self.temperature = temperature
        self.alphas = nn.ParameterList(
            [nn.Parameter(torch.zeros(len(cands), dtype=_REAL[dtype])) for cands in space.positions]
        )
        # Weight slices: candidate (k, j) owns theta[offsets[k][j] : offsets[k][j] + num_weights].
        self._offsets: list[list[int]] = []
        self._gates: list[list[list[_CompiledGate]]] = []
        total = 0
        for cands in space.positions:
            self._offsets.append([])
            self._gates.append([])
            for cand in cands:
                self._offsets[-1].append(total)
                self._gates[-1].append(_compile(cand.gates, total))
                total += cand.num_weights
        self.theta = nn.Parameter(torch.randn(total, generator=generator, dtype=_REAL[dtype]) * init_std)
        self._reads_inputs = [any(c.num_inputs for c in cands) for cands in space.positions]
        self._operator_cache: dict[tuple[int, int], tuple[int, torch.Tensor]] = {}

    # ----- parameters -----------------------------------------------------------------------------------------------
    def structure_parameters(self) -> list[nn.Parameter]:
        return list(self.alphas)

    def circuit_parameters(self) -> list[nn.Parameter]:
        return [self.theta]

    def probabilities(self) -> list[torch.Tensor]:
        """softmax(alpha_k / T) for every position k (differentiable)."""
        return [torch.softmax(a / self.temperature, dim=0) for a in self.alphas]

    def candidate_weights(self, position: int, candidate: int) -> torch.Tensor:
        start = self._offsets[position][candidate]
        return self.theta[start : start + self.space.positions[position][candidate].num_weights]

    # ----- forward --------------------------------------------------------------------------------------------------
    def forward(
        self,
        inputs: torch.Tensor | None = None,
        initial_states: torch.Tensor | None = None,
        choices: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mixed, normalised output states ``(B, 2**n)``, or with ``choices`` each sample's own architecture's.

        Args:
            inputs: input features ``(B, F)`` for spaces with encoding candidates (``xI`` angles), else None.
            initial_states: ``(B, 2**n)`` start states (e.g. the basis states, for a unitary); default one |0...0>.
            choices: ``(B, positions)`` candidate indices (e.g. from :meth:`sample`): sample b passes through exactly
                the candidates ``choices[b]``, with no mixture (DQAS' sampled architectures).
        """
        dim = 2**self.space.n_qubits
        if self.space.num_inputs and inputs is None:
            raise QasError(f"this search space encodes {self.space.num_inputs} input features; pass inputs (B, F)")
        if inputs is not None:
            inputs = inputs.to(_REAL[self.dtype])
            if inputs.ndim != 2 or inputs.shape[1] < self.space.num_inputs:
                raise QasError(f"inputs must have shape (B, >= {self.space.num_inputs}), got {tuple(inputs.shape)}")
        if initial_states is None:
            batch = 1 if inputs is None else inputs.shape[0]
            states = torch.zeros(batch, dim, dtype=self.dtype)
            states[:, 0] = 1
        else:
            states = initial_states.to(self.dtype)
        if choices is not None:
            if choices.shape != (states.shape[0], len(self.space.positions)):
                raise QasError(
                    f"choices must have shape (B, {len(self.space.positions)}) for B = {states.shape[0]} states, "
                    f"got {tuple(choices.shape)}"
                )
            for k, picks in enumerate(choices.T):
                states = self._apply_chosen(k, picks, states, inputs)
            return states
        for k, probs in enumerate(self.probabilities()):
            if self._uses_operators(k):
                operators = torch.stack([self._operator(k, j) for j in range(len(self._gates[k]))])
                mixed = states @ torch.einsum("c,cij->ij", probs.to(self.dtype), operators)
            else:
                outs = [self._apply_candidate(gates, states, inputs) for gates in self._gates[k]]
                mixed = (
                    outs[0] if len(outs) == 1 else torch.einsum("c,cbd->bd", probs.to(self.dtype), torch.stack(outs))
                )
            if len(self._gates[k]) == 1:
                states = mixed
                continue
            # A mixture of unit vectors can be shorter than 1; renormalise as DQAS does (eps guards exact cancellation).
            states = mixed / (torch.linalg.vector_norm(mixed, dim=-1, keepdim=True) + 1e-12)
        return states

    def _uses_operators(self, k: int) -> bool:
        """Whether position ``k`` acts through cached operators: at inference (no gradients), without input angles."""
        return not torch.is_grad_enabled() and not self._reads_inputs[k]

    def _operator(self, k: int, j: int) -> torch.Tensor:
        """The transposed operator ``U_kj^T`` of the input-free candidate ``j`` of position ``k``, for ``states @ op``.

        Inference only: it is cached until the circuit weights change (their in-place version counter moves), so an
        RL rollout of many small forward passes pays for the position's gates once, not at every step; the mixture
        and the sampled architectures (``choices``) share it.
        """
        key = self.theta._version
        cached = self._operator_cache.get((k, j))
        if cached is not None and cached[0] == key:
            return cached[1]
        eye = torch.eye(2**self.space.n_qubits, dtype=self.dtype)  # row i evolves into (U|i>)^T
        rows = self._apply_candidate(self._gates[k][j], eye, None)
        self._operator_cache[(k, j)] = (key, rows)
        return rows

    def __getstate__(self) -> dict:
        # A copy (deepcopy, pickling to a worker) restarts its weights' version counters at 0, so operators cached
        # under this net's counters would match the copy's later, different weights: copies start with no cache.
        return {**self.__dict__, "_operator_cache": {}}

    def clear_cache(self) -> None:
        """Forget the cached inference operators; needed only after another process changed the (shared) weights,
        which this process's version counters cannot see."""
        self._operator_cache.clear()

    def _apply_chosen(
        self, k: int, picks: torch.Tensor, states: torch.Tensor, inputs: torch.Tensor | None
    ) -> torch.Tensor:
        """Position ``k`` applied to each state with its own candidate ``picks[b]`` (one batch per candidate)."""
        if len(self._gates[k]) == 1:
            return self._apply_one(k, 0, states, inputs)
        out = torch.zeros_like(states)
        for j in picks.unique().tolist():
            rows = torch.nonzero(picks == j)[:, 0]
            chosen = self._apply_one(k, j, states[rows], None if inputs is None else inputs[rows])
            out = out.index_copy(0, rows, chosen)
        return out

    def _apply_one(self, k: int, j: int, states: torch.Tensor, inputs: torch.Tensor | None) -> torch.Tensor:
        """Candidate ``j`` of position ``k`` applied to ``states``: by its cached operator where one applies."""
        if self._uses_operators(k):
            return states @ self._operator(k, j)
        return self._apply_candidate(self._gates[k][j], states, inputs)

    def _apply_candidate(
        self, gates: list[_CompiledGate], states: torch.Tensor, inputs: torch.Tensor | None
    ) -> torch.Tensor:
        n = self.space.n_qubits
        for g in gates:
            matrix = tb.gate_matrices(g.gate, self._angles(g, inputs), dtype=self.dtype)
            states = tb.apply_gate(states, matrix, g.qubits, n)
        return states

    def _angles(self, g: _CompiledGate, inputs: torch.Tensor | None) -> torch.Tensor | None:
        """``(P,)`` angles, or ``(B, P)`` when any angle is an input feature; None for a gate without angles."""
        if not g.constant:
            return None
        real = _REAL[self.dtype]
        per_sample = any(i >= 0 for i in g.input_index)
        columns = []
        for w, i, c in zip(g.weight_index, g.input_index, g.constant, strict=True):
            if w >= 0:
                value = self.theta[w]
            elif i >= 0:
                value = inputs[:, i]  # type: ignore[index]  # forward checked that inputs are given
            else:
                value = torch.tensor(c, dtype=real)
            columns.append(value.expand(inputs.shape[0]) if per_sample and value.ndim == 0 else value)  # type: ignore[union-attr]
        return torch.stack(columns, dim=-1)

    # ----- architectures --------------------------------------------------------------------------------------------
    def choice(
        self, mode: str = "argmax", generator: torch.Generator | None = None, *, tied: bool = False
    ) -> list[int]:
        """One candidate per position: the most probable (``argmax``) or drawn from the softmax (``sample``)."""
        return self.choices(1, mode, generator, tied=tied)[0]

    def choices(
        self, k: int, mode: str = "argmax", generator: torch.Generator | None = None, *, tied: bool = False
    ) -> list[list[int]]:
        """The ``k`` most probable architectures, best first (``argmax``), or ``k`` drawn from the softmax.

        With ``tied``, only architectures that repeat one layer block (:attr:`SearchSpace.period`), as hand-designed
        circuits and DARTS' stacked cells do: a block candidate's log-probability sums those of its repeats.
        """
        if mode == "sample":
            return self.sample(k, generator, tied=tied).tolist()
        if mode != "argmax":
            raise QasError(f"unknown derive mode {mode!r}; use 'argmax' or 'sample'")
        with torch.no_grad():
            log_probs = self.block_log_probabilities(tied)
        repeats = len(self.space.positions) // len(log_probs)
        # Beam search is exact here: positions are independent, so the k best prefixes extend to the k best.
        beam: list[tuple[float, list[int]]] = [(0.0, [])]
        for lp in log_probs:
            beam = sorted(
                ((score + float(lp[j]), [*prefix, j]) for score, prefix in beam for j in range(len(lp))),
                key=lambda item: -item[0],
            )[:k]
        return [prefix * repeats for _, prefix in beam]

    def block_log_probabilities(self, tied: bool = False) -> list[torch.Tensor]:
        """Log-probabilities of the candidates of every position (differentiable), or with ``tied`` of every block
        position: the softmax of the sum of its repeats' logits, i.e. the block distribution that repeats one block."""
        period = self.space.period if tied else len(self.alphas)
        repeats = len(self.alphas) // period
        logits = [sum(self.alphas[r * period + i] for r in range(repeats)) / self.temperature for i in range(period)]
        return [torch.log_softmax(lg, 0) for lg in logits]  # type: ignore[arg-type]

    def sample(self, n: int, generator: torch.Generator | None = None, *, tied: bool = False) -> torch.Tensor:
        """``(n, positions)`` architectures drawn from the structure distribution (repeating one block if ``tied``)."""
        with torch.no_grad():
            log_probs = self.block_log_probabilities(tied)
        blocks = torch.stack(
            [torch.multinomial(lp.exp(), n, replacement=True, generator=generator) for lp in log_probs], 1
        )
        return blocks.repeat(1, len(self.space.positions) // len(log_probs))

    def log_probability(self, choices: torch.Tensor, *, tied: bool = False) -> torch.Tensor:
        """``(n,)`` log-probabilities of architectures ``choices`` ``(n, positions)`` under the structure distribution
        (of blocks if ``tied``); differentiable in the structure logits, for score-function (REINFORCE) gradients."""
        log_probs = self.block_log_probabilities(tied)
        return torch.stack([lp[choices[:, i]] for i, lp in enumerate(log_probs)], 1).sum(1)

    def circuit(self, choice: Sequence[int], inputs: Sequence[float] | None = None) -> Circuit:
        """The :class:`qas.Circuit` of architecture ``choice`` with the supernet's current weights for it."""
        weights = [self.candidate_weights(k, j).detach().tolist() for k, j in enumerate(choice)]
        return self.space.circuit(choice, weights, inputs)

    def fixed(self, choice: Sequence[int]) -> Supernet:
        """A supernet over the single architecture ``choice`` (a plain circuit), starting from these weights."""
        net = Supernet(self.space.fixed(choice), dtype=self.dtype, init_std=0.0)
        with torch.no_grad():
            net.theta.copy_(torch.cat([self.candidate_weights(k, j) for k, j in enumerate(choice)]))
        return net


def _compile(gates: Sequence, offset: int) -> list[_CompiledGate]:
    out = []
    w = offset
    for g in gates:
        weight_index, input_index, constant = [], [], []
        for a in g.angles:
            if a == THETA:
                weight_index.append(w)
                input_index.append(-1)
                w += 1
            elif isinstance(a, str):
                weight_index.append(-1)
                input_index.append(int(a[1:]))
            else:
                weight_index.append(-1)
                input_index.append(-1)
            constant.append(float(a) if not isinstance(a, str) else 0.0)
        out.append(_CompiledGate(g.gate, g.qubits, tuple(weight_index), tuple(input_index), tuple(constant)))
    return out
