"""The certificate: a decoy that fails it is replaced by x and reported (a warning)."""

import numpy as np
import pytest

import dance_tf
from tests.conftest import small_cnn


def test_uncertifiable_decoys_are_replaced_by_x():
    model = small_cnn()
    x = np.random.default_rng(6).random((12, 12, 1)).astype(np.float32)
    # Adam: an impossible bound, the random start already violates it and few steps are
    # allowed (the line search never returns an uncertified point: x itself is feasible)
    with pytest.warns(dance_tf.DecoyWarning):
        r = dance_tf.explain(model, x, value_range=(0, 1), patches_per_mask=50,
                             epsilon=1e-12, max_steps=2, init_noise=0.2, solver="adam",
                             return_details=True)
    assert not r.certified.all()
    for i in np.nonzero(~r.certified)[0]:
        np.testing.assert_array_equal(r.decoys[i], x)
        assert r.max_deviation[i] == 0
