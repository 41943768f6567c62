"""What one explanation returns: the map alone, or with ``return_details`` the record of
its decoys (masks, decoys, deviations, certificates, target, layer and per-feature map)."""

import numpy as np

import dance_tf
from tests.conftest import small_cnn


def test_explain_returns_map_and_details():
    model = small_cnn()
    x = np.random.default_rng(10).random((12, 12, 1)).astype(np.float32)
    sal = dance_tf.explain(model, x, value_range=(0, 1), patches_per_mask=50)
    assert sal.shape == x.shape and np.isfinite(sal).all() and sal.min() >= 0
    r = dance_tf.explain(model, x, value_range=(0, 1), patches_per_mask=50, target=1,
                         return_details=True)
    assert r.target == 1 and r.layer == "pool1"
    assert r.masks.shape == (2, 12, 12, 1) and r.decoys.shape == (4, 12, 12, 1)
    assert r.max_deviation.shape == r.certified.shape == (4,)
    assert r.feature_saliency.shape == (12, 12)
