"""Sanity check by cascading weight randomisation (Adebayo et al. 2018; S6 of the paper).

The weights of the model are randomised layer by layer from the top (logits) down, each
step keeping the previous randomisations (a cascade); after every step the saliency map is
recomputed and compared with the original map by SSIM. A method that depends on the learned
weights gives SSIM well below 1 after the first steps (Fig. S2).

The caller's model is never modified: the cascade runs on a copy (``keras.models.
clone_model`` with the weights copied, nested models included), or, with ``in_place=True``
for models that cannot be cloned, on the model itself with every weight restored in a
``finally`` block.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from dance_tf.layers import walk


class CascadeResult(NamedTuple):
    """layers: the layer randomised at each step (top first, cumulative); ssim: (L, N)
    SSIM of each step's map to the original map; maps: (L + 1, N, H, W) pixel maps
    (original first) when requested, else None."""

    layers: list[str]
    ssim: np.ndarray
    maps: np.ndarray | None


def pixel_map(saliency, dtype=np.float32) -> np.ndarray:
    """(N, H, W, C) → Σ_c |map|; (N, H, W) → |map|; (N, H, W) of ``dtype``."""
    s = np.abs(np.asarray(saliency, dtype=dtype))
    if s.ndim == 4:
        s = s.sum(axis=-1)
    if s.ndim != 3:
        raise ValueError(f"saliency: expected image maps (N, H, W[, C]), got shape {s.shape}")
    return s


def _unit(s: np.ndarray) -> np.ndarray:
    lo = s.min(axis=(1, 2), keepdims=True)
    hi = s.max(axis=(1, 2), keepdims=True)
    span = np.where(hi > lo, hi - lo, 1.0)
    return (s - lo) / span


def map_ssim(sal_a, sal_b, filter_size: int = 11) -> np.ndarray:
    """SSIM between two batches of maps after 0–1 normalisation of each map (S6, Fig. S2).

    sal_a, sal_b: (N, H, W) or (N, H, W, C) maps (channels reduced to Σ_c |map|). Uses
    ``tf.image.ssim`` with max_val = 1 and a Gaussian window of ``min(filter_size, H, W)``
    pixels (σ = 1.5, TF's default), so small maps work. Returns (N,) float64; identical
    maps give exactly 1.
    """
    a, b = _unit(pixel_map(sal_a)), _unit(pixel_map(sal_b))
    if a.shape != b.shape:
        raise ValueError(f"sal_a and sal_b: expected equal shapes, got {a.shape} and {b.shape}")
    size = int(min(filter_size, a.shape[1], a.shape[2]))
    val = tf.image.ssim(tf.constant(a[..., None]), tf.constant(b[..., None]), max_val=1.0,
                        filter_size=size)
    return val.numpy().astype(np.float64)


def copy_model(model):
    """A clone of ``model`` (nested models cloned too) carrying copies of its weights."""
    twin = keras.models.clone_model(model, recursive=True)
    twin.set_weights(model.get_weights())
    return twin


def _random_vars(layer) -> list:
    skip = {id(getattr(layer, a)) for a in ("moving_mean", "moving_variance")
            if getattr(layer, a, None) is not None}
    return [v for v in layer.weights if id(v) not in skip]


def randomize_layer(layer, rng: np.random.Generator) -> None:
    """Replace a layer's weights by draws from a normal law with each weight tensor's own
    mean and standard deviation, truncated at 2σ (BatchNormalization's moving statistics
    are kept, so the layer stays well defined)."""
    for v in _random_vars(layer):
        old = np.asarray(v.numpy(), dtype=np.float64)
        z = np.clip(rng.standard_normal(old.shape), -2.0, 2.0)
        v.assign((old.mean() + old.std() * z).astype(v.dtype))


def weighted_layers(model) -> list:
    """Leaf layers that own weights, in topological order (nested models flattened)."""
    return [lay for _, lay in walk(model) if _random_vars(lay)]


def cascading_randomization(model, x, targets, method: Callable,
                            layers: int | Sequence[str] | None = None, seed: int = 0,
                            in_place: bool = False, return_maps: bool = False
                            ) -> CascadeResult:
    """Cascading randomisation test: SSIM between the original map and the map after
    randomising the top 1, 2, ... weighted layers (S6, Fig. S2).

    model: a Keras classifier; x: (N, H, W, C) images; targets: (N,) classes; method:
    any base method or explainer ``method(model, x, targets) -> maps`` (for DANCE, a lambda
    around the explainer built on the model it receives). layers: None for every weighted
    layer from the top down, an int for the top that many, or names in cascade order.
    seed: the randomisation seed. in_place: randomise the model itself and restore all its
    weights afterwards (guaranteed by ``finally``) instead of a copy. Returns a
    ``CascadeResult``.
    """
    x = np.asarray(x, dtype=np.float32)
    targets = np.asarray(targets)
    original = pixel_map(method(model, x, targets))
    work = model if in_place else copy_model(model)
    saved = [v.numpy() for v in work.weights] if in_place else None
    try:
        order = _cascade(work, layers)
        rng = np.random.default_rng(seed)
        names, scores, maps = [], [], [original]
        for lay in order:
            randomize_layer(lay, rng)
            current = pixel_map(method(work, x, targets))
            names.append(lay.name)
            scores.append(map_ssim(original, current))
            if return_maps:
                maps.append(current)
    finally:
        if in_place:
            for v, val in zip(work.weights, saved):
                v.assign(val)
    return CascadeResult(names, np.asarray(scores).reshape(len(names), len(x)),
                         np.stack(maps) if return_maps else None)


def _cascade(model, layers) -> list:
    top_down = weighted_layers(model)[::-1]
    if layers is None:
        return top_down
    if isinstance(layers, int):
        if layers < 1:
            raise ValueError(f"layers: expected a count ≥ 1, got {layers}")
        return top_down[:layers]
    by_name = {lay.name: lay for lay in top_down}
    missing = [n for n in layers if n not in by_name]
    if missing:
        raise ValueError(f"layers: no weighted layer named {missing}; known: {list(by_name)}")
    return [by_name[n] for n in layers]
