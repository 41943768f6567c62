"""SST evaluation task: sentences of an ``stsa.*`` file on the trained sentence CNN (§4.3.2).

Each input is one embedded sentence (T, D) at its real length (no padding, so DANCE and
the fidelity metric only see real words): one word = one patch (P = 1, m = 1), ℓ = the
max-pooling layer (index 2, Table S1), x_min / x_max = the per-dimension range of the
embedding table, the constant ablation = the mean embedding of the dictionary (§4.3.2),
and fidelity keeps the top-K words and zeroes the others' embeddings.
"""

from __future__ import annotations

import os

import numpy as np

from dance_tf.data import samples
from dance_tf.data import sst as sst_data
from dance_tf.models import sst as sst_model
from dance_tf.tasks.base import Task

DEFAULT_COUNT = 50


def sample_indices(total: int, count: int, seed: int) -> np.ndarray:
    """``count`` distinct line indices out of ``total``, seeded, in file order."""
    count = min(count, total)
    return np.sort(np.random.default_rng(seed).choice(total, size=count, replace=False))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits (N, C), float64."""
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def build_task(options: dict) -> Task:
    """options: ``model`` (directory from scripts/train_sst.py; default: the packaged
    model, trained on the packaged SST-2 sentences on first use and cached, see
    :func:`dance_tf.models.sst.load_default`), ``input`` (an stsa.* file; default: the dev
    file the model was trained with), ``count`` (sentences sampled at random with
    ``seed``, default 50; all if larger)."""
    log = options.get("log") or print
    directory = options.get("model")
    bundle = sst_model.load(directory) if directory else sst_model.load_default(log=log)
    path = options.get("input") or bundle.config.get("dev")
    if not path:
        raise ValueError("input: give an stsa.* file (the model's config names no dev file)")
    path = samples.resolve(path)
    count = int(options.get("count") or DEFAULT_COUNT)
    if count < 1:
        raise ValueError(f"count: expected ≥ 1, got {count}")
    sentences, labels = sst_data.load(path)
    inputs, ids, kept_labels, tokens = [], [], [], {}
    name = os.path.basename(str(path))
    for i in sample_indices(len(sentences), count, int(options.get("seed") or 0)):
        try:
            x = bundle.embed_one(sentences[i])
        except ValueError as err:
            log(f"sst: skipping line {i + 1} of {name}: {err}")
            continue
        tid = f"sst-{name}-{i + 1:05d}"
        inputs.append(x)
        ids.append(tid)
        kept_labels.append(int(labels[i]))
        tokens[tid] = list(sentences[i])

    labels_by_id = dict(zip(ids, kept_labels, strict=True))
    classes = bundle.classes

    def render(path, x, maps, title):
        from dance_tf.plots.images import describe
        from dance_tf.plots.text import save_word_saliency

        rows = {f"{method}, {variant}": m for method, per in maps.items()
                for variant, m in per.items()}
        words = tokens.get(title) or [f"w{j}" for j in range(len(x))]
        p = softmax(sst_model.predict_logits(bundle.model, [np.asarray(x, np.float32)]))[0]
        head = describe(title, (int(p.argmax()), float(p.max())), labels_by_id.get(title),
                        classes)
        sentence = " ".join(words)
        if len(sentence) > 80:
            sentence = sentence[:77] + "..."
        save_word_saliency(path, words, rows, title=f"{head} — {sentence}")

    return Task(
        name="sst",
        model=bundle.model,
        inputs=inputs,
        ids=ids,
        labels=kept_labels,
        value_range=bundle.value_range,
        explainer_options={"layer": "pool", "patch_size": 1, "stride": 1,
                           "patches_per_mask": 1},
        fill=0.0,
        constant=bundle.table.mean_vector,
        feature_ndim=1,
        render=render,
        description=(f"SST ({name}, {len(inputs)} sentences), sentence CNN on "
                     f"{bundle.table.dim}-d GloVe (dev accuracy "
                     f"{bundle.config.get('dev_accuracy', float('nan')):.3f}); ℓ = pool "
                     "(index 2), one word = one patch (P = 1, m = 1); dropped words zeroed"),
    )
