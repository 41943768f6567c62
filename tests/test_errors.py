"""The errors dance_tf raises on purpose are typed: every one a DanceError, itself a
ValueError; a layer, an input, a setting, the memory budget and an export each raise their
own subclass."""

import numpy as np
import pytest

import dance_tf

OPTS = {"value_range": (0, 1), "patches_per_mask": 50}


def test_errors_are_typed(cnn, image):
    assert issubclass(dance_tf.DanceError, ValueError)
    with pytest.raises(dance_tf.LayerError):
        dance_tf.Explainer(cnn, layer="no_such_layer", **OPTS).explain(image)
    with pytest.raises(dance_tf.InputError):
        dance_tf.Explainer(cnn, **OPTS).explain(np.full((12, 12, 1), np.inf, np.float32))
    with pytest.raises(dance_tf.InputError, match="epsilon_rel"):
        dance_tf.Explainer(cnn, epsilon_rel=-1.0)
    with pytest.raises(dance_tf.BudgetError):
        dance_tf.Explainer(cnn, memory_budget_mb=1e-6, **OPTS).explain(image)
    from dance_tf import export

    assert issubclass(export.ExportError, dance_tf.DanceError)
