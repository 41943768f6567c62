"""Decoy certificates recomputed with the model's own layers, movement, seeds, chunking."""

import keras
import numpy as np
import pytest

import dance_tf
from tests.conftest import small_cnn
from tests.decoys.conftest import prefix


@pytest.fixture(scope="module")
def details():
    model = small_cnn()
    x = np.random.default_rng(5).random((12, 12, 1)).astype(np.float32) * 0.8 + 0.1
    ex = dance_tf.Explainer(model, value_range=(0.0, 1.0), layer="pool1", patch_size=3,
                            patches_per_mask=20, seed=3)
    return model, x, ex, ex.explain(x, return_details=True)


def test_certificates_hold(details):
    model, x, _, r = details
    n = len(r.masks)
    assert r.decoys.shape == (2 * n, 12, 12, 1)
    assert r.certified.all()
    ref = prefix(model, "pool1")(x[None])
    for i, d in enumerate(r.decoys):
        m = r.masks[i % n]
        np.testing.assert_array_equal(d[m == 0], x[m == 0])  # identical outside the mask
        assert d.min() >= 0.0 and d.max() <= 1.0
        dev = np.abs(prefix(model, "pool1")(d[None]) - ref).max()
        assert dev <= r.epsilon * (1 + 1e-5)
        assert dev == pytest.approx(r.max_deviation[i], rel=1e-4, abs=1e-6)


def test_decoys_move_in_both_directions(details):
    _, x, _, r = details
    n = len(r.masks)
    assert np.mean([np.abs(r.decoys[i] - x)[r.masks[i % n] > 0].mean() for i in range(2 * n)]) > 0
    up = np.mean([np.mean((r.decoys[i] - x)[r.masks[i] > 0]) for i in range(n)])
    down = np.mean([np.mean((r.decoys[n + i] - x)[r.masks[i] > 0]) for i in range(n)])
    assert up > 1e-4 and down < -1e-4
    assert r.steps.min() >= 1


def test_same_seed_same_output_and_chunking(details):
    model, x, ex, r = details
    again = ex.explain(x, return_details=True)
    np.testing.assert_array_equal(again.saliency, r.saliency)
    chunked = dance_tf.Explainer(model, value_range=(0.0, 1.0), layer="pool1", patch_size=3,
                                 patches_per_mask=20, seed=3, decoy_batch_size=3)
    rc = chunked.explain(x, return_details=True)
    np.testing.assert_allclose(rc.decoys, r.decoys, atol=1e-5)
    np.testing.assert_allclose(rc.saliency, r.saliency, rtol=1e-4, atol=1e-5)
    # the default line search draws nothing at random: the seed changes nothing ...
    other = dance_tf.Explainer(model, value_range=(0.0, 1.0), layer="pool1", patch_size=3,
                               patches_per_mask=20, seed=4).explain(x)
    np.testing.assert_array_equal(other, r.saliency)
    # ... while the Adam solver's random start depends on it
    adam = [dance_tf.Explainer(model, value_range=(0.0, 1.0), layer="pool1", patch_size=3,
                               patches_per_mask=20, seed=sd, solver="adam").explain(x)
            for sd in (3, 4)]
    assert not np.allclose(adam[0], adam[1])


def test_deviation_bound_is_respected():
    model = small_cnn()
    x = np.full((12, 12, 1), 0.5, np.float32)
    b = 0.01
    r = dance_tf.explain(model, x, value_range=(0, 1), patch_size=4, patches_per_mask=9,
                         deviation_bound=b, return_details=True)
    assert np.abs(r.decoys - x).max() <= b + 1e-6


def test_keras_nested_batchnorm_model_certificates():
    keras.utils.set_random_seed(1)
    inner = keras.Sequential([keras.Input((10, 10, 2)), keras.layers.Conv2D(4, 3, name="c1"),
                              keras.layers.BatchNormalization(name="bn"),
                              keras.layers.ReLU(name="r1"),
                              keras.layers.MaxPooling2D(name="p1")], name="inner")
    inp = keras.Input((10, 10, 2))
    h = keras.layers.Rescaling(2.0, name="scale")(inp)
    h = inner(h)
    out = keras.layers.Dense(3, name="logits")(keras.layers.Flatten()(h))
    model = keras.Model(inp, out, name="outer")
    bn = inner.get_layer("bn")
    bn.set_weights([w + np.random.default_rng(0).random(w.shape).astype(np.float32)
                    for w in bn.get_weights()])
    x = np.random.default_rng(8).random((10, 10, 2)).astype(np.float32)
    r = dance_tf.explain(model, x, layer="p1", value_range=(0, 1), patches_per_mask=16,
                         return_details=True)
    assert r.layer == "inner/p1" and r.certified.all()   # the path of ℓ

    def prefix(v):
        h = model.get_layer("scale")(v)
        for name in ("c1", "bn", "r1", "p1"):
            h = inner.get_layer(name)(h, training=False)
        return h.numpy()

    ref = prefix(x[None])
    for d in r.decoys:
        assert np.abs(prefix(d[None]) - ref).max() <= r.epsilon * (1 + 1e-5)
