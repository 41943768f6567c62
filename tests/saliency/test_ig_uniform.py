"""IG with a uniform baseline (S9) against the closed form of a linear model."""

import numpy as np

from dance_tf.saliency.ig_uniform import ig_uniform


def test_ig_uniform_linear_closed_form(linear):
    x = np.random.default_rng(5).normal(size=(2, 4)).astype("float32")
    w = linear.layers[-1].kernel.numpy()
    narrow = ig_uniform(linear, x, [1, 1], baseline_range=(0.5, 0.5 + 1e-6))
    np.testing.assert_allclose(narrow, (x - 0.5) * w[:, 1], rtol=1e-4, atol=1e-5)
    many = ig_uniform(linear, x, [1, 1], samples=2000, steps=2, baseline_range=(0.0, 1.0),
                      batch_size=8000)
    np.testing.assert_allclose(many, (x - 0.5) * w[:, 1], atol=0.03 * np.abs(w).max())
