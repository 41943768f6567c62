"""Shared machinery of the base saliency methods: logit gradients, per-model compilation,
numpy/tensor edges and in-graph chunk loops (§2 of the paper, base methods)."""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from dance_tf.errors import InputError
from dance_tf.inputs import check_degenerate_maps
from dance_tf.saliency.checks import passing

#: default bound on model evaluations in one batch (IG steps × inputs, SmoothGrad samples × inputs)
DEFAULT_BATCH_SIZE = 64

_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def compiled(model, key: tuple, build: Callable[[], Callable]) -> Callable:
    """Return a ``tf.function`` cached per model and ``key`` (compiled once, reused)."""
    per_model = _COMPILED.setdefault(model, {})
    if key not in per_model:
        per_model[key] = tf.function(build(), reduce_retracing=True)
    return per_model[key]


def explained(model):
    """The model a base method differentiates: the model contract's logits
    (``dance_tf.model_contract``: a final softmax / log-softmax / sigmoid stripped, float32)
    when called eagerly on a Keras model that declares its input, so ``saliency.gradient``
    explains what DANCE explains; the model itself when it already is such logits, inside
    a graph (DANCE's pipeline passes the contract's logits) or for other callables."""
    import keras

    if (getattr(model, "_dance_logits", False) or not tf.executing_eagerly()
            or not isinstance(model, keras.Model)):
        return model
    from dance_tf.model_contract import contract, declares_input

    return contract(model).logits if declares_input(model) else model


