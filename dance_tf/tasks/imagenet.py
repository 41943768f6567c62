"""ImageNet task: a folder of images explained with a zoo net, a Keras file or a SavedModel.

Models (``--model``): ``NET=PATH`` for a zoo net and its weights (``vgg_16``,
``alexnet_v2``, ``resnet_v1_50`` with a slim checkpoint; ``caffe_alexnet`` with a pickle-free
``.npz`` conversion of ``bvlc_alexnet.npy``), a ``.keras`` file, or a SavedModel directory
(classifier signature returning logits). Preprocessing follows the model (S5): slim nets
RGB − [123.68, 116.78, 103.94], the Caffe AlexNet BGR − [103.939, 116.779, 123.68]; other
models use ``--option preprocessing=slim_rgb|caffe_bgr`` (default slim_rgb). Settings
default to the paper's (Table S1: P = 3, stride 1, m = 100, ℓ per net); on a CPU pass
e.g. ``--option stride=3 --option max_steps=30``. Dropped features for fidelity are set
to 0, i.e. the mean pixel.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from dance_tf.tasks.base import Task

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}
ZOO = ("vgg_16", "alexnet_v2", "resnet_v1_50", "caffe_alexnet")


def load_model(spec: str, preprocessing: str | None = None):
    """Build a classifier from ``NET=PATH``, a ``.keras`` file or a SavedModel directory."""
    import keras

    if "=" in spec and spec.split("=", 1)[0] in ZOO:
        net, path = spec.split("=", 1)
        from dance_tf import models

        if net == "caffe_alexnet":
            model = models.caffe_alexnet()
            models.load_caffe_alexnet(model, path)
        else:
            model = getattr(models, net)(num_classes=1000)
            models.load_slim_checkpoint(model, path)
        return model
    if os.path.isdir(spec):
        from dance_tf.models.hub import load_classifier

        return load_classifier(spec, preprocessing=preprocessing or "slim_rgb")
    if spec.endswith(".keras") and os.path.isfile(spec):
        model = keras.models.load_model(spec, compile=False)
        model.preprocessing = preprocessing or getattr(model, "preprocessing", None) \
            or "slim_rgb"
        return model
    raise ValueError(f"model: expected NET=PATH with NET in {ZOO}, a .keras file or a "
                     f"SavedModel directory, got {spec!r}")


def image_files(folder: str) -> list[Path]:
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"input: {folder!r} is not a folder of images")
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"input: no images ({sorted(IMAGE_SUFFIXES)}) in {folder!r}")
    return files


def read_labels(folder: str) -> dict[str, int]:
    """Optional ``labels.csv`` (columns ``file``, ``class_index``) beside the images."""
    path = Path(folder) / "labels.csv"
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["file"]: int(row["class_index"]) for row in csv.DictReader(handle)}


def build_task(options: dict) -> Task:
    """options: ``input`` (folder), ``model`` (see module doc), ``count``, ``options``
    (explainer overrides from ``--option``)."""
    from dance_tf.data.imagenet import deprocess, load_image, value_range

    if not options.get("input") or not options.get("model"):
        raise ValueError("task imagenet: needs --input FOLDER and --model NET=PATH | "
                         "FILE.keras | SAVEDMODEL_DIR")
    overrides = dict(options.get("options") or {})
    model = load_model(options["model"], overrides.pop("preprocessing", None))
    files = image_files(options["input"])[: int(options.get("count") or 10**9)]
    inputs = [load_image(f, mode=model) for f in files]
    lo, hi = value_range(model)
    labels_by_file = read_labels(options["input"])
    labels = [labels_by_file.get(f.name) for f in files]

    def render(path, image, maps, title):
        from dance_tf.plots.images import save_panels

        save_panels(path, deprocess(image, model).astype(np.float32), maps, title=title,
                    value_range=(0.0, 255.0))

    settings = {"patch_size": 3, "stride": 1, "patches_per_mask": 100}
    settings.update(overrides)  # evaluate.py applies --option to every task as well
    return Task(
        name="imagenet",
        model=model,
        inputs=inputs,
        ids=[f.stem for f in files],
        labels=None if all(v is None for v in labels) else labels,
        value_range=(lo, hi),
        explainer_options=settings,
        fill=0.0,
        feature_ndim=2,
        render=render,
        description=f"{len(files)} images from {options['input']}, model {model.name}, "
                    f"settings {settings}",
    )
