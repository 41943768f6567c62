"""Cascading randomisation sanity check (S6): SSIM(map, map) = 1, randomised maps differ,
and the caller's model is never changed."""

import keras
import numpy as np

from dance_tf.metrics import cascading_randomization, map_ssim
from dance_tf.saliency import gradient


def _nested_net():
    inner = keras.Sequential([keras.Input((12, 12, 2)),
                              keras.layers.Conv2D(4, 3, activation="relu", name="c1"),
                              keras.layers.Conv2D(4, 3, activation="relu", name="c2")],
                             name="block")
    inp = keras.Input((12, 12, 2))
    h = keras.layers.Flatten()(inner(inp))
    out = keras.layers.Dense(3, name="logits")(h)
    keras.utils.set_random_seed(3)
    return keras.Model(inp, out)


def test_ssim_identity_and_difference():
    rng = np.random.default_rng(0)
    a = rng.random((2, 12, 12, 3))
    np.testing.assert_allclose(map_ssim(a, a), [1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(map_ssim(a, 5 * a + 2), [1.0, 1.0], atol=1e-5)  # 0–1 normalised
    b = rng.random((2, 12, 12, 3))
    assert np.all(map_ssim(a, b) < 0.5)


def test_cascade_on_copy_and_in_place():
    model = _nested_net()
    x = np.random.default_rng(1).normal(size=(3, 12, 12, 2)).astype("float32")
    t = np.argmax(model.predict(x, verbose=0), axis=1)
    before = [w.copy() for w in model.get_weights()]
    res = cascading_randomization(model, x, t, gradient, return_maps=True)
    assert res.layers == ["logits", "c2", "c1"]
    assert res.ssim.shape == (3, 3) and res.maps.shape == (4, 3, 12, 12)
    assert np.all(res.ssim < 0.95)
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    res2 = cascading_randomization(model, x, t, gradient, layers=1, in_place=True)
    assert res2.layers == ["logits"] and np.all(res2.ssim < 0.99)
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    # the same model again (no randomisation) reproduces the map: SSIM 1
    np.testing.assert_allclose(map_ssim(gradient(model, x, t), res.maps[0]), 1.0, atol=1e-6)
