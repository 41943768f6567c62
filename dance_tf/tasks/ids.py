"""CSE-CIC-IDS2018 evaluation task: flows on the trained MLP (S8).

Each input is one MinMax-scaled flow (F,): one feature = one patch (P = 1, m = 1), ℓ = the
second hidden layer (index 2, Table S1), x_min / x_max = 0 / 1 (the scaler clips), the
constant ablation = the mean scaled training flow, and fidelity keeps the top-K features
and sets the others to 0 (the training minimum after scaling).
"""

from __future__ import annotations

import os

import numpy as np

from dance_tf.data import ids2018
from dance_tf.models import ids as ids_model
from dance_tf.tasks.base import Task
from dance_tf.tasks.sst import sample_indices, softmax

DEFAULT_COUNT = 100


def _flows(bundle, directory, path, log):
    """(raw X (N, F) in the model's column order, labels, source name)."""
    if path:
        table = ids2018.read_csv(path, classes=None,
                                 timestamp=bundle.config.get("timestamp", "drop"),
                                 identifiers=bundle.config.get("identifiers", "drop"))
        log(f"ids: {path}: {len(table.labels)} flows, skipped {table.dropped}")
        X = ids2018.select_features(table.X, table.feature_names, bundle.feature_names,
                                    source=str(path))
        return X, list(table.labels), os.path.basename(str(path))
    split = os.path.join(directory, "split.npz")
    if not os.path.exists(split):
        raise ValueError(f"input: give a CSV file (no held-out split at {split})")
    with np.load(split) as data:
        return data["test_X"], [str(s) for s in data["test_labels"]], "test-split"


def build_task(options: dict) -> Task:
    """options: ``model`` (directory from scripts/train_ids.py; default: the packaged
    model, trained on the packaged CSE-CIC-IDS2018 sample on first use and cached, see
    :func:`dance_tf.models.ids.load_default`), ``input`` (a CICFlowMeter CSV; default: the
    held-out test split saved with the model), ``count`` (flows sampled at random with
    ``seed``, default 100; all if larger)."""
    log = options.get("log") or print
    if options.get("model"):
        directory = options["model"]
        bundle = ids_model.load(directory)
    else:
        bundle = ids_model.load_default(log=log)
        directory = ids_model.default_dir()
    count = int(options.get("count") or DEFAULT_COUNT)
    if count < 1:
        raise ValueError(f"count: expected ≥ 1, got {count}")
    X, labels, source = _flows(bundle, directory, options.get("input"), log)
    rows = sample_indices(len(X), count, int(options.get("seed") or 0))
    scaled = bundle.transform(X[rows])
    label_names = [labels[i] for i in rows]
    if bundle.classes == ids_model.BINARY_CLASSES:
        targets = list(ids2018.binary_target(label_names))
    else:
        targets = [bundle.classes.index(lab) if lab in bundle.classes else -1
                   for lab in label_names]
    mean = bundle.config.get("feature_mean_scaled")
    constant = np.asarray(mean, np.float32) if mean is not None else np.float32(0.5)
    names = list(bundle.feature_names)
    task_ids = [f"ids-{source}-{int(i):05d}" for i in rows]
    truth = dict(zip(task_ids, label_names, strict=True))

    def render(path, x, maps, title):
        from dance_tf.plots.images import describe
        from dance_tf.plots.tabular import ranking_table, save_ranking_chart, to_markdown

        p = softmax(bundle.logits(np.asarray(x, np.float32)[None]))[0]
        head = describe(title, (int(p.argmax()), float(p.max())), truth.get(title),
                        bundle.classes)
        for method, per in maps.items():
            chart = {variant: m for variant, m in per.items()
                     if variant in ("without decoys", "with decoys")} or per
            out = os.path.splitext(str(path))[0] + f"__{method}"
            save_ranking_chart(out + ".png", names, chart, top=15, title=f"{head}; {method}")
            with open(out + ".md", "w", encoding="utf-8") as handle:
                handle.write(f"# {head}; {method}\n\n")
                handle.write(to_markdown(ranking_table(names, chart, top=15)))

    return Task(
        name="ids",
        model=bundle.model,
        inputs=list(scaled),
        ids=task_ids,
        labels=targets,
        value_range=(0.0, 1.0),
        explainer_options={"layer": "hidden2", "patch_size": 1, "stride": 1,
                           "patches_per_mask": 1},
        fill=0.0,
        constant=constant,
        feature_ndim=1,
        render=render,
        description=(f"CSE-CIC-IDS2018 ({source}, {len(rows)} flows × {len(names)} features), "
                     f"MLP {bundle.classes} (test accuracy "
                     f"{bundle.config.get('test_accuracy', float('nan')):.3f}); ℓ = hidden2 "
                     "(index 2), one feature = one patch; dropped features set to 0"),
    )
