"""The ablation inputs of §4.3: the constant ablation fills each mask with the constant and
keeps x outside it; the noise ablation stays in the value range."""

import numpy as np

import dance_tf
from tests.conftest import small_cnn


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
