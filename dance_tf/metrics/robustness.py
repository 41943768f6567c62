"""Max- and avg-sensitivity under random perturbations (Yeh, Hsieh, Suggala, Inouye &
Ravikumar 2019, "On the (in)fidelity and sensitivity of explanations", NeurIPS, §4).

For each input x, ``samples`` perturbations δ are drawn uniformly from the L∞ ball of
radius r (each element uniform in [−r, r]); the explanation is recomputed on x + δ for the
same target class. Each draw gives the relative change

    ‖Φ(x + δ) − Φ(x)‖₂ / ‖Φ(x)‖₂        (Frobenius norms over the whole map)

max-sensitivity is its maximum over the draws (a Monte-Carlo lower estimate of the max
over the ball), avg-sensitivity its mean. Yeh et al. define the unnormalised numerator;
we divide by ‖Φ(x)‖₂ (as Quantus does) so maps of different scales compare. Lower is
better for both. A map with ‖Φ(x)‖ = 0 gives NaN and a RuntimeWarning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from dance_tf import validate
from dance_tf.errors import InputError
from dance_tf.metrics import metric_inputs as mi

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def _maps(explain_fn, x, t, name: str) -> np.ndarray:
    out = validate.finite_array(f"{name} (explain_fn's maps)", explain_fn(x, t),
                                dtype=np.float64)
    if out.ndim < 2 or len(out) != len(x):
        raise InputError(f"explain_fn: expected maps (N, ...) with N = {len(x)}, got "
                         f"{out.shape}")
    return out.reshape(len(out), -1)


def relative_changes(explain_fn: Callable, x: ArrayLike, targets: ArrayLike, *, radius: float = 0.2,
                     samples: int = 10, seed: int = 0, batch_size: int = 64) -> np.ndarray:
    """(N, samples) ‖Φ(x + δ) − Φ(x)‖₂ / ‖Φ(x)‖₂ for δ uniform in the L∞ ball (Yeh 2019).

    explain_fn(x, targets) → maps (B, ...): any explainer (called once on x, then once per
    ``batch_size`` perturbed inputs); x: (N, ...) inputs; targets: (N,) classes, kept for
    every perturbed copy; radius: r > 0 in the inputs' units (the default 0.2 is Yeh et
    al.'s and Quantus' for inputs scaled to unit range; scale it for 0–255 inputs);
    samples: draws per input; seed: each input has its own stream (seed, index), so results
    do not depend on batch_size. NaN where ‖Φ(x)‖ = 0.
    """
    if not callable(explain_fn):
        raise TypeError(f"explain_fn: expected a callable (x, targets) -> maps, got "
                        f"{type(explain_fn).__name__}")
    x = mi.batch("x", x)
    t = mi.targets(targets, len(x))
    radius = validate.number("radius", radius, low=0, low_open=True)
    samples = mi.count("samples", samples)
    seed = validate.seed("seed", seed)
    batch_size = mi.count("batch_size", batch_size)
    base = _maps(explain_fn, x, t, "maps")
    rows = len(x) * samples
    diff = np.empty(rows)
    for start in range(0, rows, batch_size):
        idx = np.arange(start, min(rows, start + batch_size))
        i, k = idx // samples, idx % samples
        draws = {a: np.random.default_rng([seed, a]).uniform(-radius, radius,
                                                               (samples,) + x.shape[1:])
                 for a in np.unique(i)}     # an input's stream, whichever batch it is in
        moved = np.stack([x[a] + draws[a][b] for a, b in zip(i, k)]).astype(np.float32)
        got = _maps(explain_fn, moved, t[i], "perturbed maps")
        if got.shape[1] != base.shape[1]:
            raise InputError(f"explain_fn: maps of {got.shape[1]} values on perturbed inputs, "
                             f"{base.shape[1]} on x")
        diff[idx] = np.linalg.norm(got - base[i], axis=1)
    norm = np.linalg.norm(base, axis=1)
    bad = norm == 0
    mi.undefined("sensitivity", bad, "an all-zero map at x")
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = diff.reshape(len(x), samples) / np.where(bad, np.nan, norm)[:, None]
    return rel


def max_sensitivity(explain_fn: Callable, x: ArrayLike, targets: ArrayLike,
                    **options) -> np.ndarray:
    """Max-sensitivity (Yeh et al. 2019): max over draws of the relative map change,
    (N,) float64, lower is better. Options as :func:`relative_changes` (radius = 0.2,
    samples = 10, seed = 0, batch_size = 64)."""
    return relative_changes(explain_fn, x, targets, **options).max(axis=1)


def avg_sensitivity(explain_fn: Callable, x: ArrayLike, targets: ArrayLike,
                    **options) -> np.ndarray:
    """Avg-sensitivity (Yeh et al. 2019): mean over draws of the relative map change,
    (N,) float64, lower is better. Options as :func:`relative_changes`."""
    return relative_changes(explain_fn, x, targets, **options).mean(axis=1)
