"""The β-softplus copy the attacks differentiate: it shares the model's weights,
converges to it as β grows, and gives a capped ReLU (ReLU6) a smooth twin."""

import keras
import numpy as np
import pytest

from dance_tf.attacks import softplus_copy, topk_attack


def test_softplus_copy_shares_and_converges(net, images):
    sharp = softplus_copy(net, beta=200.0)
    np.testing.assert_allclose(sharp(images), net(images), atol=5e-3)
    soft = softplus_copy(net, beta=1.0)
    assert np.abs(soft(images) - net(images)).max() > 1e-2
    dense = net.layers[-1]
    assert any(v is dense.kernel for v in soft.weights)  # no-ReLU layer shared
    with pytest.raises(ValueError, match="beta"):
        softplus_copy(net, beta=0.0)


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
