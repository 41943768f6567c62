"""Efficient MPRT (Hedström, Weber, Lapuschkin & Höhne 2024, "Sanity checks revisited: an
exploration to repair the model parameter randomisation test", §4.2; higher is better).

Why eMPRT and not smooth MPRT: sMPRT keeps MPRT's layer-by-layer cascade and its choice of
similarity measure (the SSIM that Binder et al. 2023 criticise in the cascading check,
:mod:`dance_tf.metrics.sanity`) and denoises each map over many noisy inputs — L layers ×
samples maps per input. eMPRT compares only two model states, the original and the fully
randomised model, by the relative rise in the explanation's complexity — two maps per
input, no similarity measure to choose. A map that depends on the learned weights turns
noisy (more complex) when they are destroyed.

Complexity is the discrete entropy (nats) of the histogram of |map| over ``bins``
equal-width bins spanning each map's own range (Hedström et al.'s default; scale-free).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from dance_tf import validate
from dance_tf.metrics import metric_inputs as mi
from dance_tf.metrics.sanity import copy_model, randomize_layer, weighted_layers

if TYPE_CHECKING:
    import keras
    from numpy.typing import ArrayLike


def histogram_entropy(maps, bins: int = 100) -> np.ndarray:
    """Entropy (nats) of the ``bins``-bin histogram of |map| per map: (N,) float64;
    0 for a constant map."""
    bins = mi.count("bins", bins)
    m = np.abs(mi.batch("maps", maps, dtype=np.float64))
    m = m.reshape(len(m), -1)
    out = np.empty(len(m))
    for i, row in enumerate(m):
        counts, _ = np.histogram(row, bins=bins)
        p = counts[counts > 0] / row.size
        out[i] = float(-(p * np.log(p)).sum())
    return out


def efficient_mprt(model: keras.Model, x: ArrayLike, targets: ArrayLike | None, method: Callable,
                   *, bins: int = 100, seed: int = 0,
                   in_place: bool = False) -> np.ndarray:
    """eMPRT per input (Hedström et al. 2024): (H(ê) − H(e)) / H(e), (N,) float64.

    e = method(model, x, targets) on the trained model, ê the same on a copy whose every
    weighted layer is randomised (``sanity.randomize_layer``: draws with each weight
    tensor's own mean and std, BatchNormalization statistics kept); H the histogram
    entropy above. method: any ``(model, x, targets) -> maps`` (as for
    ``cascading_randomization``); x: (N, ...) inputs; targets: (N,); bins: histogram bins;
    seed: the randomisation's seed; in_place: randomise the model itself and restore its
    weights afterwards (for models that cannot be cloned). A constant original map (H = 0)
    gives NaN and a RuntimeWarning.
    """
    if not callable(method):
        raise TypeError(f"method: expected a callable (model, x, targets) -> maps, got "
                        f"{type(method).__name__}")
    if not isinstance(in_place, bool):
        raise TypeError(f"in_place: expected a bool, got {in_place!r}")
    x = mi.batch("x", x)
    t = mi.targets(targets, len(x))
    bins = mi.count("bins", bins)
    rng = np.random.default_rng(validate.seed("seed", seed))
    before = histogram_entropy(method(model, x, t), bins)
    work = model if in_place else copy_model(model)
    saved = [v.numpy() for v in work.weights] if in_place else None
    try:
        for layer in weighted_layers(work):
            randomize_layer(layer, rng)
        after = histogram_entropy(method(work, x, t), bins)
    finally:
        if in_place:
            for v, val in zip(work.weights, saved):
                v.assign(val)
    bad = before == 0
    mi.undefined("efficient_mprt", bad, "a constant original map")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bad, np.nan, (after - before) / np.where(bad, 1.0, before))
