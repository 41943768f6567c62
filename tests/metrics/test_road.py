"""dance_tf.metrics.road / imputation: the imputation against a dense solve of the same
equations written pixel by pixel, and ROAD's orders and fractions on a linear model."""

import numpy as np
import pytest

from dance_tf.errors import InputError
from dance_tf.metrics import road, road_curves
from dance_tf.metrics.imputation import noisy_linear_impute
from tests.metrics.linear_models import linear_model


def dense_impute(image, removed):
    """Every removed pixel = the weighted mean (1/6 edges, 1/12 corners, over the
    neighbours inside the image) of its 8 neighbours: a dense system, np.linalg.solve."""
    h, w, c = image.shape
    unknown = [(r, q) for r in range(h) for q in range(w) if removed[r, q]]
    pos = {p: i for i, p in enumerate(unknown)}
    a = np.zeros((len(unknown), len(unknown)))
    b = np.zeros((len(unknown), c))
    for i, (r, q) in enumerate(unknown):
        for dr in (-1, 0, 1):
            for dq in (-1, 0, 1):
                if (dr, dq) == (0, 0) or not (0 <= r + dr < h and 0 <= q + dq < w):
                    continue
                wt = 1 / 12 if dr and dq else 1 / 6
                a[i, i] += wt
                if (r + dr, q + dq) in pos:
                    a[i, pos[(r + dr, q + dq)]] -= wt
                else:
                    b[i] += wt * image[r + dr, q + dq]
    out = image.astype(np.float64).copy()
    for (r, q), v in zip(unknown, np.linalg.solve(a, b)):
        out[r, q] = v
    return out


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


def test_road_orders_and_fractions_on_a_linear_model():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(4 * 4 * 1, 2))
    x = rng.normal(size=(1, 4, 4, 1)).astype(np.float32)
    pix = rng.permutation(16).astype(np.float64).reshape(1, 4, 4)     # distinct ranks
    model = linear_model(w, (4, 4, 1))
    curves = road_curves(model, x, pix, np.array([1]), fractions=(0.25, 0.5), noise=0.0,
                         output="logit")
    for j, count in enumerate((4, 8)):                                # round(p · 16)
        morf = pix[0] >= 16 - count                                   # the highest values
        lerf = pix[0] < count
        for removed, got in ((morf, curves.morf[0, j]), (lerf, curves.lerf[0, j])):
            img = dense_impute(x[0].astype(np.float64), removed)
            assert got == pytest.approx(img.ravel() @ w[:, 1], rel=1e-5, abs=1e-5)
    gap = road(model, x, pix, np.array([1]), fractions=(0.25, 0.5), noise=0.0,
               output="logit")
    assert gap[0] == pytest.approx((curves.lerf - curves.morf).mean(), rel=1e-6)
    morf = road(model, x, pix, np.array([1]), order="morf", fractions=(0.25, 0.5),
                noise=0.0, output="logit")
    assert morf[0] == pytest.approx(curves.morf.mean(), rel=1e-6)


def test_road_noise_is_seeded_per_input_not_per_batch():
    rng = np.random.default_rng(4)
    model = linear_model(rng.normal(size=(36, 3)), (6, 6))
    x = rng.normal(size=(3, 6, 6)).astype(np.float32)
    maps = rng.normal(size=(3, 6, 6))
    a = road(model, x, maps, np.array([0, 1, 2]), batch_size=1, seed=5)
    np.testing.assert_allclose(a, road(model, x, maps, np.array([0, 1, 2]), batch_size=7,
                                       seed=5), rtol=1e-6)
    assert not np.allclose(a, road(model, x, maps, np.array([0, 1, 2]), seed=6))


@pytest.mark.parametrize("kwargs, match", [
    ({"fractions": (0.5, 1.0)}, "fractions"), ({"fractions": ()}, "fractions"),
    ({"fractions": (0.0,)}, "fractions"), ({"noise": -0.1}, "noise"),
    ({"order": "both"}, "order"), ({"batch_size": 0}, "batch_size"),
])
def test_road_options_are_validated(kwargs, match):
    model = linear_model(np.ones((16, 2)), (4, 4))
    with pytest.raises(InputError, match=match):
        road(model, np.ones((1, 4, 4)), np.ones((1, 4, 4)), np.array([0]), **kwargs)


def test_road_needs_images():
    model = linear_model(np.ones((4, 2)), (4,))
    with pytest.raises(InputError, match="x"):
        road(model, np.ones((1, 4)), np.ones((1, 4)), np.array([0]))
