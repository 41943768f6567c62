"""VarGrad against an explicit loop over the same noisy copies (S9)."""

import numpy as np

from dance_tf.saliency.vargrad import vargrad
from tests.saliency.conftest import NOISY


def test_vargrad_matches_explicit_loop(mlp, noisy_grads):
    x, t, g = noisy_grads
    # batch_size 8 → 2 samples per chunk: chunking is exercised
    np.testing.assert_allclose(vargrad(mlp, x, t, **NOISY, batch_size=8), g.var(0),
                               rtol=1e-3, atol=1e-7)
    assert np.all(vargrad(mlp, x, t, samples=1) == 0.0)
