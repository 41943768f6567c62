"""The methods added to the built-in table (S9) resolve by name and run inside a
``tf.function``, as the registry declares for every built-in method."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dance_tf.saliency import resolve_method


@pytest.mark.parametrize("name", ["expected_gradients", "vargrad", "smoothgrad_range",
                                  "ig_uniform", "gradcam"])
def test_registered_and_graph_safe(name):
    keras.utils.set_random_seed(10)
    model = keras.Sequential([keras.Input((6, 6, 1)),
                              keras.layers.Conv2D(2, 3, activation="relu", name="c"),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    _, fn = resolve_method(name)
    x = np.random.default_rng(11).random((2, 6, 6, 1)).astype("float32")
    out = fn(model, x, [0, 1])
    assert isinstance(out, np.ndarray) and out.shape == x.shape and np.all(np.isfinite(out))

    @tf.function
    def inside(a, b):
        return fn(model, a, b)

    got = inside(tf.constant(x), tf.constant([0, 1]))
    assert tf.is_tensor(got)
    np.testing.assert_allclose(got.numpy(), out, rtol=1e-4, atol=1e-6)
