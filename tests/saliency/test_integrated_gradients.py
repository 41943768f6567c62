"""Integrated gradients: completeness, and the midpoint rule computed by hand with the
plain gradient (any baseline, any chunking)."""

import numpy as np

from dance_tf import saliency


def test_integrated_gradients_completeness(smooth_cnn):
    rng = np.random.default_rng(2)
    x = rng.random((3, 12, 12, 1)).astype(np.float32)
    targets = np.array([0, 1, 3])
    ig = saliency.integrated_gradients(smooth_cnn, x, targets, steps=128, batch_size=50)
    f_x = smooth_cnn(x).numpy()[np.arange(3), targets]
    f_0 = smooth_cnn(np.zeros_like(x)).numpy()[np.arange(3), targets]
    sums = ig.reshape(3, -1).sum(axis=1)
    np.testing.assert_allclose(sums, f_x - f_0, rtol=0.01, atol=1e-4)


def test_integrated_gradients_baseline_and_chunking(smooth_cnn):
    x = np.random.default_rng(3).random((2, 12, 12, 1)).astype(np.float32)
    a = saliency.integrated_gradients(smooth_cnn, x, [0, 1], steps=20, baseline=0.5,
                                      batch_size=3)
    b = saliency.integrated_gradients(smooth_cnn, x, [0, 1], steps=20, baseline=0.5,
                                      batch_size=1000)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # midpoint rule computed by hand with the plain gradient
    alphas = (np.arange(20) + 0.5) / 20
    acc = sum(saliency.gradient(smooth_cnn, 0.5 + al * (x - 0.5), [0, 1]) for al in alphas)
    np.testing.assert_allclose(a, (x - 0.5) * acc / 20, rtol=1e-4, atol=1e-6)