def logit_gradients(model, x: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """d logit_target / d x for a batch, computed under one tape (graph-safe).

    x: (N, ...) float32; targets: (N,) int32. Returns (N, ...) float32. Samples are
    independent because the model runs in inference mode (``training=False``).
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = model(x, training=False)
        # select the target logit under the tape (TOOLCHAIN: slicing outside gives None)
        chosen = tf.gather(logits, targets, axis=1, batch_dims=1)
    grad = tape.gradient(chosen, x)
    if grad is None:
        raise ValueError(
            "model: no gradient path from the input to the logits (does the model start "
            "with an integer lookup, argmax or a stop_gradient?)"
        )
    return grad


def model_rank(model) -> int | None:
    """Rank of the model's batched input (N, *S), if the model declares it."""
    try:
        shape = model.inputs[0].shape
        return None if shape is None else len(shape)
    except (AttributeError, IndexError, TypeError, ValueError):
        return None


def to_batch(x, name: str = "x", model=None) -> tuple[tf.Tensor, bool]:
    """Convert a numpy array or tensor (N, ...) to float32; report whether it was numpy.

    With ``model``, an x one axis short of the model's input rank is refused as an input
    without its batch axis (rather than blaming the targets later)."""
    was_numpy = not tf.is_tensor(x)
    if was_numpy:
        arr = np.asarray(x)
        if arr.dtype.kind not in "fiu":
            raise passing(TypeError(f"{name}: expected a numeric array, got dtype {arr.dtype}"))
        rank = arr.ndim
    else:
        rank = x.shape.rank
    want = None if model is None else model_rank(model)
    if rank is not None and want is not None and rank == want - 1:
        raise passing(InputError(
            f"{name}: expected a batch (N, ...) of rank {want} for this model, got shape "
            f"{tuple(np.shape(x)) if was_numpy else tuple(x.shape)}, which lacks the batch "
            f"axis; pass {name}[None] for one input"))
    if rank is not None and rank < 2:
        raise passing(InputError(f"{name}: expected a batch (N, ...), got shape "
                                 f"{tuple(np.shape(x)) if was_numpy else tuple(x.shape)}"))
    if was_numpy:
        if not np.all(np.isfinite(arr)):
            raise passing(InputError(f"{name}: contains NaN or Inf"))
        x = tf.convert_to_tensor(arr, tf.float32)
    else:
        x = tf.cast(x, tf.float32)
    return x, was_numpy


def to_targets(targets, n: int | None, num_classes: int | None = None) -> tf.Tensor:
    """Validate integer class indices (N,) (one int: the same class for all) → int32."""
    if tf.is_tensor(targets):
        if not (targets.dtype.is_integer and targets.shape.rank in (None, 1)):
            raise passing(TypeError(f"targets: expected a vector (N,) of integer class "
                                    f"indices, got a {targets.dtype.name} tensor of shape "
                                    f"{tuple(targets.shape)}"))
        return tf.cast(targets, tf.int32)
    try:
        t = np.asarray(targets)
    except ValueError as err:   # ragged nesting
        raise passing(TypeError(f"targets: expected integer class indices ({err})")) from None
    if t.dtype.kind not in "iu":
        raise passing(TypeError(f"targets: expected integer class indices, got dtype "
                                f"{t.dtype}"))
    if t.ndim == 0 and n is not None:
        t = np.full((n,), int(t))
    if n is not None and t.shape != (n,):
        raise passing(InputError(f"targets: expected shape ({n},), one class per input, got "
                                 f"{t.shape}"))
    if num_classes is not None and t.size and (t.min() < 0 or t.max() >= num_classes):
        raise passing(InputError(f"targets: class indices must lie in [0, {num_classes}), "
                                 f"got {t}"))
    return tf.convert_to_tensor(t, tf.int32)


def num_classes(model) -> int | None:
    """Size of the model's last output axis if known statically."""
    shape = getattr(model, "output_shape", None)
    try:
        return int(shape[-1])
    except (TypeError, IndexError, ValueError):
        return None


def finish(maps: tf.Tensor, was_numpy: bool, model=None, x: tf.Tensor | None = None):
    """Return numpy when the caller gave numpy, else the tensor. Called eagerly with the
    model and its inputs x, a map that is zero everywhere or not finite is checked with an
    eager forward pass (``inputs.check_degenerate_maps``: a compiled graph may turn an
    overflow's NaN into 0); inside a graph (DANCE's pipeline) the caller checks."""
    if model is not None and tf.executing_eagerly():
        flat = tf.reshape(maps, [tf.shape(maps)[0], -1])
        zero = tf.reduce_all(tf.equal(flat, 0.0), axis=1)
        if bool(tf.reduce_any(zero | ~tf.reduce_all(tf.math.is_finite(flat), axis=1))):
            check_degenerate_maps(model, x.numpy(), maps.numpy())
    return maps.numpy() if was_numpy else maps


def chunked_sum(fn: Callable[[tf.Tensor], tf.Tensor], total: int, chunk: tf.Tensor,
                like: tf.Tensor) -> tf.Tensor:
    """Σ_k fn(indices of chunk k) over ``total`` items in chunks, as one ``tf.while_loop``.

    ``fn`` takes an int32 vector of item indices (length ≤ chunk) and returns a tensor
    shaped like ``like``. Memory is bounded by one chunk, whatever ``total`` is. chunk: an
    int32 scalar tensor in [1, total] (``chunk_of``: sized from the batch when it runs).
    """
    n_chunks = (int(total) + chunk - 1) // chunk

    def body(i, acc):
        start = i * chunk
        idx = tf.range(start, tf.minimum(start + chunk, total))
        return i + 1, acc + fn(idx)

    _, acc = tf.while_loop(lambda i, _: i < n_chunks, body,
                           (tf.constant(0), tf.zeros_like(like)),
                           parallel_iterations=1)
    return acc


def chunk_of(x: tf.Tensor, batch_size: int, total: int) -> tf.Tensor:
    """Expanded copies (steps, samples) of the batch x (N, ...) per chunk, as an int32
    tensor: ⌊batch_size / N⌋ from N when the graph runs, in [1, total]. A graph traced for
    any batch size (N unknown when traced) still evaluates at most ``batch_size`` inputs
    at once (an unknown N once counted as 1 let a batch of 10 run 640)."""
    top = 2**31 - 1   # int32: a larger batch_size or total means "all at once"
    n = tf.maximum(tf.shape(x)[0], 1)
    return tf.clip_by_value(min(int(batch_size), top) // n, 1, max(1, min(int(total), top)))
