"""Deletion and insertion curves and their areas (Petsiuk et al. 2018, RISE, §4.1).

Deletion removes the most relevant features first — each removed feature takes the
``baseline`` value — and records the target's score after every step; a faithful map makes
the score fall fast (small area, lower is better). Insertion starts from the baseline and
puts the most relevant features back first; a faithful map makes the score rise fast
(large area, higher is better). RISE deletes to zeros and inserts into a blurred copy of
the image: pass that copy as ``baseline`` for the insertion curve.

Conventions. Features are ranked by the map's value, highest first (pass ``|map|`` to rank
by magnitude), ties by position. With n features and ``steps`` S, step k (k = 0..S)
removes (inserts) the first ⌊k·n / S⌋ features; the curve's x-axis is that count / n (from
0 to 1) and the area is the trapezoid rule over it. Scores are the softmax probability of
the target class (``output="probability"``, the RISE definition) or its logit
(``output="logit"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from dance_tf.metrics import metric_inputs as mi
from dance_tf.metrics.class_scores import ClassScores, score_rows

if TYPE_CHECKING:
    import keras
    from numpy.typing import ArrayLike


class Curve(NamedTuple):
    """fractions: (S + 1,) share of features removed (deletion) or inserted (insertion),
    0 to 1; scores: (N, S + 1) the target's score after each step (float64)."""

    fractions: np.ndarray
    scores: np.ndarray


def feature_ranks(maps: np.ndarray) -> np.ndarray:
    """(N, *F) maps → (N, *F) int64 rank of each feature, 0 = highest value (stable ties)."""
    flat = maps.reshape(len(maps), -1)
    order = np.argsort(-flat, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(flat.shape[1])[None], axis=1)
    return ranks.reshape(maps.shape)


def step_counts(n_features: int, steps: int) -> np.ndarray:
    """(S + 1,) features removed after each step: ⌊k · n / S⌋, k = 0..S."""
    return (np.arange(steps + 1, dtype=np.int64) * n_features) // steps


def _curve(model, x, maps, targets, *, insert: bool, steps: int, baseline, output: str,
           batch_size: int) -> Curve:
    x = mi.batch("x", x)
    m = mi.feature_maps(maps, x.shape)
    t = mi.targets(targets, len(x))
    steps = mi.count("steps", steps)
    batch_size = mi.count("batch_size", batch_size)
    fill = mi.fill_value("baseline", baseline, x.shape)
    ranks = feature_ranks(m)
    counts = step_counts(int(np.prod(m.shape[1:])), steps)
    scores = ClassScores(model, x.shape[1:], output)
    per = steps + 1

    def make(idx):
        i, k = idx // per, idx % per
        chosen = mi.broadcast_features(ranks[i] < counts[k].reshape((-1,) + (1,) * (m.ndim - 1)),
                                       x.shape)
        if insert:
            return np.where(chosen, x[i], fill[i]), t[i]
        return np.where(chosen, fill[i], x[i]), t[i]

    out = score_rows(scores, len(x) * per, make, batch_size).reshape(len(x), per)
    return Curve(counts / counts[-1], out)


def deletion_curve(model, x, maps, targets, *, steps: int = 50, baseline=0.0,
                   output: str = "probability", batch_size: int = 64) -> Curve:
    """Deletion curve (Petsiuk et al. 2018): the target's score as the most relevant
    features are set to ``baseline``, ``steps`` steps from none to all.

    model: a Keras classifier (a final softmax is stripped and re-applied once); x: (N, *X)
    inputs; maps: (N, *F) one score per feature (F the leading axes of X, e.g. (H, W)) or
    shaped like x (ranked per element); targets: (N,) classes; baseline: the fill value, a
    scalar or an array broadcastable to x (e.g. per-channel means); output: "probability"
    (softmax of the target, default) or "logit"; batch_size: perturbed inputs per model
    call. Returns a :class:`Curve`.
    """
    return _curve(model, x, maps, targets, insert=False, steps=steps, baseline=baseline,
                  output=output, batch_size=batch_size)


def insertion_curve(model, x, maps, targets, *, steps: int = 50, baseline=0.0,
                    output: str = "probability", batch_size: int = 64) -> Curve:
    """Insertion curve (Petsiuk et al. 2018): the target's score as the most relevant
    features of x are put into ``baseline`` (RISE: a blurred copy of x), none to all.
    Arguments as :func:`deletion_curve`."""
    return _curve(model, x, maps, targets, insert=True, steps=steps, baseline=baseline,
                  output=output, batch_size=batch_size)


def curve_area(curve: Curve) -> np.ndarray:
    """Trapezoid area under each row of a curve over its fractions: (N,) float64."""
    return np.trapezoid(curve.scores, curve.fractions, axis=1)


def _area(curve: Curve, return_curve: bool):
    if not isinstance(return_curve, bool):
        raise TypeError(f"return_curve: expected a bool, got {return_curve!r}")
    return (curve_area(curve), curve.scores) if return_curve else curve_area(curve)


def deletion_auc(model: keras.Model, x: ArrayLike, maps: ArrayLike, targets: ArrayLike, *,
                 return_curve: bool = False, **options):
    """Area under the deletion curve, (N,) float64 (Petsiuk et al. 2018; lower is better).
    Options as :func:`deletion_curve` (steps = 50, baseline = 0, output = "probability");
    return_curve: also return the curve, (areas (N,), scores (N, steps + 1))."""
    return _area(deletion_curve(model, x, maps, targets, **options), return_curve)


def insertion_auc(model: keras.Model, x: ArrayLike, maps: ArrayLike, targets: ArrayLike, *,
                  return_curve: bool = False, **options):
    """Area under the insertion curve, (N,) float64 (Petsiuk et al. 2018; higher is
    better). Options as :func:`insertion_curve`; return_curve as :func:`deletion_auc`."""
    return _area(insertion_curve(model, x, maps, targets, **options), return_curve)
