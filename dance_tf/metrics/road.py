"""ROAD: RemOve And Debias (Rong, Leemann, Borisov, Kasneci & Kasneci 2022, ICML).

At each fraction p a share p of the pixels is removed — the most relevant first (MoRF) or
the least relevant first (LeRF) — and replaced by noisy linear imputation
(:mod:`dance_tf.metrics.imputation`), which leaks less of the removed shape to the model
than a constant fill; no retraining. Rong et al. report accuracy over a data set; per input
we record the target's softmax probability (``output="probability"``, default) or logit.

Scores, (N,) float64, averaged over the fractions:
  * ``order="gap"`` (default): mean over p of LeRF(p) − MoRF(p); higher is better (a
    faithful map keeps the score when unimportant pixels go and loses it when important
    ones go). Rong et al. read the two curves together; the gap is one number for both.
  * ``order="morf"``: mean MoRF score, lower is better.
  * ``order="lerf"``: mean LeRF score, higher is better.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from dance_tf import validate
from dance_tf.errors import InputError
from dance_tf.metrics import metric_inputs as mi
from dance_tf.metrics.class_scores import ClassScores, score_rows
from dance_tf.metrics.deletion import feature_ranks
from dance_tf.metrics.imputation import noisy_linear_impute

if TYPE_CHECKING:
    import keras
    from numpy.typing import ArrayLike

ORDERS = ("gap", "morf", "lerf")
FRACTIONS = (0.1, 0.3, 0.5, 0.7, 0.9)


class RoadCurves(NamedTuple):
    """fractions: (P,) shares removed; morf, lerf: (N, P) the target's score after
    removing the most / least relevant pixels (float64; None for an order not run)."""

    fractions: np.ndarray
    morf: np.ndarray | None
    lerf: np.ndarray | None


def removed_count(fraction: float, n: int) -> int:
    """Pixels removed at ``fraction`` of n: round(fraction · n), within [1, n − 1]."""
    return min(n - 1, max(1, int(round(fraction * n))))


def _images(x, maps):
    x = mi.batch("x", x, min_ndim=3)
    if x.ndim > 4:
        raise InputError(f"x: expected images (N, H, W) or (N, H, W, C), got {x.shape}")
    m = mi.feature_maps(maps, x.shape)
    if m.ndim < 3:
        raise InputError(f"maps: expected per-pixel (N, H, W) or per-element maps, got "
                         f"{m.shape}")
    return x, m


def road_curves(model: keras.Model, x: ArrayLike, maps: ArrayLike, targets: ArrayLike, *,
                fractions=FRACTIONS, orders=("morf", "lerf"),
                noise: float = 0.01, output: str = "probability", seed: int = 0,
                batch_size: int = 32) -> RoadCurves:
    """MoRF and LeRF curves with noisy linear imputation (Rong et al. 2022).

    x: (N, H, W, C) or (N, H, W) images; maps: (N, H, W) one score per pixel (all channels
    removed together) or shaped like x (each channel ranked and removed on its own);
    ranked by value, highest = most relevant (pass |map| to rank by magnitude); targets:
    (N,); fractions: shares removed, each in (0, 1) (at fraction p, round(p · n) of the n
    features go); orders: "morf" and / or "lerf"; noise: std of the imputation noise in
    input units (Rong et al.: 0.01 on normalised images); seed: the noise's seed (each
    perturbed input has its own stream, so results do not depend on batch_size);
    batch_size: imputed inputs per model call.
    """
    x, m = _images(x, maps)
    t = mi.targets(targets, len(x))
    fr = validate.fractions("fractions", fractions)
    if any(p >= 1 for p in fr):
        raise InputError(f"fractions: expected shares in (0, 1), got {list(fr)}")
    if isinstance(orders, str) or not set(orders) <= {"morf", "lerf"} or not orders:
        raise InputError(f"orders: expected a non-empty subset of ('morf', 'lerf'), got "
                         f"{orders!r}")
    orders = tuple(dict.fromkeys(orders))
    noise = validate.number("noise", noise, **validate.NONNEG)
    seed = validate.seed("seed", seed)
    batch_size = mi.count("batch_size", batch_size)
    ranks = feature_ranks(m)
    n = int(np.prod(m.shape[1:]))
    counts = np.array([removed_count(p, n) for p in fr])
    scores = ClassScores(model, x.shape[1:], output)
    per = len(orders) * len(fr)

    def make(idx):
        images = []
        for row in idx:
            i, rest = divmod(int(row), per)
            o, p = divmod(rest, len(fr))
            removed = ranks[i] < counts[p] if orders[o] == "morf" else ranks[i] >= n - counts[p]
            rng = np.random.default_rng([seed, int(row)])
            images.append(noisy_linear_impute(x[i], removed, noise, rng))
        return np.stack(images), t[idx // per]

    out = score_rows(scores, len(x) * per, make, batch_size).reshape(len(x), len(orders),
                                                                      len(fr))
    got = {o: out[:, j] for j, o in enumerate(orders)}
    return RoadCurves(np.asarray(fr), got.get("morf"), got.get("lerf"))


def road(model: keras.Model, x: ArrayLike, maps: ArrayLike, targets: ArrayLike, *,
         order: str = "gap", **options) -> np.ndarray:
    """ROAD score per input (Rong et al. 2022), (N,) float64.

    order: "gap" (mean LeRF − MoRF, higher is better; default), "morf" (mean MoRF score,
    lower is better) or "lerf" (mean LeRF score, higher is better). Other options as
    :func:`road_curves` (fractions = 0.1, 0.3, 0.5, 0.7, 0.9; noise = 0.01; output =
    "probability"; seed = 0; batch_size = 32).
    """
    if order not in ORDERS:
        raise InputError(f"order: expected one of {ORDERS}, got {order!r}")
    if "orders" in options:
        raise TypeError("road: give order=, not orders= (road_curves takes orders)")
    orders = ("morf", "lerf") if order == "gap" else (order,)
    curves = road_curves(model, x, maps, targets, orders=orders, **options)
    if order == "gap":
        return (curves.lerf - curves.morf).mean(axis=1)
    return getattr(curves, order).mean(axis=1)
