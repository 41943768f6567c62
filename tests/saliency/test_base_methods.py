"""Base methods against independent computations (finite differences, IG completeness)."""

import numpy as np
import pytest
import tensorflow as tf

from dance_tf import saliency
from tests.conftest import small_cnn


def logit(model, x, c):
    return float(model(x[None].astype(np.float32), training=False).numpy()[0, c])


def test_gradient_matches_central_differences(smooth_cnn):
    rng = np.random.default_rng(1)
    x = rng.random((12, 12, 1)).astype(np.float64)
    g = saliency.gradient(smooth_cnn, x[None].astype(np.float32), [2])[0]
    h = 1e-2
    for idx in [(0, 0, 0), (5, 7, 0), (11, 3, 0), (6, 6, 0)]:
        e = np.zeros_like(x)
        e[idx] = h
        fd = (logit(smooth_cnn, x + e, 2) - logit(smooth_cnn, x - e, 2)) / (2 * h)
        assert g[idx] == pytest.approx(fd, rel=2e-2, abs=2e-4)


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


def test_smoothgrad_is_mean_of_noisy_gradients(smooth_cnn):
    x = np.random.default_rng(4).random((2, 12, 12, 1)).astype(np.float32)
    sg = saliency.smoothgrad(smooth_cnn, x, [1, 2], samples=6, noise=0.1, seed=7,
                             batch_size=4)
    sigma = 0.1 * (x.max(axis=(1, 2, 3)) - x.min(axis=(1, 2, 3)))[:, None, None, None]
    total = 0
    for i in range(6):
        eps = tf.random.stateless_normal(x.shape, seed=[7, i]).numpy()
        total = total + saliency.gradient(smooth_cnn, x + sigma * eps, [1, 2])
    np.testing.assert_allclose(sg, total / 6, rtol=1e-4, atol=1e-6)
    again = saliency.smoothgrad(smooth_cnn, x, [1, 2], samples=6, noise=0.1, seed=7)
    np.testing.assert_allclose(sg, again, rtol=1e-5, atol=1e-7)


def test_tensor_in_tensor_out_and_bad_targets():
    model = small_cnn()
    x = tf.random.uniform((2, 12, 12, 1))
    assert tf.is_tensor(saliency.gradient(model, x, tf.constant([0, 1])))
    with pytest.raises(ValueError, match="targets"):
        saliency.gradient(model, np.zeros((2, 12, 12, 1), np.float32), [0, 9])
    with pytest.raises(TypeError, match="targets"):
        saliency.gradient(model, np.zeros((2, 12, 12, 1), np.float32), [0.5, 1.0])
    with pytest.raises(ValueError, match="steps"):
        saliency.integrated_gradients(model, np.zeros((1, 12, 12, 1), np.float32), [0],
                                      steps=0)
