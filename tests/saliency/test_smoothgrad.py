"""SmoothGrad: the mean of plain gradients at seeded noisy copies, computed by hand; and
the same noisy copies as VarGrad and SmoothGrad-range at the same seed (S9)."""

import numpy as np
import tensorflow as tf

from dance_tf import saliency
from tests.saliency.conftest import NOISY


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


def test_smoothgrad_matches_explicit_loop(mlp, noisy_grads):
    x, t, g = noisy_grads
    np.testing.assert_allclose(saliency.smoothgrad(mlp, x, t, **NOISY), g.mean(0), rtol=1e-4,
                               atol=1e-6)
