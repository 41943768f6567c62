"""dance_tf.metrics.pointing: pointing game and relevance mass on hand-made masks."""

import numpy as np
import pytest

from dance_tf.errors import InputError
from dance_tf.metrics import pointing_game, relevance_mass

MASK = np.zeros((1, 4, 5), bool)
MASK[0, 1:3, 1:3] = True                         # a 2×2 object


def test_pointing_game_hits_misses_ties_and_tolerance():
    maps = np.zeros((3, 4, 5))
    maps[0, 2, 2] = 5.0                          # max inside
    maps[1, 0, 4] = 5.0                          # max outside, far
    maps[1, 2, 1] = 4.0
    maps[2, 1, 1] = maps[2, 3, 4] = 2.0          # two tied maxima, one inside
    masks = np.repeat(MASK, 3, axis=0)
    np.testing.assert_allclose(pointing_game(maps, masks), [1.0, 0.0, 0.5])
    near = np.zeros((1, 4, 5))
    near[0, 0, 3] = 1.0                          # one pixel off the object's corner (1, 2)
    assert pointing_game(near, MASK)[0] == 0.0
    assert pointing_game(near, MASK, tolerance=1)[0] == 0.0      # diagonal: √2 > 1
    assert pointing_game(near, MASK, tolerance=1.5)[0] == 1.0


def test_relevance_options_and_channels():
    maps = np.zeros((1, 4, 5, 2))
    maps[0, 0, 0] = [-9.0, 0.0]                  # strong negative outside
    maps[0, 1, 1] = [1.0, 2.0]                   # +3 inside
    assert pointing_game(maps, MASK)[0] == 1.0
    assert pointing_game(maps, MASK, relevance="magnitude")[0] == 0.0
    assert relevance_mass(maps, MASK)[0] == pytest.approx(1.0)            # positive: 3 / 3
    assert relevance_mass(maps, MASK, relevance="magnitude")[0] == pytest.approx(3 / 12)
    assert relevance_mass(maps, MASK, relevance="signed")[0] == pytest.approx(3 / -6)


def test_relevance_mass_by_hand():
    maps = np.arange(20, dtype=np.float64).reshape(1, 4, 5)
    inside = maps[0, 1:3, 1:3].sum()             # 6 + 7 + 11 + 12
    assert relevance_mass(maps, MASK)[0] == pytest.approx(inside / maps.sum())
    np.testing.assert_allclose(relevance_mass(maps, MASK.astype(np.uint8)),
                               [36 / 190])


def test_undefined_and_invalid():
    with pytest.warns(RuntimeWarning, match="relevance_mass"):
        assert np.isnan(relevance_mass(np.zeros((1, 4, 5)), MASK)[0])
    with pytest.warns(RuntimeWarning, match="pointing_game"):
        assert np.isnan(pointing_game(-np.ones((1, 4, 5)), MASK)[0])
    with pytest.raises(InputError, match="empty"):
        pointing_game(np.ones((1, 4, 5)), np.zeros((1, 4, 5), bool))
    with pytest.raises(InputError, match="masks"):
        relevance_mass(np.ones((1, 4, 5)), MASK[:, :3])
    with pytest.raises(InputError, match="masks"):
        relevance_mass(np.ones((1, 4, 5)), MASK * 2.0)
    with pytest.raises(InputError, match="relevance"):
        relevance_mass(np.ones((1, 4, 5)), MASK, relevance="abs")
    with pytest.raises(InputError, match="tolerance"):
        pointing_game(np.ones((1, 4, 5)), MASK, tolerance=-1)
