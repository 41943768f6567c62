"""dance_tf.metrics.DIRECTION names real metrics and covers every issue-25 metric."""

import dance_tf.metrics as metrics


def test_every_direction_names_a_metric_and_every_new_metric_has_one():
    for name, way in metrics.DIRECTION.items():
        assert way in ("higher", "lower"), name
        assert callable(getattr(metrics, name.replace("_morf", "").replace("_lerf", ""))), name
    new = {"deletion_auc", "insertion_auc", "mufidelity", "road", "max_sensitivity",
           "avg_sensitivity", "sparseness", "pointing_game", "relevance_mass",
           "efficient_mprt"}
    assert new <= set(metrics.DIRECTION) and new <= set(metrics.__all__)
    assert metrics.DIRECTION["deletion_auc"] == "lower"
    assert metrics.DIRECTION["insertion_auc"] == "higher"
    assert metrics.DIRECTION["road_morf"] == "lower"
