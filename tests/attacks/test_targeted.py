"""The targeted attack (§4.4) raises the map's mass in the target region (the default
region: the bottom-right quarter), measured independently on the real model."""

import numpy as np

from dance_tf.attacks import default_region, targeted_attack
from tests.attacks.conftest import EPS, check_valid, pixel_map


def test_targeted_attack_raises_region_mass(net, images):
    xa, info = targeted_attack(net, images, iterations=15, alpha=EPS / 4,
                               value_range=(0.0, 1.0), beta=20.0, return_info=True)
    check_valid(net, images, xa)
    region = default_region(12, 12)
    assert region.sum() == 9 and region[-3:, -3:].all()  # 12 // 4 = 3
    m0 = (pixel_map(net, images) * region).sum((1, 2))
    m1 = (pixel_map(net, xa) * region).sum((1, 2))
    assert np.all(m1 >= m0) and np.mean(m1) > 1.1 * np.mean(m0)
    np.testing.assert_allclose(-info.loss_before, m0, rtol=1e-4)
    np.testing.assert_allclose(-info.loss_after, m1, rtol=1e-4)
