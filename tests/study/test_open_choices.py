"""The open choices' output gradients (softmax probability, log-probability) and fidelity
fills (image mean, blur), against hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from dance_tf.study import open_choices


def test_fills():
    x = np.zeros((32, 32, 1), np.float32)
    x[12:20, 12:20] = 1.0
    np.testing.assert_allclose(open_choices.fill_image_mean(x), np.full((1, 1, 1), 1 / 16))
    b = open_choices.fill_blur(x)
    # far from the border the blur keeps the mass; the centre dims, the edge of the block
    # spreads out, the corners stay dark
    assert b.shape == x.shape and b[0, 0, 0] < 1e-6 and 0 < b[10, 16, 0] < 0.5
    assert 0.5 < b[16, 16, 0] < 1 and b.sum() == pytest.approx(x.sum(), rel=1e-3)


def test_output_methods_are_gradients_of_softmax():
    import keras

    open_choices.register_methods()
    from dance_tf.saliency.registry import resolve_method

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    w = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    model.layers[0].set_weights([w, np.zeros(3, np.float32)])
    x = np.array([[0.1, 0.2, 0.3, 0.4]], np.float32)
    _, prob = resolve_method("gradient_probability")
    _, logp = resolve_method("gradient_log_probability")
    z = x @ w
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    # d p_c / dx = p_c (w_c − Σ_j p_j w_j);  d log p_c / dx = w_c − Σ_j p_j w_j
    mix = w[:, 1] - (w * p).sum(axis=1)
    np.testing.assert_allclose(np.asarray(logp(model, x, np.array([1])))[0], mix, atol=1e-6)
    np.testing.assert_allclose(np.asarray(prob(model, x, np.array([1])))[0], p[0, 1] * mix,
                               atol=1e-6)
