"""A base method as an object (``saliency.get``): its name, graph safety and options bound,
called like the function on the model's logits; a BaseMethod rebinds options over its own."""

import numpy as np

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
