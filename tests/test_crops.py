"""Crops around compact masks give layer-ℓ deviations equal to the full input's.

The reference is F_ℓ on the whole input, computed by calling the model's layers on it
(not the package's sub-models); the decoys are random points inside each mask.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import dance_tf
from dance_tf import crops
from dance_tf.masks import corner_table, masks_from_corners, window_groups


def strided_cnn(size):
    """TF-style 'same' padding with stride 2 (asymmetric pads) and a nested model."""
    keras.utils.set_random_seed(5)
    inner = keras.Sequential([keras.Input((size // 2 + size % 2, size // 2 + size % 2, 4)),
                              keras.layers.Conv2D(5, 3, padding="same", activation="relu",
                                                  name="c2")], name="inner")
    inp = keras.Input((size, size, 2))
    h = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="c1")(inp)
    h = inner(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    return keras.Model(inp, keras.layers.Dense(3)(h), name="strided")


def full_deviation(model, upto, x, points):
    """max |F_ℓ(points) − F_ℓ(x)| per point, F_ℓ by calling the model's graph."""
    f = keras.Model(model.inputs, model.get_layer(upto).output)
    d = np.abs(np.asarray(f(points)) - np.asarray(f(x[None])))
    return d.reshape(len(points), -1).max(axis=1)


@pytest.mark.parametrize("size", [32, 33])
def test_crop_deviation_equals_the_full_input(size):
    model = strided_cnn(size)
    shape = (size, size, 2)
    groups = window_groups(shape, 3, 1, 9, "tiles")
    lo, hi = np.zeros(shape, np.float32), np.ones(shape, np.float32)
    f_l = keras.Model(model.inputs, model.get_layer("inner").output)
    plan = crops.plan_crop(f_l, shape, groups, 3, lo, hi)
    assert plan is not None and max(plan.size) < size
    rng = np.random.default_rng(0)
    x = rng.random(shape, dtype=np.float32)
    masks = masks_from_corners(corner_table(groups), shape, 3)
    points = tf.where(masks > 0, tf.constant(rng.random((len(groups),) + shape,
                                                       dtype=np.float32)), x[None])
    got = crops.deviation_fn(tf.constant(x), masks, plan)(points)
    got = tf.reduce_max(tf.reshape(got, [len(groups), -1]), axis=1).numpy()
    want = full_deviation(model, "inner", x, points.numpy())
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_no_crop_where_it_cannot_be_exact():
    keras.utils.set_random_seed(0)
    mlp = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, name="d")])
    groups = window_groups((8,), 1, 1, 1, "paper")
    assert crops.plan_crop(mlp, (8,), groups, 1, np.zeros(8), np.ones(8)) is None
    # a receptive field that spans the input: nothing to save
    wide = keras.Sequential([keras.Input((12, 12, 1)),
                             keras.layers.Conv2D(2, 11, padding="same", name="c")])
    shape = (12, 12, 1)
    groups = window_groups(shape, 3, 1, 4, "tiles")
    assert crops.plan_crop(wide, shape, groups, 3, np.zeros(shape), np.ones(shape)) is None


def test_explanations_with_and_without_crops_agree():
    model = strided_cnn(32)
    x = np.random.default_rng(1).random((32, 32, 2), dtype=np.float32)
    kw = {"value_range": (0, 1), "layer": "inner", "packing": "tiles",
          "patches_per_mask": 16}
    ex = dance_tf.Explainer(model, **kw)
    with_crops = ex.explain(x, return_details=True)
    assert ex.plan(x.shape).crop is not None
    full = dance_tf.Explainer(model, use_crops=False, **kw).explain(x, return_details=True)
    assert with_crops.certified.all() and full.certified.all()
    np.testing.assert_allclose(with_crops.objective, full.objective, rtol=1e-4)
    np.testing.assert_allclose(with_crops.saliency, full.saliency, rtol=1e-4, atol=1e-6)
