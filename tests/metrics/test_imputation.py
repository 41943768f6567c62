"""dance_tf.metrics.imputation: the noisy linear imputation against a dense solve of the
same equations written pixel by pixel; noise only on removed pixels, seeded; bad inputs."""

import numpy as np
import pytest

from dance_tf.errors import InputError
from dance_tf.metrics.imputation import noisy_linear_impute
from tests.metrics.dense_imputation import dense_impute

IMG = np.random.default_rng(0).normal(size=(5, 6, 2))
REMOVED = np.zeros((5, 6), bool)
REMOVED[0, 0] = REMOVED[0, 1] = REMOVED[1, 1] = True       # a corner blob
REMOVED[2:4, 3:6] = True                                   # a block on the right edge
REMOVED[4, 2] = True


def test_imputation_equals_a_dense_solve_and_keeps_the_other_pixels():
    got = noisy_linear_impute(IMG, REMOVED, noise=0.0)
    np.testing.assert_allclose(got, dense_impute(IMG, REMOVED), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(got[~REMOVED], IMG[~REMOVED])
    # one pixel in the interior with known neighbours: the plain weighted mean
    one = np.zeros((5, 6), bool)
    one[2, 2] = True
    nb = IMG[1:4, 1:4, 0]
    wts = np.array([[1, 2, 1], [2, 0, 2], [1, 2, 1]]) / 12
    assert noisy_linear_impute(IMG, one, 0.0)[2, 2, 0] == pytest.approx((wts * nb).sum())


def test_per_channel_masks_and_grey_images():
    masks = np.stack([REMOVED, np.roll(REMOVED, 1, axis=1)], axis=-1)
    got = noisy_linear_impute(IMG, masks, 0.0)
    for ch in range(2):
        np.testing.assert_allclose(got[..., ch],
                                   dense_impute(IMG[..., ch:ch + 1], masks[..., ch])[..., 0],
                                   rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(noisy_linear_impute(IMG[..., 0], REMOVED, 0.0),
                               dense_impute(IMG[..., :1], REMOVED)[..., 0], atol=1e-12)


def test_noise_only_on_removed_pixels_and_seeded():
    plain = noisy_linear_impute(IMG, REMOVED, 0.0)
    noisy = noisy_linear_impute(IMG, REMOVED, 0.5, np.random.default_rng(1))
    np.testing.assert_array_equal(noisy[~REMOVED], IMG[~REMOVED])
    diff = (noisy - plain)[REMOVED]
    assert np.all(diff != 0) and 0.2 < diff.std() < 1.0
    np.testing.assert_array_equal(noisy, noisy_linear_impute(IMG, REMOVED, 0.5,
                                                             np.random.default_rng(1)))
    with pytest.raises(InputError, match="every pixel"):
        noisy_linear_impute(IMG, np.ones((5, 6), bool), 0.0)
    with pytest.raises(InputError, match="noise"):
        noisy_linear_impute(IMG, REMOVED, -1.0)
    with pytest.raises(TypeError, match="removed"):
        noisy_linear_impute(IMG, REMOVED.astype(float), 0.0)
    with pytest.raises(InputError, match="image"):
        noisy_linear_impute(np.full((5, 6), np.nan), REMOVED, 0.0)
