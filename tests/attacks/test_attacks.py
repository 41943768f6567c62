"""Explanation attacks (§4.4): each attack lowers its own loss, measured independently on
the real model, keeps the label, and stays in the ε-box and the legal range."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dance_tf.attacks import (
    default_region,
    mass_center_attack,
    softplus_copy,
    targeted_attack,
    topk_attack,
)

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


def _pixel_map(model, x):
    """Independent: |∂ logit_c / ∂x| summed over channels, scaled to sum to H·W (numpy)."""
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        logits = model(xt)
        c = tf.argmax(logits, axis=1)
        chosen = tf.reduce_sum(logits * tf.one_hot(c, logits.shape[-1]))
    a = np.abs(tape.gradient(chosen, xt).numpy()).sum(-1)
    return a / a.sum(axis=(1, 2), keepdims=True) * a.shape[1] * a.shape[2]


def _check_valid(model, x, xa):
    assert xa.shape == x.shape and xa.dtype == np.float32
    assert np.all(np.abs(xa - x) <= EPS + 1e-6)
    assert xa.min() >= 0.0 and xa.max() <= 1.0
    np.testing.assert_array_equal(np.argmax(model(xa), 1), np.argmax(model(x), 1))


def test_topk_attack_lowers_topk_mass(net, images):
    xa = topk_attack(net, images, iterations=15, k=10, value_range=(0.0, 1.0), beta=5.0)
    _check_valid(net, images, xa)
    s0, s1 = _pixel_map(net, images), _pixel_map(net, xa)
    flat0 = s0.reshape(len(s0), -1)
    top = np.argsort(-flat0, axis=1)[:, :10]
    before = np.take_along_axis(flat0, top, 1).sum(1)
    after = np.take_along_axis(s1.reshape(len(s1), -1), top, 1).sum(1)
    assert np.all(after <= before) and np.mean(after) < 0.9 * np.mean(before)


def test_targeted_attack_raises_region_mass(net, images):
    xa, info = targeted_attack(net, images, iterations=15, alpha=EPS / 4,
                               value_range=(0.0, 1.0), beta=20.0, return_info=True)
    _check_valid(net, images, xa)
    region = default_region(12, 12)
    assert region.sum() == 9 and region[-3:, -3:].all()  # 12 // 4 = 3
    m0 = (_pixel_map(net, images) * region).sum((1, 2))
    m1 = (_pixel_map(net, xa) * region).sum((1, 2))
    assert np.all(m1 >= m0) and np.mean(m1) > 1.1 * np.mean(m0)
    np.testing.assert_allclose(-info.loss_before, m0, rtol=1e-4)
    np.testing.assert_allclose(-info.loss_after, m1, rtol=1e-4)


def test_mass_center_attack_moves_center(net, images):
    xa, info = mass_center_attack(net, images, iterations=15, value_range=(0.0, 1.0),
                                  beta=5.0, return_info=True)
    _check_valid(net, images, xa)
    rows, cols = np.arange(12)[:, None], np.arange(12)[None, :]

    def center(s):
        total = s.sum((1, 2))[:, None]
        return np.stack([(s * rows).sum((1, 2)), (s * cols).sum((1, 2))], 1) / total

    shift = np.linalg.norm(center(_pixel_map(net, xa)) - center(_pixel_map(net, images)), axis=1)
    assert np.all(shift[info.success] > 0.05) and info.success.sum() >= 3
    np.testing.assert_allclose(-info.loss_after, shift ** 2, rtol=1e-3, atol=1e-5)


def test_label_kept_even_when_step_would_flip(images):
    keras.utils.set_random_seed(1)
    m = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Flatten(),
                          keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    xa = topk_attack(m, images, epsilon=0.5, alpha=0.1, iterations=10, k=0.1,
                     value_range=(0.0, 1.0))
    np.testing.assert_array_equal(np.argmax(m(xa), 1), np.argmax(m(images), 1))


def test_softplus_copy_shares_and_converges(net, images):
    sharp = softplus_copy(net, beta=200.0)
    np.testing.assert_allclose(sharp(images), net(images), atol=5e-3)
    soft = softplus_copy(net, beta=1.0)
    assert np.abs(soft(images) - net(images)).max() > 1e-2
    dense = net.layers[-1]
    assert any(v is dense.kernel for v in soft.weights)  # no-ReLU layer shared
    with pytest.raises(ValueError, match="beta"):
        softplus_copy(net, beta=0.0)


def test_robustness_report_with_and_without_decoys_shape(net, images):
    from dance_tf.attacks import robustness_report
    from dance_tf.saliency import gradient, smoothgrad

    t = np.argmax(net(images), 1)
    xa = topk_attack(net, images, iterations=5, k=10, value_range=(0.0, 1.0))
    rep = robustness_report(images, xa, {
        "gradient": lambda xs: gradient(net, xs, t),
        "smoothgrad": lambda xs: smoothgrad(net, xs, t, samples=4)}, k=0.2, topk_pixels=10)
    assert set(rep) == {"gradient", "smoothgrad"}
    g0 = np.abs(gradient(net, images, t)).sum(-1)
    g1 = np.abs(gradient(net, xa, t)).sum(-1)

    # SS by hand on the top-20% binarised pixel maps (29 of 144 pixels)
    def top(s):
        flat = s.reshape(len(s), -1)
        b = np.zeros_like(flat)
        np.put_along_axis(b, np.argsort(-flat, 1, kind="stable")[:, :29], 1.0, 1)
        return b

    want = np.linalg.norm(top(g0) - top(g1), axis=1) / np.linalg.norm(
        (images - xa).reshape(len(xa), -1), axis=1)
    np.testing.assert_allclose(rep["gradient"]["ss"], want, rtol=1e-6)
    assert rep["gradient"]["topk_intersection"].shape == (4,)


def test_softmax_model_is_attacked_on_logits(images):
    keras.utils.set_random_seed(2)
    inp = keras.Input((12, 12, 3))
    h = keras.layers.Conv2D(4, 3, activation="relu")(inp)
    h = keras.layers.Flatten()(h)
    logits = keras.layers.Dense(3, name="logits")(h)
    probs = keras.layers.Softmax()(logits)
    with_softmax = keras.Model(inp, probs)
    xa, info = mass_center_attack(with_softmax, images, iterations=3, value_range=(0.0, 1.0),
                                  return_info=True)
    # the loss is computed on the logit gradient map: same as on the logits-only model
    plain = keras.Model(inp, logits)
    _, info2 = mass_center_attack(plain, images, iterations=3, value_range=(0.0, 1.0),
                                  return_info=True)
    np.testing.assert_allclose(info.loss_after, info2.loss_after, rtol=1e-4, atol=1e-6)


def test_attack_through_other_base_methods(net, images):
    from dance_tf.saliency import integrated_gradients

    x = images[:2]
    _, by_name = topk_attack(net, x, iterations=4, k=10, value_range=(0.0, 1.0),
                             method="ig", method_options={"steps": 4}, return_info=True)
    assert np.all(by_name.loss_after <= by_name.loss_before)
    assert np.any(by_name.loss_after < by_name.loss_before)

    def user_ig(model, xs, ts):
        return integrated_gradients(model, xs, ts, steps=4)

    _, by_callable = topk_attack(net, x, iterations=4, k=10, value_range=(0.0, 1.0),
                                 method=user_ig, return_info=True)
    np.testing.assert_allclose(by_callable.loss_after, by_name.loss_after, rtol=1e-5)


def test_capped_relu_gets_a_smooth_twin_and_the_attack_moves():
    """ReLU6 (EfficientNet-Lite's activation) has a zero second derivative too: without a
    smooth twin the attack cannot move at all (it left every ImageNet input unchanged)."""
    keras.utils.set_random_seed(3)
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(6, 3, padding="same")(inp)
    h = keras.layers.ReLU(6.0, name="relu6")(h)
    h = keras.layers.Flatten()(h)
    m = keras.Model(inp, keras.layers.Dense(3)(h))
    x = np.random.default_rng(4).random((2, 8, 8, 3)).astype("float32") * 4.0
    sharp = softplus_copy(m, beta=100.0)
    assert type(sharp.get_layer("relu6")).__name__ == "BetaSoftplusCapped"
    np.testing.assert_allclose(sharp(x), m(x), atol=0.05)   # → ReLU6 as β grows
    z = np.linspace(-3, 9, 25, dtype="float32")
    twin = sharp.get_layer("relu6")(z).numpy()
    np.testing.assert_allclose(twin, np.clip(z, 0, 6), atol=0.01)
    xa = topk_attack(m, x, epsilon=0.2, alpha=0.05, iterations=5, k=0.2,
                     value_range=(0.0, 4.0))
    assert np.abs(xa - x).max() > 0    # the attack moved
