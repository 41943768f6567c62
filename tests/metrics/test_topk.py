"""dance_tf.metrics.topk: how many features a top-k keeps."""

import pytest


def test_top_count_hand_worked_and_shared_by_attacks_and_reports():
    from dance_tf.attacks.topk import topk_count
    from dance_tf.metrics.topk import top_count
    assert top_count(3, 10) == 3
    assert top_count(0.25, 10) == 2          # round(2.5) is 2 (banker's rounding)
    assert top_count(0.01, 10) == 1          # at least one feature
    assert top_count(1.0, 7) == 7
    assert topk_count(None, 10, 10) == 2     # the paper's 1000 of 224², 1.99 of 100
    assert topk_count(5, 3, 3) == 5
    for bad in (0, 11, True, 0.0, 1.5, -0.2):
        with pytest.raises(ValueError, match="k"):
            top_count(bad, 10)
