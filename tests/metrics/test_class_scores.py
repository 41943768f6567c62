"""dance_tf.metrics.class_scores: one compiled model call per batch of perturbed inputs,
and the batch size changes no score."""

import numpy as np

from dance_tf.metrics import deletion_auc
from tests.metrics.linear_models import W, linear_model


def test_one_model_call_per_batch_and_batch_size_does_not_change_scores(monkeypatch):
    from dance_tf.metrics import class_scores

    calls = []
    original = class_scores.ClassScores.__call__

    def counting(self, inputs, targets):
        calls.append(len(inputs))
        return original(self, inputs, targets)

    monkeypatch.setattr(class_scores.ClassScores, "__call__", counting)
    model = linear_model(W, (4,))
    x = np.random.default_rng(0).random((3, 4)).astype(np.float32)
    maps = np.random.default_rng(1).random((3, 4))
    t = np.array([0, 1, 0])
    big = deletion_auc(model, x, maps, t, steps=4, batch_size=64)
    assert calls == [15]                                    # 3 inputs × 5 steps, one call
    calls.clear()
    small = deletion_auc(model, x, maps, t, steps=4, batch_size=4)
    assert calls == [4, 4, 4, 3]
    np.testing.assert_allclose(big, small, rtol=1e-6)
