"""``packing="auto"``: at most ``target_decoys`` decoys, the paper's masks where they already
fit, else the most compact tiles that fit. Checked against a brute-force search over tile
sides and a geometric reading of every mask (each one a full box of windows), on every
shape of a grid, not a sample; and on the study's 224² packings by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from dance_tf import Explainer, masks, option_flags, options
from tests.conftest import small_cnn


def _boxes_partition(groups, corners, stride):
    """Every window in exactly one group, each group a full box of window indices; returns
    the largest box side."""
    seen = np.concatenate(groups)
    assert len(seen) == len(corners)
    assert {tuple(c) for c in seen} == {tuple(c) for c in corners}
    side = 0
    for g in groups:
        idx = g // stride
        lo, hi = idx.min(axis=0), idx.max(axis=0)
        assert len(g) == int(np.prod(hi - lo + 1)), "a mask is not a full box of windows"
        side = max(side, int((hi - lo + 1).max()))
    return side


SHAPES = [(s, s, 1) for s in (3, 5, 8, 13, 21, 34)] + [(9, 20, 2)] + \
         [(t, 4) for t in (1, 7, 50, 301)] + [(f,) for f in (2, 30, 999)] + [(7, 6, 9, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_auto_against_brute_force(shape):
    k = len(shape) - 1 if len(shape) >= 3 else 1     # images and volumes: all but channels
    for patch, stride, m, target in itertools.product((1, 2, 3), (1, 2), (1, 4, 100),
                                                      (2, 3, 10, 50, 200)):
        if patch > min(shape[:k]):
            continue
        corners = masks.windows(shape, patch, stride)
        n_axis = [(shape[a] - patch) // stride + 1 for a in range(k)]
        groups = masks.window_groups(shape, patch, stride, m, "auto", target_decoys=target)
        paper = math.ceil(len(corners) / m)
        case = (shape, patch, stride, m, target)
        if 2 * paper <= target:
            assert len(groups) == paper, case                       # the paper's masks
            assert all(np.array_equal(a, b) for a, b in zip(
                groups, masks.window_groups(shape, patch, stride, m, "paper"))), case
            continue
        # brute force: the smallest tile side whose tile count fits in ⌊target / 2⌋
        count = [math.prod(-(-n // b) for n in n_axis) for b in range(1, max(n_axis) + 1)]
        b = next(i + 1 for i, c in enumerate(count) if c <= target // 2)
        assert len(groups) == count[b - 1] and 2 * len(groups) <= target, case
        assert _boxes_partition(groups, corners, stride) <= b, case


def test_auto_on_the_studys_224_images_by_hand():
    """224², P = 3: 222 windows an axis. target 200 → 100 masks → 10 tiles an axis → side
    ⌈222 / 10⌉ = 23: the masks of tiles m = 500 (23² = 529 ≥ 500 > 22²); target 50 → 5 an
    axis → side 45: tiles m = 2000 (45² = 2025). 240² and 260² (Lite1, Lite2) also 2n = 200."""
    shape = (224, 224, 3)
    for target, m in ((200, 500), (50, 2000)):
        auto = masks.window_groups(shape, 3, 1, 100, "auto", target_decoys=target)
        tiles = masks.window_groups(shape, 3, 1, m, "tiles")
        assert 2 * len(auto) == target
        assert all(np.array_equal(a, b) for a, b in zip(auto, tiles))
    for side in (240, 260):
        assert len(masks.window_groups((side, side, 3), 3, 1, 100, "auto")) == 100
    # the paper's packing at 224² (2n = 986) is what auto replaces
    assert 2 * len(masks.window_groups(shape, 3, 1, 100, "paper")) == 986


@pytest.mark.parametrize("bad", [1, 0, -4, 2.5, True, "200", None, float("nan")])
def test_bad_target_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match="target_decoys"):
        masks.window_groups((12, 12, 1), 3, 1, 4, "auto", target_decoys=bad)
    with pytest.raises(Exception, match="target_decoys"):
        Explainer(small_cnn(), packing="auto", target_decoys=bad, value_range=(0.0, 1.0))


def test_target_without_auto_is_refused_not_ignored():
    """target_decoys does nothing under another packing: a non-default value is refused
    (API and command line), the default passes."""
    with pytest.raises(Exception, match="target_decoys.*packing='auto'"):
        Explainer(small_cnn(), packing="tiles", target_decoys=50, value_range=(0.0, 1.0))
    Explainer(small_cnn(), packing="tiles", target_decoys=200, value_range=(0.0, 1.0))
    parser = option_flags.OptionParser()
    option_flags.add(parser, str, "m")
    with pytest.raises(SystemExit):
        parser.parse_args(["--target-decoys", "50"])
    assert parser.parse_args(["--packing", "auto", "--target-decoys", "50"]).target_decoys == 50


def test_the_option_default_is_the_masks_default():
    table = {o.name: o for o in options.OPTIONS}
    assert table["target_decoys"].default == masks.TARGET_DECOYS
    assert "auto" in table["packing"].choices and table["packing"].default == "paper"


def test_explainer_auto_makes_at_most_the_target_and_equals_those_tiles():
    """12² input, P = 3: 10 windows an axis, the paper (m = 100) 1 mask; with m = 4 the
    paper makes 25 masks (2n = 50) > 20 → auto: ≤ 10 masks → 3 tiles an axis (side 4) =
    9 masks, the same as tiles with m = 16 (side 4)."""
    model = small_cnn()
    x = np.random.default_rng(0).uniform(0, 1, (12, 12, 1)).astype("float32")
    common = {"value_range": (0.0, 1.0), "patches_per_mask": 4}
    auto = Explainer(model, packing="auto", target_decoys=20, **common)(
        x, target=1, return_details=True)
    tiles = Explainer(model, packing="tiles", **{**common, "patches_per_mask": 16})(
        x, target=1, return_details=True)
    assert len(auto.decoys) == 18 == len(tiles.decoys)
    np.testing.assert_allclose(auto.saliency, tiles.saliency, rtol=1e-6, atol=1e-7)
    small = Explainer(model, packing="auto", target_decoys=200, **common)(
        x, target=1, return_details=True)
    assert len(small.decoys) == 50                      # the paper's 25 masks fit: kept
