"""The embedded default task: held-out scikit-learn digits on the cached digits CNN."""

from __future__ import annotations

import numpy as np

from dance_tf import validate
from dance_tf.data import digits as digits_data
from dance_tf.models import digits as digits_model
from dance_tf.tasks.base import Task

DEFAULT_COUNT = 32


def split_model(split_seed: int, log=print):
    """The digits CNN trained on the split of ``split_seed``: the cached default model for
    split 0 (``digits_cnn.keras``, trained by ``models.digits.train(seed=0)``), otherwise
    ``digits_cnn_split<seed>.keras`` in the same folder, trained on that split on first use
    (~20 s CPU). A model trained on another split would have seen most of the test digits.
    """
    if split_seed == 0:
        return digits_model.load(progress=log)
    from dance_tf.models import train_cache

    path = train_cache.model_dir() / f"digits_cnn_split{split_seed}.keras"
    if path.exists():
        return train_cache.load_model(path, "delete it and it is trained again")
    log(f"training the digits CNN on split {split_seed} once (cached at {path}) ...")
    model, acc = digits_model.train(seed=split_seed)
    log(f"digits CNN (split {split_seed}) test accuracy: {acc:.3f}")
    train_cache.save_model(model, path)
    return model


def build_task(options: dict) -> Task:
    """options: ``count`` (inputs, ≥ 1, default 32), ``model`` (path of a .keras file,
    optional: the caller vouches that it was trained on the split's training part),
    ``split_seed`` (seed of the stratified train/test split, default 0; ``seed`` — the seed
    of decoy starts and noise — never touches the split)."""
    log = options.get("log") or print
    count = options.get("count")
    count = DEFAULT_COUNT if count is None else validate.number("count", count, **validate.COUNT)
    split_seed = validate.seed("split_seed", options.get("split_seed") or 0)
    if options.get("model"):
        model = digits_model.load(options["model"], progress=log)
    else:
        model = split_model(split_seed, log)
    _, _, x_te, y_te = digits_data.load(seed=split_seed)
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
        description=f"scikit-learn digits (8×8 → 32×32; test part of split {split_seed}), "
                    "CNN, ℓ = pool1, P = 3, m = 100",
    )

