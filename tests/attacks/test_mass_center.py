"""The mass-centre attack (§4.4) moves the centre of mass of the map, measured
independently on the real model; its loss is the squared shift."""

import numpy as np

from dance_tf.attacks import mass_center_attack
from tests.attacks.conftest import check_valid, pixel_map


def test_mass_center_attack_moves_center(net, images):
    xa, info = mass_center_attack(net, images, iterations=15, value_range=(0.0, 1.0),
                                  beta=5.0, return_info=True)
    check_valid(net, images, xa)
    rows, cols = np.arange(12)[:, None], np.arange(12)[None, :]

    def center(s):
        total = s.sum((1, 2))[:, None]
        return np.stack([(s * rows).sum((1, 2)), (s * cols).sum((1, 2))], 1) / total

    shift = np.linalg.norm(center(pixel_map(net, xa)) - center(pixel_map(net, images)), axis=1)
    assert np.all(shift[info.success] > 0.05) and info.success.sum() >= 3
    np.testing.assert_allclose(-info.loss_after, shift ** 2, rtol=1e-3, atol=1e-5)
