"""The top-k attack (§4.4) lowers the mass of the map's top-k pixels, measured
independently on the real model, and keeps the label and the budget."""

import numpy as np

from dance_tf.attacks import topk_attack
from tests.attacks.conftest import check_valid, pixel_map


def test_topk_attack_lowers_topk_mass(net, images):
    xa = topk_attack(net, images, iterations=15, k=10, value_range=(0.0, 1.0), beta=5.0)
    check_valid(net, images, xa)
    s0, s1 = pixel_map(net, images), pixel_map(net, xa)
    flat0 = s0.reshape(len(s0), -1)
    top = np.argsort(-flat0, axis=1)[:, :10]
    before = np.take_along_axis(flat0, top, 1).sum(1)
    after = np.take_along_axis(s1.reshape(len(s1), -1), top, 1).sum(1)
    assert np.all(after <= before) and np.mean(after) < 0.9 * np.mean(before)
