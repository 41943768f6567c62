"""dance_tf.metrics.sensitivity: the explanation sensitivity of an attack, by hand (§4.4)."""

import numpy as np

from dance_tf.metrics import (
    sensitivity,
)


def test_sensitivity_hand_computed():
    sal_x = np.array([[[3.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]])
    sal_a = np.array([[[0.0, 4.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]])
    x = np.zeros((2, 2, 2, 1))
    xa = x.copy()
    xa[0, 0, 0, 0] = 2.0  # ‖x − x̂‖ = 2
    xa[1, :, :, 0] = 0.5  # ‖x − x̂‖ = sqrt(4 · 0.25) = 1
    ss = sensitivity(sal_x, sal_a, x, xa)
    np.testing.assert_allclose(ss, [5.0 / 2.0, 0.0])  # ‖(3, −4)‖ = 5


def test_sensitivity_topk_binarised():
    sal_x = np.array([[4.0, 3.0, 2.0, 1.0]])
    sal_a = np.array([[1.0, 2.0, 3.0, 4.0]])
    x, xa = np.zeros((1, 4)), np.full((1, 4), 0.5)  # ‖x − x̂‖ = 1
    # top-50%: {0, 1} vs {2, 3} → four differing entries, ‖·‖ = 2
    np.testing.assert_allclose(sensitivity(sal_x, sal_a, x, xa, k=0.5), [2.0])
