"""The plain gradient against central finite differences of the model's own logit."""

import numpy as np
import pytest

from dance_tf import saliency


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
