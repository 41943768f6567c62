"""Masks: counts as the paper's formula, coverage, shapes for images, text and tabular."""

import math

import numpy as np
import pytest

from dance_tf import masks


@pytest.mark.parametrize("size,patch,stride,m", [(12, 3, 1, 100), (32, 3, 1, 100),
                                                 (10, 3, 2, 4), (9, 2, 3, 1)])
def test_counts_follow_the_paper(size, patch, stride, m):
    shape = (size, size, 3)
    per_axis = (size - patch + stride) // stride
    corners = masks.windows(shape, patch, stride)
    assert len(corners) == per_axis ** 2
    mk, groups = masks.patch_masks(shape, patch, stride, m)
    assert len(mk) == math.ceil(per_axis ** 2 / m) == masks.count_masks(shape, patch, stride, m)
    assert sum(len(g) for g in groups) == len(corners)
    assert masks.covered(mk, corners, patch).all()
    # all channels of a window are in its mask
    assert np.all(mk == mk[..., :1])


def test_hand_worked_masks():
    mk, groups = masks.patch_masks((4, 4, 1), 2, 2, 2)
    assert mk.shape == (2, 4, 4, 1)
    expected0 = np.zeros((4, 4))
    expected0[:2, :] = 1  # windows (0,0) and (0,2) in raster order
    np.testing.assert_array_equal(mk[0, ..., 0], expected0)
    np.testing.assert_array_equal(mk[1, ..., 0], 1 - expected0)


def test_text_and_tabular_masks():
    mk, _ = masks.patch_masks((5, 7), 1, 1, 1)
    assert mk.shape == (5, 5, 7)
    for i in range(5):
        assert mk[i, i].all() and mk[i].sum() == 7  # one word = its whole embedding row
    tab, _ = masks.patch_masks((6,), 1, 1, 1)
    np.testing.assert_array_equal(tab, np.eye(6, dtype=np.float32))
    assert masks.default_patch((224, 224, 3)) == (3, 100)
    assert masks.default_patch((20, 50)) == (1, 1)


def test_receptive_field_packing_keeps_windows_apart():
    shape, patch, rf = (40, 40, 1), 3, 6
    # m = 16: the paper makes ceil(38² / 16) = 91 masks, the lattice 64
    mk, groups = masks.patch_masks(shape, patch, 1, 16, "receptive_field", rf)
    corners = masks.windows(shape, patch, 1)
    assert masks.covered(mk, corners, patch).all()
    assert len(mk) == 8 ** 2  # q = R + P − 1 = 8 per axis
    for g in groups:
        if len(g) > 1:
            d = np.abs(g[:, None, :] - g[None, :, :]).max(-1)
            d[np.eye(len(g), dtype=bool)] = 10**6
            assert d.min() >= rf + patch - 1
    vgg = masks.patch_masks((224, 224, 1), 3, 1, 100, "receptive_field", 6)[0]
    assert 2 * len(vgg) <= 200 < 2 * masks.count_masks((224, 224, 3), 3, 1, 100)


def test_receptive_field_packing_never_makes_more_masks_than_the_paper():
    # digits 32², R = 4: the lattice (q = 6) would make 36 masks of 25 windows; the paper
    # packing with m = 100 makes 9, so it is kept (the same 9 raster groups)
    shape = (32, 32, 1)
    rf_groups = masks.window_groups(shape, 3, 1, 100, "receptive_field", 4)
    paper = masks.window_groups(shape, 3, 1, 100, "paper")
    assert len(rf_groups) == 9
    for a, b in zip(rf_groups, paper):
        np.testing.assert_array_equal(a, b)
    # with m = 25 the paper makes 36 masks and the lattice fits: 36 classes mod 6
    lattice = masks.window_groups(shape, 3, 1, 25, "receptive_field", 4)
    assert len(lattice) == 36 and {len(g) for g in lattice} == {25}
    assert all(len({tuple(c) for c in g % 6}) == 1 for g in lattice)


@pytest.mark.parametrize("kwargs,match", [
    ({"patch_size": 13}, "patch_size"), ({"patches_per_mask": 0}, "patches_per_mask"),
    ({"stride": 0}, "stride"), ({"packing": "zigzag"}, "packing"),
])
def test_bad_mask_arguments(kwargs, match):
    args = {"input_shape": (12, 12, 1), "patch_size": 3, "stride": 1, "patches_per_mask": 4}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        masks.patch_masks(**args)
