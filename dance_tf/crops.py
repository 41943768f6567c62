"""Layer-ℓ deviations of compact masks computed exactly on a crop (speed of §3.3 Eq. 2).

A decoy differs from x only inside its mask M, so F_ℓ(x̃) − F_ℓ(x) is zero at every layer-ℓ
unit whose receptive field misses M. A crop of the input that holds M plus one receptive
field on every side therefore sees every unit that can move, each computed from exactly the
inputs it has in the full image, provided the crop's layer-ℓ grid lies on the full image's
grid: its start is a multiple of ℓ's total stride S and its size equals the image's modulo
S (so every "same"-padded strided layer pads the crop as it pads the image). The line search
then runs layers 1..ℓ on crops, e.g. 40×40 instead of 224×224 for a tile mask of vgg_16:
~30× fewer operations per evaluation. The final certificate still runs on the full input.

``plan_crop`` decides (once per input shape) whether crops pay; it returns None where they
are not exact by construction — any layer between the input and ℓ that is not known to be
local (``dance_tf.locality``: attention of any kind, reshapes or normalisation over space,
custom or opaque layers) — or do not apply (no spatial axes at ℓ, a receptive field
spanning the input, strides that do not divide the input), and checks the rest against
the full computation on random decoys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from dance_tf.features import feature_axes
from dance_tf.locality import all_local
from dance_tf.masks import masks_from_corners, receptive_field

#: crops must save at least this share of the input's positions to be used
MIN_SAVING = 0.5
#: relative agreement between crop and full deviations required by the plan-time check
CHECK_RTOL = 1e-4


@dataclass(frozen=True, eq=False)
class CropPlan:
    """Static crop: ``size`` per feature axis, ``stride`` S of layer ℓ per axis, and
    ``f_crop``: F_ℓ for inputs of the crop's shape (the same layers and weights)."""

    size: tuple[int, ...]
    stride: tuple[int, ...]
    f_crop: object = None


def crop_model(f_l, shape: tuple[int, ...]):
    """F_ℓ rebuilt for inputs of ``shape``, sharing every layer (and so every weight).

    Keras models check their declared input shape when called, so nested Sequential and
    functional models are re-applied layer by layer (their graph is walked) rather than
    called; leaf layers are called as they are, in inference mode.
    """
    import keras

    inp = keras.Input(shape=tuple(shape), name="dance_crop_input")
    return keras.Model(inp, _reapply(f_l, inp), name=f"{f_l.name}_crop")


def _reapply(model, tensor):
    """Run a Keras model's layers on ``tensor`` without the model's input-shape check."""
    import keras

    if isinstance(model, keras.Sequential):
        for layer in model.layers:
            tensor = _reapply(layer, tensor) if isinstance(layer, keras.Model) else layer(
                tensor, training=False)
        return tensor
    if not isinstance(model, keras.Model) or not hasattr(model, "_run_through_graph"):
        return model(tensor, training=False)

    def operation_fn(op):
        def call(*args, **kwargs):
            if isinstance(op, keras.Model):
                return _reapply(op, args[0])
            if "training" in getattr(op, "_call_context_args", {}):
                kwargs["training"] = False
            return op(*args, **kwargs)
        return call

    out = model._run_through_graph([tensor], operation_fn=operation_fn)
    return out[0] if isinstance(out, (list, tuple)) and len(out) == 1 else out


def _extent(groups, patch: int) -> np.ndarray:
    """Largest bounding-box extent of any mask, per feature axis (input positions)."""
    return np.max([g.max(axis=0) - g.min(axis=0) + patch for g in groups], axis=0)


def plan_crop(f_l, shape: tuple[int, ...], groups, patch: int, lo, hi) -> CropPlan | None:
    """A crop that computes every mask's layer-ℓ deviation exactly, or None (see module).

    f_l: the layer-ℓ sub-model; shape: one input's shape S; groups: window corners per mask
    (``masks.window_groups``); lo, hi: (*S) value range (for the receptive-field probe and
    the check).
    """
    if not all_local(f_l):
        return None   # attention, reshapes, custom layers...: crops would not be exact
    k = feature_axes(shape)
    out = getattr(f_l, "output_shape", None)
    if out is None or len(out) != k + 2 or any(d is None for d in out[1:-1]):
        return None
    lengths = shape[:k]
    # total stride: the power of two nearest length / output length (exact for any mix of
    # "same" and "valid" stride-2 layers; anything else fails the check below)
    stride = tuple(int(2 ** round(np.log2(length / o))) for length, o in
                   zip(lengths, out[1:-1]))
    rf = receptive_field(f_l, shape, lo, hi)
    size = []
    for length, ext, s in zip(lengths, _extent(groups, patch), stride):
        c = min(length, int(ext) + 2 * (rf - 1) + 2 * s)
        c += (length - c) % s  # the same size as the input modulo S
        size.append(min(c, length))
    if np.prod(size) > (1 - MIN_SAVING) * np.prod(lengths):
        return None
    crop_shape = tuple(size) + tuple(shape[k:])
    try:
        plan = CropPlan(tuple(size), stride, crop_model(f_l, crop_shape))
        return plan if _agrees(f_l, shape, groups, patch, lo, hi, plan) else None
    except (ValueError, TypeError, tf.errors.InvalidArgumentError):
        return None  # layers that cannot take the crop's shape: no crops


