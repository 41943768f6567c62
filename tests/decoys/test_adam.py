"""The Adam solver (S1.2): one-sided at its random start, certified with an independent
F_ℓ, and its ``against`` share recomputed from the decoys."""

import numpy as np

import dance_tf
from tests.decoys.conftest import CASES, prefix, signs_and_masks


def test_adam_solver_is_one_sided_at_start_and_certified():
    """The paper's S1.2 schedule stays available; its decoys are certified and their
    ``against`` share is what the decoys show."""
    model, layer, x, rng, opts = CASES["cnn"][0](), *CASES["cnn"][1:]
    r = dance_tf.explain(model, x, layer=layer, value_range=rng, solver="adam",
                         return_details=True, **opts)
    signs, masks = signs_and_masks(r)
    assert r.certified.any() and r.steps.max() > 1
    against = [np.mean(((d - x) * s)[(m > 0)] < 0) for d, m, s in zip(r.decoys, masks, signs)]
    np.testing.assert_allclose(r.against, against, atol=1e-6)
    f_l = prefix(model, layer)
    dev = np.abs(f_l(r.decoys) - f_l(x[None])).reshape(len(r.decoys), -1).max(axis=1)
    assert np.all(dev <= r.epsilon * (1 + 1e-5))
