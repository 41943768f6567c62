"""Complexity of a map: sparseness as the Gini index (Chalasani, Chen, Chowdhury, Wu & Jha
2020, "Concise explanations of neural networks using adversarial training", ICML, §5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dance_tf.errors import InputError
from dance_tf.metrics import metric_inputs as mi

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def gini(values: np.ndarray) -> np.ndarray:
    """Gini index of each row of a non-negative (N, n) array, (N,) float64.

    With the row sorted ascending, a_(1) ≤ … ≤ a_(n):
    G = Σ_i (2i − n − 1) a_(i) / (n Σ_i a_(i)); 0 for a uniform row, (n − 1)/n for a
    one-hot row; NaN for an all-zero row.
    """
    a = np.sort(values, axis=1)
    n = a.shape[1]
    weights = 2.0 * np.arange(1, n + 1) - n - 1
    total = a.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (a * weights).sum(axis=1) / (n * np.where(total > 0,
                                                                              total, 1.0)),
                        np.nan)


def sparseness(maps: ArrayLike) -> np.ndarray:
    """Sparseness (Chalasani et al. 2020): the Gini index of |map| over all its values,
    (N,) float64 in [0, (n − 1)/n]; higher is better (fewer features carry the relevance).

    maps: (N, ...) any maps (every value counts; reduce channels first to measure pixels).
    An all-zero map gives NaN and a RuntimeWarning (Quantus adds 1e-7 to every value
    instead, which gives ~0 there).
    """
    m = mi.batch("maps", maps, dtype=np.float64)
    flat = np.abs(m.reshape(len(m), -1))
    if flat.shape[1] < 2:
        raise InputError(f"maps: expected at least 2 values per map, got shape {m.shape}")
    out = gini(flat)
    mi.undefined("sparseness", np.isnan(out), "an all-zero map")
    return out