def offsets(masks: tf.Tensor, plan: CropPlan) -> tf.Tensor:
    """(k, axes) int32 crop starts: each mask's bounding box centred, snapped down to a
    multiple of the stride, kept inside the input. masks: (k, *S) 0/1."""
    starts = []
    rank = len(masks.shape) - 1
    for a, (c, s) in enumerate(zip(plan.size, plan.stride)):
        others = [b + 1 for b in range(rank) if b != a]
        hit = tf.reduce_any(masks > 0, axis=others)  # (k, L)
        length = tf.shape(hit)[1]
        first = tf.argmax(tf.cast(hit, tf.int32), axis=1, output_type=tf.int32)
        last = length - 1 - tf.argmax(tf.cast(hit[:, ::-1], tf.int32), axis=1,
                                      output_type=tf.int32)
        start = (first + last + 1) // 2 - c // 2
        start = tf.clip_by_value((start // s) * s, 0, length - c)
        starts.append(start)
    return tf.stack(starts, axis=1)


def crop(points: tf.Tensor, starts: tf.Tensor, plan: CropPlan) -> tf.Tensor:
    """(k, *S) → (k, *size, rest): the crop of each point at its own start (gathers only)."""
    for a, c in enumerate(plan.size):
        index = starts[:, a:a + 1] + tf.range(c)[None]  # (k, c)
        points = tf.gather(points, index, axis=a + 1, batch_dims=1)
    return points


def deviation_fn(x: tf.Tensor, masks: tf.Tensor, plan: CropPlan):
    """dev(points (k, *S)) → |F_ℓ(points) − F_ℓ(x)| (float32) on each mask's crop: every
    unit of layer ℓ that can differ from F_ℓ(x), none that cannot. x: (*S), or (k, *S) /
    (1, *S): each point's own input. F_ℓ of x's crops runs once, here."""
    f_loop = plan.f_crop
    starts = offsets(masks, plan)
    if len(x.shape) < len(masks.shape):
        x = x[None]
    ref = tf.cast(f_loop(crop(tf.broadcast_to(x, tf.shape(masks)), starts, plan),
                         training=False), tf.float32)

    def dev(points):
        return tf.abs(tf.cast(f_loop(crop(points, starts, plan), training=False), tf.float32)
                      - ref)

    return dev


def _agrees(f_l, shape, groups, patch, lo, hi, plan, trials: int = 4, seed: int = 0) -> bool:
    """Crop deviations equal full deviations on random decoys of a few masks (the first,
    last and middle ones), at a random x in [lo, hi]."""
    rng = np.random.default_rng(seed)
    lo = np.broadcast_to(np.asarray(lo, np.float32), shape)
    hi = np.broadcast_to(np.asarray(hi, np.float32), shape)
    pick = sorted({0, len(groups) // 2, len(groups) - 1})[:trials]
    table = np.full((len(pick), max(len(groups[i]) for i in pick), len(groups[0][0])), -1,
                    np.int32)
    for row, i in enumerate(pick):
        table[row, :len(groups[i])] = groups[i]
    masks = masks_from_corners(table, shape, patch)
    x = tf.constant(lo + rng.random(shape, dtype=np.float32) * (hi - lo))
    other = tf.constant(lo + rng.random((len(pick),) + shape, dtype=np.float32) * (hi - lo))
    points = tf.where(masks > 0, other, x[None])
    full = tf.abs(f_l(points, training=False) - f_l(x[None], training=False))
    full = tf.reduce_max(tf.reshape(full, [len(pick), -1]), axis=1).numpy()
    cropped = deviation_fn(x, masks, plan)(points)
    cropped = tf.reduce_max(tf.reshape(cropped, [len(pick), -1]), axis=1).numpy()
    return bool(np.all(np.abs(cropped - full) <= CHECK_RTOL * np.maximum(full, 1e-12)))
