"""SmoothGrad-range against an explicit loop over the same noisy copies (S9)."""

import numpy as np

from dance_tf.saliency.smoothgrad_range import smoothgrad_range
from tests.saliency.conftest import NOISY


def test_smoothgrad_range_matches_explicit_loop(mlp, noisy_grads):
    x, t, g = noisy_grads
    # batch_size 8 → 2 samples per chunk: chunking is exercised
    np.testing.assert_allclose(smoothgrad_range(mlp, x, t, **NOISY, batch_size=8),
                               g.max(0) - g.min(0), rtol=1e-4, atol=1e-6)
