"""Localisation against ground-truth masks: the pointing game (Zhang, Bargal, Lin, Brandt,
Shen & Sclaroff 2018, "Top-down neural attention by excitation backprop", IJCV) and
relevance mass accuracy (Arras, Osman & Samek 2022, "CLEVR-XAI", Information Fusion,
§4.3). Both: higher is better, (N,) float64 in [0, 1].

Maps are first turned into one relevance per mask pixel: each value is transformed by
``relevance`` — "positive" keeps max(R, 0) (Arras et al. count positive relevance; our
reading), "magnitude" takes |R|, "signed" keeps R as is (Quantus' default) — and axes of
the map beyond the mask's (channels) are summed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from dance_tf import validate
from dance_tf.errors import InputError
from dance_tf.metrics import metric_inputs as mi

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

RELEVANCE = ("positive", "magnitude", "signed")


def mask_relevance(maps, masks, relevance: str = "positive"):
    """(maps, masks) → (relevance (N, *M) float64, masks (N, *M) bool), M the mask's axes."""
    if relevance not in RELEVANCE:
        raise InputError(f"relevance: expected one of {RELEVANCE}, got {relevance!r}")
    k = np.asarray(masks)
    if k.dtype != bool and not (np.issubdtype(k.dtype, np.number)
                                and np.all(np.isin(k, (0, 1)))):
        raise InputError("masks: expected boolean or 0/1 masks")
    k = k.astype(bool)
    m = mi.batch("maps", maps, dtype=np.float64)
    if k.ndim < 2 or m.shape[:k.ndim] != k.shape:
        raise InputError(f"masks: expected (N, *M) with M the leading axes of the maps "
                         f"{m.shape}, got {k.shape}")
    empty = ~k.reshape(len(k), -1).any(axis=1)
    if empty.any():
        raise InputError(f"masks: {int(empty.sum())} empty mask(s) (first at index "
                         f"{int(np.argmax(empty))}); nothing to localise")
    r = {"positive": np.maximum(m, 0.0), "magnitude": np.abs(m), "signed": m}[relevance]
    return r.sum(axis=tuple(range(k.ndim, m.ndim))), k


def pointing_game(maps: ArrayLike, masks: ArrayLike, *, relevance: str = "positive",
                  tolerance: float = 0) -> np.ndarray:
    """Pointing game (Zhang et al. 2018): 1 when the map's maximum lies in the mask.

    maps: (N, *M) or (N, *M, C) (channels summed after ``relevance``); masks: (N, *M)
    bool, e.g. (N, H, W) object masks; tolerance: pixels (Euclidean) by which each mask is
    grown first (Zhang et al. use 15 px at 224²; default 0). Tied maxima score the share
    of them inside the mask (an all-equal map does not hit for free). A map with no
    positive relevance under ``relevance="positive"`` gives NaN and a RuntimeWarning.
    """
    r, k = mask_relevance(maps, masks, relevance)
    tol = validate.number("tolerance", tolerance, **validate.NONNEG)
    if tol > 0:
        k = np.stack([ndimage.distance_transform_edt(~one) <= tol for one in k])
    flat, inside = r.reshape(len(r), -1), k.reshape(len(k), -1)
    top = flat == flat.max(axis=1, keepdims=True)
    out = (top & inside).sum(axis=1) / top.sum(axis=1)
    bad = (flat.max(axis=1) <= 0) if relevance == "positive" else np.zeros(len(r), bool)
    mi.undefined("pointing_game", bad, "no positive relevance")
    return np.where(bad, np.nan, out).astype(np.float64)


def relevance_mass(maps: ArrayLike, masks: ArrayLike, *, relevance: str = "positive") -> np.ndarray:
    """Relevance mass accuracy (Arras et al. 2022): Σ relevance inside the mask / Σ
    relevance, per input. maps, masks, relevance: as :func:`pointing_game`. A map whose
    relevance sums to zero (e.g. all zero) gives NaN and a RuntimeWarning; with
    ``relevance="signed"`` the ratio can leave [0, 1]."""
    r, k = mask_relevance(maps, masks, relevance)
    flat, inside = r.reshape(len(r), -1), k.reshape(len(k), -1)
    total = flat.sum(axis=1)
    bad = total == 0
    mi.undefined("relevance_mass", bad, "zero total relevance")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bad, np.nan, (flat * inside).sum(axis=1) / np.where(bad, 1.0, total))
