"""Moduli regularisation (Mackey, Cheng, Gong, Pfaff, Wang, 2024, "Geometric sparsification in
recurrent neural networks").

Each hidden unit i gets a fixed random position x_i on a manifold; the regulariser adds
``lambda * mean_ij(R_ij |W_hh,ij|)`` with ``R_ij = f(d(x_i, x_j))`` to the loss, so long
connections cost more; global L1 magnitude pruning ramps the sparsity linearly to the target.

Manifolds and their geodesic distance d (positions uniform on the manifold):
- ``circle``, ``sphere`` (S^2), ``s3`` (S^3): unit vectors, ``d = radius * arccos(<x, y>)``.
- ``torus`` ([0, L)^2) and ``torus6`` ([0, L)^6), L = 10: Euclidean with wrap-around,
  ``d = sqrt(sum_k min(|dx_k|, L - |dx_k|)^2)``.
- ``klein``: [0, L)^2 with ``(x, y) ~ (x, y + L)`` and the glide reflection
  ``(x, y) ~ (x + L, -y)``; d is the minimum Euclidean distance over the images
  ``(x' + m L, (-1)^m y' + n L)``, m in {-1, 0, 1}, n in {-1, 0, 1, 2}.

Inhibitor functions f (all >= 0; sigma and wavelength are options):
- ``square``: ``d^2`` (diagonal 0)
- ``gaussian``: ``1 - exp(-d^2 / (2 sigma^2))`` (diagonal 0)
- ``dog`` (difference of Gaussians): ``1 - [exp(-d^2/(2 sigma^2)) - 0.5 exp(-d^2/(8 sigma^2))]``
  (diagonal 0.5; near cheap, a ring around 2 sigma most expensive, far 1)
- ``ripple``: ``1 - cos(2 pi d / wavelength)`` (diagonal 0)
- ``constant``: 1 (diagonal 1; the regulariser is then plain L1)
``invert`` maps R to ``max(R) + min(R) - R`` (same range, profile flipped; diagonal becomes
``max + min - f(0)``). ``permuted`` is the control: the upper-triangle entries of R are shuffled
and mirrored, keeping R symmetric and its diagonal but destroying the geometry.
"""

from __future__ import annotations

import numpy as np
import torch

from sparsetopo.errors import InputError
from sparsetopo.training.models import check_name
from sparsetopo.training.sparsify.base import Strategy, prune_to
from sparsetopo.training.sparsify.schedules import linear_sparsity

MANIFOLDS = ("circle", "sphere", "s3", "torus", "torus6", "klein")
INHIBITORS = ("square", "dog", "gaussian", "ripple", "constant")
TORUS_SIDE = 10.0


