"""Saliency fidelity SF (Dabkowski & Gal 2017; Eq. 6 of the paper)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from dance_tf.metrics.topk import topk_binarize

if TYPE_CHECKING:
    import keras
    from numpy.typing import ArrayLike


def keep_mask(binary: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """Broadcast a per-feature 0/1 map (N, *F) to the inputs' shape (N, *F, *C)."""
    b = np.asarray(binary, dtype=np.float32)
    extra = len(input_shape) - b.ndim
    return np.broadcast_to(b.reshape(b.shape + (1,) * extra), input_shape)


def fidelity(model: keras.Model, x: ArrayLike, saliency: ArrayLike, targets: ArrayLike,
             k: float = 0.2, fill=0.0,
             batch_size: int = 256) -> np.ndarray:
    """SF = −log softmax(F(E_bin ∘ x))_c per input (lower is better).

    x: (N, ...) inputs; saliency: (N, *F) one score per feature, where F are the leading
    axes of each input (pixels (H, W) for images, words (T,) for text, features for
    tabular) — or a map shaped like x, which is then ranked per element; targets: (N,)
    class indices c (the predicted classes, §4.2); k: kept fraction; fill: the value of
    dropped features (0 = "zeroed", as in the paper; for mean-subtracted images 0 is the
    mean pixel). Returns (N,) float64 nats.
    """
    from dance_tf.model_contract import logits_model

    x = np.asarray(x, dtype=np.float32)
    targets = np.asarray(targets, dtype=np.int64)
    model, _ = logits_model(model, x.shape[1:])  # a final softmax is not applied twice
    binary = topk_binarize(saliency, k)
    keep = keep_mask(binary, x.shape)
    masked = keep * x + (1.0 - keep) * np.asarray(fill, dtype=np.float32)
    return target_nll(model, masked, targets, batch_size)


def target_nll(logits_model, inputs: np.ndarray, targets: np.ndarray,
               batch_size: int = 256) -> np.ndarray:
    """−log softmax(F(inputs))_target per input (N,) float64 nats, in batches."""
    out = []
    for i in range(0, len(inputs), batch_size):
        logits = logits_model(tf.constant(inputs[i:i + batch_size]), training=False)
        logp = tf.nn.log_softmax(tf.cast(logits, tf.float64), axis=-1).numpy()
        out.append(-logp[np.arange(len(logp)), targets[i:i + batch_size]])
    return np.concatenate(out)


def fidelity_continuous(model: keras.Model, x: ArrayLike, saliency: ArrayLike, targets: ArrayLike,
                        batch_size: int = 256) -> np.ndarray:
    """Continuous fidelity: SF_c = −log softmax(F(μ + Ê ∘ (x − μ)))_c per input.

    Our reading of the continuous variant of the paper's ICLR 2021 version ("map
    normalised, mean subtracted"; that text is not in this package's sources): instead of
    keeping the top K features, every feature of the mean-subtracted input is scaled by
    its normalised saliency Ê = |E| / max|E| ∈ [0, 1] (0 everywhere for an all-zero map),
    and the mean is added back. μ: the mean of each input over its feature axes (per
    channel of an image, per embedding dimension of a text; one number for a tabular
    input). x: (N, ...); saliency:
    (N, *F) per-feature scores or a map shaped like x; targets: (N,). Returns (N,) nats.
    """
    from dance_tf.model_contract import logits_model

    x = np.asarray(x, dtype=np.float32)
    s = np.abs(np.asarray(saliency, dtype=np.float32))
    targets = np.asarray(targets, dtype=np.int64)
    model, _ = logits_model(model, x.shape[1:])
    top = s.reshape(len(s), -1).max(axis=1).reshape((-1,) + (1,) * (s.ndim - 1))
    unit = np.divide(s, top, out=np.zeros_like(s), where=top > 0)
    if unit.shape != x.shape:
        unit = keep_mask(unit, x.shape)
    f_ndim = s.ndim - 1 if s.shape != x.shape else max(1, x.ndim - 2)
    mu = x.mean(axis=tuple(range(1, 1 + f_ndim)), keepdims=True)
    return target_nll(model, mu + unit * (x - mu), targets, batch_size)
