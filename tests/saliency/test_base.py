"""A base method as an object (``saliency.get``): its name, graph safety and options bound,
called like the function on the model's logits; a BaseMethod rebinds options over its own."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dance_tf import saliency
from dance_tf.model_contract import logits_model
from dance_tf.saliency.smoothgrad import smoothgrad
from tests.conftest import small_cnn


def test_get_binds_options_and_calls_like_the_function():
    model = small_cnn()
    xs = np.random.default_rng(20).random((3, 12, 12, 1)).astype(np.float32)
    logits, _ = logits_model(model, xs.shape[1:])
    base = saliency.get("sg", samples=3, seed=2)
    assert base.name == "smoothgrad" and base.graph_safe is True and base.takes_batch_size
    t = np.array([0, 1, 2])
    np.testing.assert_allclose(base(model, xs, t), smoothgrad(logits, xs, t, samples=3, seed=2),
                               rtol=1e-6)
    pred = np.argmax(model(xs).numpy(), axis=1)
    np.testing.assert_allclose(saliency.get("gradient")(model, xs),
                               saliency.gradient(logits, xs, pred), rtol=1e-6)
    more = saliency.get(base, samples=5)
    assert more.options == {"samples": 5, "seed": 2} and base.options["samples"] == 3


class _AtMost(keras.layers.Layer):
    """Identity that fails when it sees more than ``limit`` inputs at once."""

    def __init__(self, limit, **kw):
        super().__init__(**kw)
        self.limit = limit

    def call(self, x):
        tf.debugging.assert_less_equal(tf.shape(x)[0], self.limit,
                                       message="more inputs at once than batch_size")
        return x


@pytest.mark.parametrize("name,options", [
    ("smoothgrad", {"samples": 50}), ("vargrad", {"samples": 50}),
    ("smoothgrad_range", {"samples": 50}), ("integrated_gradients", {"steps": 50}),
    ("expected_gradients", {"samples": 50})])
def test_batch_size_bounds_every_call_whatever_batch_sizes_came_before(name, options):
    # the compiled graph is reused across batch sizes (reduce_retracing: traced for an
    # unknown N after two sizes); chunks were then sized as if N = 1 and a batch of 10
    # evaluated 500 noisy copies at once — 13 GB in the report card's benchmark
    import importlib

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), _AtMost(16), keras.layers.Dense(3)])
    fn = getattr(importlib.import_module(f"dance_tf.saliency.{name}"), name)
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 10):
        x = rng.random((n, 4), dtype=np.float32)
        maps = fn(model, x, np.zeros(n, np.int64), batch_size=16, **options)
        assert np.asarray(maps).shape == (n, 4)
