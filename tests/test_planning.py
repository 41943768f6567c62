"""Planning refuses a model without a gradient path from its input to its logits."""

import keras
import numpy as np
import pytest

import dance_tf


def test_no_gradient_path_is_an_error():
    x = np.random.default_rng(10).random((12, 12, 1)).astype(np.float32)
    inp = keras.Input((12, 12, 1))
    h = keras.layers.Lambda(lambda t: keras.ops.stop_gradient(t), name="stop")(inp)
    h = keras.layers.Conv2D(2, 3, name="conv1")(h)
    h = keras.layers.MaxPooling2D(name="pool1")(h)
    out = keras.layers.Dense(2, name="logits")(keras.layers.Flatten()(h))
    model = keras.Model(inp, out)
    with pytest.raises(ValueError, match="gradient path"):
        dance_tf.explain(model, x, value_range=(0, 1))
