"""The embedded default task: held-out scikit-learn digits on the cached digits CNN."""

from __future__ import annotations

import numpy as np

from dance_tf.data import digits as digits_data
from dance_tf.models import digits as digits_model
from dance_tf.tasks.base import Task


def build_task(options: dict) -> Task:
    """options: ``count`` (inputs, default 32), ``model`` (path of a .keras file, optional),
    ``seed`` (split seed, default 0)."""
    count = int(options.get("count") or 32)
    model = digits_model.load(options.get("model"), progress=options.get("log", print))
    _, _, x_te, y_te = digits_data.load(seed=int(options.get("seed") or 0))
    if count < 1:
        raise ValueError(f"count: expected ≥ 1, got {count}")
    x, y = x_te[:count], y_te[:count]

    def render(path, image, maps, title):
        from dance_tf.plots.images import save_panels

        save_panels(path, image, maps, title=title)

    return Task(
        name="digits",
        model=model,
        inputs=list(x),
        ids=[f"digits-test-{i:04d}" for i in range(len(x))],
        labels=list(np.asarray(y)),
        value_range=digits_data.VALUE_RANGE,
        explainer_options={"layer": "pool1", "patch_size": 3, "stride": 1,
                           "patches_per_mask": 100},
        fill=0.0,
        feature_ndim=2,
        render=render,
        description="scikit-learn digits (8×8 → 32×32), CNN, ℓ = pool1, P = 3, m = 100",
    )
