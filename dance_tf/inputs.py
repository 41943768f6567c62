"""Checks at the numpy edge: inputs, targets, the legal value range and the model contract.

One module and one tolerance (``range_tolerance``) for the explainer, the attacks and the
command line, so an input is accepted or refused the same way everywhere. Every refusal is
an ``InputError`` (a ``dance_tf.DanceError``) whose message names the argument.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from dance_tf import datasets, validate
from dance_tf.errors import InputError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def range_tolerance(lo: np.ndarray, hi: np.ndarray) -> float:
    """How far outside [lo, hi] an input may lie (float rounding of a preprocessing step)
    before it is refused; inside the tolerance it is clipped into the range."""
    return 1e-5 * max(1.0, float(np.max(np.abs(hi))), float(np.max(np.abs(lo))))


def is_batch(x: np.ndarray, input_shape: tuple | None) -> bool:
    """Whether x carries a batch axis: one more axis than the model's input shape."""
    return input_shape is not None and np.ndim(x) == len(input_shape) + 1


def gather_inputs(x, input_shape: tuple | None) -> tuple[np.ndarray, bool]:
    """(numpy x, whether it is a batch) for one input or a batch given as numpy, a tensor
    or a ``tf.data.Dataset`` (see ``gather``). A dataset of (x, y) pairs gives its x; its
    y are not targets here (use ``gather_targets``), so a warning says they are unused."""
    if isinstance(x, tf.data.Dataset):
        x, y = datasets.arrays(x, None if input_shape is None else len(input_shape))
        if y is not None:
            warnings.warn("x: the dataset holds (x, y) pairs; its x are explained and its y "
                          "are not used as targets by this call (the predicted classes are "
                          "explained unless targets is given)", stacklevel=3)
    else:
        x = gather(x, None if input_shape is None else len(input_shape))
    batched = is_batch(x, input_shape)
    if batched and len(x) == 0:
        raise InputError(f"x: expected a non-empty batch (N, *S), got shape {x.shape}")
    return x, batched


def gather_targets(x, targets, input_shape: tuple | None
                   ) -> tuple[np.ndarray, object, bool]:
    """(numpy x, targets, whether x is a batch), as ``gather_inputs``; for a dataset of
    (x, y) pairs, its y (class indices) become the targets when ``targets`` is None, and
    giving both is refused (as ``evaluate_model`` does with labels)."""
    if not isinstance(x, tf.data.Dataset):
        x = gather(x, None if input_shape is None else len(input_shape))
        return x, targets, is_batch(x, input_shape)
    x, y = datasets.arrays(x, None if input_shape is None else len(input_shape))
    if y is not None:
        if targets is not None:
            raise InputError("targets: the dataset holds (x, y) pairs, whose y are the "
                             "targets; give targets=None, or a dataset of inputs only "
                             "(ds.map(lambda x, y: x))")
        targets = y
    return x, targets, is_batch(x, input_shape)


def gather(x, input_ndim: int | None) -> np.ndarray:
    """numpy from a tensor, an array-like or a ``tf.data.Dataset`` whose elements are
    inputs (rank ``input_ndim``), batches of inputs (concatenated) or (x, y) pairs of
    either (x is kept). A dataset is read bounded (``dance_tf.datasets``): an infinite one,
    one of unknown length past ``datasets.MAX_ELEMENTS`` elements, and ragged ones are
    refused with an ``InputError`` naming ``x``."""
    if isinstance(x, tf.data.Dataset):
        return datasets.arrays(x, input_ndim)[0]
    if tf.is_tensor(x):
        if isinstance(x, (tf.RaggedTensor, tf.SparseTensor)):
            raise InputError(f"x: a {type(x).__name__} is ragged; pad the inputs to one "
                             "shape first (e.g. x.to_tensor())")
        return x.numpy()
    try:
        return np.asarray(x)
    except ValueError as err:   # numpy's "inhomogeneous shape" of nested lists
        raise InputError(f"x: the inputs are ragged (nested sequences of different "
                         f"lengths): {err}") from None


def check_input(x, expected: tuple | None) -> np.ndarray:
    """One unbatched input (*S) as finite float32, against the model's declared input shape
    ``expected`` (None entries: any size; None: not declared)."""
    if tf.is_tensor(x):
        x = x.numpy()
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"x: expected a numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float32)
    if expected is not None:
        if arr.ndim == len(expected) + 1 and arr.shape[0] == 1:
            raise InputError(f"x: expected one unbatched input of shape {expected}, got "
                             f"{arr.shape} with a batch axis; pass x[0]")
        fits = arr.ndim == len(expected) and all(
            e is None or e == a for e, a in zip(expected, arr.shape))
        if not fits:
            raise InputError(f"x: expected one unbatched input of shape {expected}, "
                             f"got {arr.shape}")
    elif arr.ndim == 0:
        raise InputError("x: expected an array input, got a scalar")
    if arr.size == 0:
        raise InputError(f"x: the input is empty (shape {arr.shape}); a sentence needs "
                         "at least one word, an image at least one pixel")
    if not np.all(np.isfinite(arr)):
        raise InputError("x: contains NaN or Inf")
    return arr


