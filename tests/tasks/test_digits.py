"""The digits task: its train/test split does not move with --seed, and --split-seed uses
(and trains if needed) a model of that split."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import small_cnn


def test_seed_does_not_touch_the_digits_split(tmp_path):
    # before: --seed 1 reseeded the split: 81 % of the "test" digits were training digits
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from dance_tf.data import digits as digits_data
    from dance_tf.tasks import digits as digits_task

    path = tmp_path / "m.keras"
    small_cnn(size=32, classes=10).save(path)
    data = load_digits()
    _, te = train_test_split(np.arange(len(data.images)), test_size=0.2, random_state=0,
                             stratify=data.target)
    expected = digits_data.upsample(data.images[te[:4]].astype(np.float32) / 16.0)
    task = digits_task.build_task({"count": 4, "seed": 1, "model": str(path),
                                   "log": lambda *_: None})
    np.testing.assert_array_equal(np.stack(task.inputs), expected)
    np.testing.assert_array_equal(task.labels, data.target[te[:4]])


def test_split_seed_uses_a_model_trained_on_that_split(tmp_path, monkeypatch):
    from dance_tf.models import digits as digits_model
    from dance_tf.tasks import digits as digits_task

    monkeypatch.setenv("DANCE_TF_MODELS", str(tmp_path))
    small_cnn(size=32, classes=10, seed=4).save(tmp_path / digits_model.FILE_NAME)
    trained = []

    def fake_train(seed=0, **_):
        trained.append(seed)
        return small_cnn(size=32, classes=10, seed=seed), 0.5

    monkeypatch.setattr(digits_model, "train", fake_train)
    task = digits_task.build_task({"count": 2, "split_seed": 3, "log": lambda *_: None})
    assert trained == [3]                      # not the cached split-0 model
    assert (tmp_path / "digits_cnn_split3.keras").is_file()
    with pytest.raises(ValueError, match="split_seed"):
        digits_task.build_task({"count": 2, "split_seed": float("nan")})
    assert task.explainer_options["layer"] == "pool1"
