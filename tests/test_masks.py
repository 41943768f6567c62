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


def test_tile_side_is_the_smallest_integer_root():
    # b^k ≥ m with b minimal, checked against a brute-force search
    for k in (1, 2, 3):
        for m in range(1, 130):
            b = masks.tile_side(m, k)
            assert b ** k >= m and (b == 1 or (b - 1) ** k < m), (m, k, b)


def test_tiles_hand_worked():
    # 6×6 image, P = 2, stride 1: 5×5 windows; m = 4 → b = 2 → ceil(5/2) = 3 blocks per
    # axis: block = index · 3 // 5 puts window rows 0..4 in blocks 0, 0, 1, 1, 2
    mk, groups = masks.patch_masks((6, 6, 2), 2, 1, 4, "tiles")
    assert len(groups) == 9
    assert [len(g) for g in groups] == [4, 4, 2, 4, 4, 2, 2, 2, 1]
    np.testing.assert_array_equal(groups[4], [[2, 2], [2, 3], [3, 2], [3, 3]])
    expected = np.zeros((6, 6))
    expected[2:5, 2:5] = 1  # windows at rows/cols 2..3, each 2 wide: pixels 2..4
    np.testing.assert_array_equal(mk[4, ..., 0], expected)
    assert masks.covered(mk, masks.windows((6, 6, 2), 2, 1), 2).all()


@pytest.mark.parametrize("shape,patch,stride,m", [((32, 32, 1), 3, 1, 100),
                                                  ((96, 96, 1), 3, 1, 256),
                                                  ((17, 23, 3), 3, 2, 10),
                                                  ((40, 8), 1, 1, 3), ((12,), 1, 1, 5)])
def test_tiles_cover_every_window_once_in_compact_blocks(shape, patch, stride, m):
    corners = masks.windows(shape, patch, stride)
    groups = masks.window_groups(shape, patch, stride, m, "tiles")
    k = corners.shape[1]
    b = masks.tile_side(m, k)
    seen = np.concatenate(groups)
    assert len(seen) == len(corners)
    assert {tuple(c) for c in seen} == {tuple(c) for c in corners}
    for g in groups:  # a block: at most b windows along each axis, all of the box present
        idx = g // stride
        extent = idx.max(axis=0) - idx.min(axis=0) + 1
        assert (extent <= b).all() and len(g) == np.prod(extent)
    per_axis = [(shape[a] - patch) // stride + 1 for a in range(k)]
    assert len(groups) == np.prod([math.ceil(n / b) for n in per_axis])


def test_tiles_on_vgg16_224_make_200_decoys():
    groups = masks.window_groups((224, 224, 3), 3, 1, 500, "tiles")
    assert 2 * len(groups) == 200  # 222 windows per axis in 10 blocks of 22–23
    assert {len(g) for g in groups} == {22 * 22, 22 * 23, 23 * 23}