def legal_range(x: np.ndarray, value_range) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) shaped like x from ``value_range`` (None: x's own [min, max], with a
    warning); refuses an x outside it by more than ``range_tolerance``."""
    if value_range is None:
        warnings.warn(f"value_range not given: one range, the input's own [min, max] = "
                      f"[{x.min():.4g}, {x.max():.4g}], is shared by every feature as the "
                      "decoys' legal range (a 0/1 feature may then be pushed to the largest "
                      "value); give value_range, e.g. per feature from your data with "
                      "dance_tf.value_range_from(train_x)", stacklevel=4)
        lo, hi = np.full_like(x, x.min()), np.full_like(x, x.max())
    else:
        lo, hi = validate.value_range_pair(value_range, x.shape)
        lo, hi = lo.copy(), hi.copy()
    tol = range_tolerance(lo, hi)
    if np.any(x < lo - tol) or np.any(x > hi + tol):
        raise InputError(f"x: values outside value_range [x_min, x_max]: x spans "
                         f"[{x.min():.4g}, {x.max():.4g}]")
    return lo, hi


def bounded_range(x, lo, hi, deviation_bound):
    """x clipped into [lo, hi], and [lo, hi] narrowed by the per-feature deviation bound
    (Proposition 1; None: not narrowed)."""
    x = np.clip(x, lo, hi)
    if deviation_bound is None:
        return x, lo, hi
    b = validate.deviation_bound(deviation_bound, x.shape)
    return x, np.maximum(lo, x - b), np.minimum(hi, x + b)


def check_target(target, n_classes: int) -> int:
    """A class index in [0, n_classes) as int."""
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        raise TypeError(f"target: expected an integer class index, got {target!r}")
    if not 0 <= int(target) < n_classes:
        raise InputError(f"target: expected a class index in [0, {n_classes}), "
                         f"got {target}")
    return int(target)


def batch_targets(targets, n: int) -> list:
    """Targets for a batch of n: None (each predicted), one int for all, or n entries."""
    if targets is None:
        return [None] * n
    if np.ndim(targets) == 0:
        return [targets] * n
    targets = list(np.asarray(targets).tolist())
    if len(targets) != n:
        raise InputError(f"targets: expected {n} entries, got {len(targets)}")
    return targets


def refuse_probabilities(logits, shape: tuple) -> None:
    """A model whose (stripped) outputs are still probabilities is refused: on two random
    inputs every row lies in [0, 1] and sums to 1 (a softmax written in a form that could
    not be stripped, e.g. inside a Lambda layer or a subclassed call)."""
    probe = np.random.default_rng(0).normal(size=(2,) + tuple(shape)).astype(np.float32)
    out = np.asarray(logits(tf.constant(probe), training=False), np.float64)
    if out.ndim == 2 and out.shape[1] > 1 and np.all(np.isfinite(out)) and np.all(
            out >= 0) and np.all(out <= 1) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4):
        raise InputError("model: its outputs are probabilities (every row in [0, 1] sums to "
                         "1) and the final softmax could not be stripped; pass the model "
                         "that outputs logits (DANCE explains the pre-softmax scores)")


def check_degenerate_maps(logits, xs: np.ndarray, maps: np.ndarray) -> None:
    """Maps (N, *S) that are zero everywhere or not finite are checked with one eager
    forward pass of the logits model on their inputs xs (N, *S). A compiled graph may fuse
    an activation that turns an overflow's NaN into 0 (ReLU after a fused MatMul or
    convolution on some CPUs), so a model that computes non-finite values there shows up
    as a zero map. Raises ``InputError`` for such inputs and ``FloatingPointError`` for a
    non-finite map of a finite model; a zero map of a finite model is a result."""
    maps = np.asarray(maps)
    rows = maps.reshape(len(maps), -1)
    suspect = np.flatnonzero(~np.any(rows, axis=1) | ~np.all(np.isfinite(rows), axis=1))
    if not suspect.size:
        return
    out = np.asarray(logits(np.asarray(xs)[suspect], training=False))
    bad = [int(i) for i, row in zip(suspect, out) if not np.all(np.isfinite(row))]
    if bad:
        raise InputError(f"x: the model computes non-finite values at input(s) {bad} (its "
                         "logits overflow or hold NaN; the compiled graph returned a zero "
                         "or non-finite map): the explanation cannot be computed")
    nan = [int(i) for i in suspect if not np.all(np.isfinite(rows[i]))]
    if nan:
        raise FloatingPointError(f"saliency: the map of input(s) {nan} is not finite (NaN "
                                 "or inf in the method's gradients): no map is returned")


def value_range_from(data: ArrayLike, margin: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature legal range (lo, hi), each of one input's shape (*S), from data
    (N, *S): the minimum and maximum of every feature over the N rows, widened by
    ``margin`` × (hi − lo). For tabular inputs, where one shared range would push a 0/1
    flag to the largest value of another feature."""
    arr = np.asarray(gather(data, None), np.float64)
    if arr.ndim < 2 or len(arr) == 0:
        raise InputError(f"data: expected rows (N, *S) with N ≥ 1, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError("data: contains NaN or Inf")
    margin = validate.number("margin", margin, low=0.0)
    lo, hi = arr.min(axis=0), arr.max(axis=0)
    pad = margin * (hi - lo)
    return (lo - pad).astype(np.float32), (hi + pad).astype(np.float32)