def sample_positions(manifold: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniformly random points on ``manifold`` (rows)."""
    check_name("manifold", manifold, MANIFOLDS)
    if manifold in ("circle", "sphere", "s3"):
        dim = {"circle": 2, "sphere": 3, "s3": 4}[manifold]
        v = rng.standard_normal((n, dim))
        return v / np.linalg.norm(v, axis=1, keepdims=True)
    dim = 6 if manifold == "torus6" else 2
    return rng.uniform(0.0, TORUS_SIDE, size=(n, dim))


def distance_matrix(
    manifold: str, x: np.ndarray, y: np.ndarray | None = None, *, radius: float = 1.0,
    side: float = TORUS_SIDE,
) -> np.ndarray:
    """Geodesic distances between the rows of ``x`` and of ``y`` (default ``x``) on ``manifold``."""
    check_name("manifold", manifold, MANIFOLDS)
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = x if y is None else np.atleast_2d(np.asarray(y, dtype=np.float64))
    if manifold in ("circle", "sphere", "s3"):
        cos = np.clip(x @ y.T, -1.0, 1.0)
        return radius * np.arccos(cos)
    if manifold in ("torus", "torus6"):
        diff = np.abs(x[:, None, :] - y[None, :, :])
        wrapped = np.minimum(diff, side - diff)
        return np.sqrt((wrapped**2).sum(axis=-1))
    best = np.full((x.shape[0], y.shape[0]), np.inf)
    for m in (-1, 0, 1):
        for k in (-1, 0, 1, 2):
            ix = y[:, 0] + m * side
            iy = (-1) ** m * y[:, 1] + k * side
            d = np.hypot(x[:, 0:1] - ix[None, :], x[:, 1:2] - iy[None, :])
            best = np.minimum(best, d)
    return best


def inhibitor(name: str, d: np.ndarray, *, sigma: float = 1.0, wavelength: float = 2.0) -> np.ndarray:
    """Apply inhibitor function ``name`` elementwise to distances ``d``."""
    check_name("inhibitor", name, INHIBITORS)
    d = np.asarray(d, dtype=np.float64)
    if name == "square":
        return d**2
    if name == "gaussian":
        return 1.0 - np.exp(-(d**2) / (2 * sigma**2))
    if name == "dog":
        return 1.0 - (np.exp(-(d**2) / (2 * sigma**2)) - 0.5 * np.exp(-(d**2) / (8 * sigma**2)))
    if name == "ripple":
        return 1.0 - np.cos(2 * np.pi * d / wavelength)
    return np.ones_like(d)


def regulariser_matrix(
    manifold: str, n: int, rng: np.random.Generator, *, function: str = "square",
    sigma: float = 1.0, wavelength: float = 2.0, invert: bool = False, permuted: bool = False,
) -> np.ndarray:
    """The n x n matrix R for ``n`` units at fresh random positions on ``manifold``."""
    pos = sample_positions(manifold, n, rng)
    r = inhibitor(function, distance_matrix(manifold, pos), sigma=sigma, wavelength=wavelength)
    if invert:
        r = r.max() + r.min() - r
    if permuted:
        iu = np.triu_indices(n, k=1)
        vals = r[iu].copy()
        rng.shuffle(vals)
        r = r.copy()
        r[iu] = vals
        r[(iu[1], iu[0])] = vals
    return r


class ModuliRegularisation(Strategy):
    """Moduli regulariser on the recurrent matrices plus global L1 magnitude pruning ramped
    linearly from step ``start * T`` to ``end * T`` (defaults 0 and 0.75), pruning every
    ``prune_every`` steps (default: once per epoch).

    Options: ``manifold`` (default torus), ``function`` (default square), ``lam`` (lambda, default
    1e-2), ``sigma``, ``wavelength``, ``invert``, ``permuted``. Non-recurrent targets (scope all)
    are pruned but not regularised. For GRU/LSTM the same R applies to every gate block.
    """

    name = "moduli"

    def __init__(
        self, sparsity: float, *, seed: int = 0, granularity: str = "global",
        manifold: str = "torus", function: str = "square", lam: float = 1e-2,
        sigma: float = 1.0, wavelength: float = 2.0, invert: bool = False,
        permuted: bool = False, start: float = 0.0, end: float = 0.75,
        prune_every: int | None = None,
    ) -> None:
        super().__init__(sparsity, seed=seed, granularity=granularity)
        check_name("manifold", manifold, MANIFOLDS)
        check_name("inhibitor", function, INHIBITORS)
        if lam < 0:
            raise InputError(f"moduli lam must be >= 0, got {lam}")
        self.manifold, self.function, self.lam = manifold, function, lam
        self.sigma, self.wavelength, self.invert, self.permuted = sigma, wavelength, invert, permuted
        self.start, self.end, self.prune_every = start, end, prune_every
        self.r: dict[str, torch.Tensor] = {}
        self.t0 = self.t1 = 0
        self.every = 1

    def on_attach(self) -> None:
        for t in self.targets:
            if not t.recurrent:
                continue
            rows, cols = t.shape
            r = regulariser_matrix(
                self.manifold, cols, self.rng, function=self.function, sigma=self.sigma,
                wavelength=self.wavelength, invert=self.invert, permuted=self.permuted,
            )
            self.r[t.label] = torch.tensor(np.tile(r, (rows // cols, 1)), dtype=torch.float32)
        if not self.r:
            raise InputError(
                "moduli regularisation needs a recurrent matrix; use model rnn, ctrnn, gru or lstm"
            )
        total = self.plan.total_steps
        self.t0 = round(self.start * total)
        self.t1 = max(self.t0 + 1, round(self.end * total))
        self.every = self.prune_every or self.plan.steps_per_epoch

    def penalty(self) -> torch.Tensor | None:
        if self.lam == 0:
            return None
        terms = [
            (self.r[t.label] * getattr(t.module, t.name).abs()).mean()
            for t in self.targets
            if t.label in self.r
        ]
        return self.lam * torch.stack(terms).sum()

    def sparsity_at(self, step: int) -> float:
        return linear_sparsity(step - self.t0, self.t1 - self.t0, self.target_sparsity)

    def after_step(self, step: int) -> None:
        if self.t0 < step <= self.t1 and ((step - self.t0) % self.every == 0 or step == self.t1):
            prune_to(self.targets, self.sparsity_at(step), self.granularity)
