"""Decoy certificates recomputed with the model's own layers, movement, seeds, chunking."""

import keras
import numpy as np
import pytest

import dance_tf
from tests.conftest import small_cnn


def own_prefix(model, x, upto="pool1"):
    """F_ℓ computed by calling the model's layers directly (not the package's sub-model)."""
    h = x
    for layer in model.layers:
        h = layer(h, training=False)
        if layer.name == upto:
            return h.numpy()
    raise AssertionError(upto)


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
    ref = own_prefix(model, x[None])
    for i, d in enumerate(r.decoys):
        m = r.masks[i % n]
        np.testing.assert_array_equal(d[m == 0], x[m == 0])  # identical outside the mask
        assert d.min() >= 0.0 and d.max() <= 1.0
        dev = np.abs(own_prefix(model, d[None]) - ref).max()
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


def test_uncertifiable_decoys_are_replaced_by_x():
    model = small_cnn()
    x = np.random.default_rng(6).random((12, 12, 1)).astype(np.float32)
    # Adam: an impossible bound, the random start already violates it and few steps are
    # allowed (the line search never returns an uncertified point: x itself is feasible)
    with pytest.warns(dance_tf.DecoyWarning):
        r = dance_tf.explain(model, x, value_range=(0, 1), patches_per_mask=50,
                             epsilon=1e-12, max_steps=2, init_noise=0.2, solver="adam",
                             return_details=True)
    assert not r.certified.all()
    for i in np.nonzero(~r.certified)[0]:
        np.testing.assert_array_equal(r.decoys[i], x)
        assert r.max_deviation[i] == 0


def test_ablation_inputs():
    model = small_cnn()
    x = np.random.default_rng(7).random((12, 12, 1)).astype(np.float32)
    const = dance_tf.explain(model, x, value_range=(0, 1), patches_per_mask=50,
                             perturbation="constant", constant=0.25, return_details=True)
    n = len(const.masks)
    assert const.decoys.shape[0] == n
    for i in range(n):
        m = const.masks[i] > 0
        np.testing.assert_allclose(const.decoys[i][m], 0.25)
        np.testing.assert_array_equal(const.decoys[i][~m], x[~m])
    noise = dance_tf.explain(model, x, value_range=(0, 1), patches_per_mask=50,
                             perturbation="noise", return_details=True)
    assert noise.decoys.shape[0] == 2 * n
    assert noise.decoys.min() >= 0 and noise.decoys.max() <= 1


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
