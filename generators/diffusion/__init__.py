"""Multimodal diffusion circuit generator: give a unitary, get circuits.

A masked (absorbing) diffusion over per-step gate placements and a Gaussian diffusion over their angles, denoised
jointly by one small transformer conditioned on the target unitary, the allowed gates and the qubit count (a plain
vector: no text encoder, nothing to download). Sampling honours gate sets, coupling maps and fixed steps exactly;
the best samples' angles are fitted (Levenberg-Marquardt) so a right structure becomes an exact compilation.

Modules, in pipeline order: :mod:`.placements` (token vocabulary and batched simulator), :mod:`.dataset`,
:mod:`.schedule`, :mod:`.model`, :mod:`.train`, :mod:`.sample`, :mod:`.refine` (angle fitting with the core's
:mod:`qas.least_squares`, pruning, repair), :mod:`.lookup` (exact completion from a table of short circuits),
:mod:`.skeleton` (Euler ansatzes of the samples' entangling structure), :mod:`.pipeline`
(:class:`~.pipeline.DiffusionGenerator`), :mod:`.compiler` (``qas.compile(method="diffusion")``) and :mod:`.cli`.
Kept import-free so that ``import qas.generators.diffusion`` does not load torch.
"""
