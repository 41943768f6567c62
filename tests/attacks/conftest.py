"""Shared by the attack tests: a small conv net with a nested block, four images, the
budget, an independent pixel map and the validity checks every attack must pass."""

import keras
import numpy as np
import pytest
import tensorflow as tf

EPS = 8 / 255


@pytest.fixture(scope="module")
def net():
    keras.utils.set_random_seed(0)
    inner = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Conv2D(6, 3),
                              keras.layers.ReLU(), keras.layers.MaxPooling2D()], name="blk")
    inp = keras.Input((12, 12, 3))
    h = keras.layers.Conv2D(6, 3, activation="relu")(inner(inp))
    h = keras.layers.Flatten()(h)
    return keras.Model(inp, keras.layers.Dense(4)(h))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((4, 12, 12, 3)).astype("float32")


def pixel_map(model, x):
    """Independent: |∂ logit_c / ∂x| summed over channels, scaled to sum to H·W (numpy)."""
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        logits = model(xt)
        c = tf.argmax(logits, axis=1)
        chosen = tf.reduce_sum(logits * tf.one_hot(c, logits.shape[-1]))
    a = np.abs(tape.gradient(chosen, xt).numpy()).sum(-1)
    return a / a.sum(axis=(1, 2), keepdims=True) * a.shape[1] * a.shape[2]


def check_valid(model, x, xa):
    assert xa.shape == x.shape and xa.dtype == np.float32
    assert np.all(np.abs(xa - x) <= EPS + 1e-6)
    assert xa.min() >= 0.0 and xa.max() <= 1.0
    np.testing.assert_array_equal(np.argmax(model(xa), 1), np.argmax(model(x), 1))
