"""MuFidelity (Bhatt, Weller & Moura 2020, "Evaluating and aggregating feature-based model
explanations", IJCAI, §3.1; higher is better).

For each input, ``subsets`` random subsets S of |S| features are drawn; each is set to the
``baseline`` and the score is the Pearson correlation, over the subsets, between the sum of
the map over S and the drop of the model's score f(x) − f(x with S at the baseline). With
``output="logit"``, a linear model (logits w·x + b), the gradient × input map w ∘ x and a
zero baseline, both sides are equal for every subset, so the score is exactly 1; with the
softmax probability (the default, as in Bhatt et al.) the drop is a non-linear function of
Σ_S w_i x_i and the correlation is below 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dance_tf import validate
from dance_tf.errors import InputError
from dance_tf.metrics import metric_inputs as mi
from dance_tf.metrics.class_scores import ClassScores, score_rows

if TYPE_CHECKING:
    import keras
    from numpy.typing import ArrayLike


def subset_count(value, n_features: int) -> int:
    """|S|: an int count in [1, n − 1], or a float fraction in (0, 1) of n (rounded, ≥ 1)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        size = validate.number("subset_size", value, low=1, high=n_features, integer=True)
    else:
        share = validate.number("subset_size", value, low=0, high=1, low_open=True,
                                high_open=True)
        size = max(1, int(round(share * n_features)))
    if size >= n_features:
        raise InputError(f"subset_size: expected fewer than the {n_features} features, "
                         f"got {size}")
    return size


def random_subsets(n_inputs: int, n_features: int, subsets: int, size: int,
                   rng: np.random.Generator) -> np.ndarray:
    """(N, subsets, n) boolean: ``size`` features drawn without replacement per subset."""
    out = np.zeros((n_inputs, subsets, n_features), dtype=bool)
    for i in range(n_inputs):               # one input at a time: the keys stay small
        keys = rng.random((subsets, n_features))
        np.put_along_axis(out[i], np.argpartition(keys, size - 1, axis=1)[:, :size], True,
                          axis=1)
    return out


def pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Pearson correlation of (N, K) arrays; NaN where a row is constant."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b).sum(axis=1) / np.where(den > 0, den, 1.0), np.nan)


def mufidelity(model: keras.Model, x: ArrayLike, maps: ArrayLike, targets: ArrayLike, *,
               subsets: int = 50, subset_size=0.1,
               baseline=0.0, output: str = "probability", seed: int = 0,
               batch_size: int = 64) -> np.ndarray:
    """MuFidelity per input (Bhatt et al. 2020; higher is better), (N,) float64 in [−1, 1].

    model: a Keras classifier (a final softmax is stripped and re-applied once); x: (N, *X);
    maps: (N, *F) one score per feature (F the leading axes of X) or shaped like x; targets:
    (N,); subsets: random subsets per input (≥ 2); subset_size: |S|, a count or a fraction
    of the features in (0, 1); baseline: value given to the features of S (scalar or
    broadcastable to x); output: "probability" (default) or "logit"; seed: the subsets'
    seed; batch_size: perturbed inputs per model call. An input whose map sums or score
    drops are constant over the subsets (e.g. an all-zero map) gets NaN and a
    RuntimeWarning.
    """
    x = mi.batch("x", x)
    m = mi.feature_maps(maps, x.shape)
    t = mi.targets(targets, len(x))
    subsets = validate.number("subsets", subsets, low=2, integer=True)
    batch_size = mi.count("batch_size", batch_size)
    rng = np.random.default_rng(validate.seed("seed", seed))
    fill = mi.fill_value("baseline", baseline, x.shape)
    n = int(np.prod(m.shape[1:]))
    chosen = random_subsets(len(x), n, subsets, subset_count(subset_size, n), rng)
    scores = ClassScores(model, x.shape[1:], output)
    per = subsets + 1                      # row 0 of each input: the input itself

    def make(idx):
        i, k = idx // per, idx % per
        s = chosen[i, np.maximum(k - 1, 0)] & (k > 0)[:, None]
        s = mi.broadcast_features(s.reshape((len(idx),) + m.shape[1:]), x.shape)
        return np.where(s, fill[i], x[i]), t[i]

    f = score_rows(scores, len(x) * per, make, batch_size).reshape(len(x), per)
    drop = f[:, :1] - f[:, 1:]
    sums = np.einsum("nkf,nf->nk", chosen.astype(np.float64), m.reshape(len(m), -1))
    out = pearson_rows(sums, drop)
    mi.undefined("mufidelity", np.isnan(out), "constant map sums or score drops")
    return out
