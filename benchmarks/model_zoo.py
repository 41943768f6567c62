"""Any Keras model (issue 22): DANCE ÷ the same 2n plain gradients at 224².

For keras.applications ResNet50, MobileNetV2, EfficientNetB0, ConvNeXtTiny
(``weights=None``, 1000 classes) and a ViT-B/16-shaped keras_hub ``ViTImageClassifier``
(random weights; nothing downloads), one real ImageNet image (short side 256, centre crop
224, scaled to [0, 1], ``value_range=(0, 1)``), one
``dance_tf.Explainer(model, value_range=(0, 1), packing="tiles", patches_per_mask=500)``
with every other option at its default (ℓ chosen by ``dance_tf``, the default memory
budget ``dance_tf.sizing.device_budget_mb()``):

* DANCE: the first call (graph building and compilation included), then ``--repeat``
  timed calls;
* gradients: the same 2n plain input gradients of the predicted logit, at x, in batches
  of as many whole-model gradients as the budget holds (``sizing.evals_per_batch``, the
  ceiling of DANCE's own base-method batches), as ONE ``tf.function`` call (a
  ``tf.while_loop`` over batches, one at a time),
  first call then ``--repeat`` timed calls;
* the timed calls of the two are interleaved in rounds (same background load), the ratio
  is the median over rounds of DANCE / gradients in the same round;
* peak RSS (``resource.getrusage().ru_maxrss``) after the first DANCE call (DANCE only)
  and at the end;
  every model runs in its own subprocess so the peaks do not mix;
* ``os.getloadavg()`` at every measurement (the CPU is shared).

    python benchmarks/model_zoo.py [--models resnet50,...] [--repeat 3]
    python benchmarks/model_zoo.py --one resnet50 --out row.json   # one model, in-process
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
IMAGE = Path("/work/shared/data/imagenet/images/n01440764_tench.JPEG")
OUT = HERE / "results" / "model_zoo.json"
MODELS = ("mobilenetv2", "efficientnetb0", "resnet50", "convnexttiny", "vit_b16")
SIZE = 224
PATCHES_PER_MASK = 500


def build(name: str):
    """The model with random weights (``weights=None``; nothing downloads)."""
    import keras

    apps = keras.applications
    shape = (SIZE, SIZE, 3)
    if name == "resnet50":
        return apps.ResNet50(weights=None, classes=1000, input_shape=shape)
    if name == "mobilenetv2":
        return apps.MobileNetV2(weights=None, classes=1000, input_shape=shape)
    if name == "efficientnetb0":
        return apps.EfficientNetB0(weights=None, classes=1000, input_shape=shape)
    if name == "convnexttiny":
        return apps.ConvNeXtTiny(weights=None, classes=1000, input_shape=shape)
    if name == "vit_b16":
        import keras_hub

        backbone = keras_hub.models.ViTBackbone(
            image_shape=shape, patch_size=16, num_layers=12, num_heads=12,
            hidden_dim=768, mlp_dim=3072)
        return keras_hub.models.ViTImageClassifier(backbone, num_classes=1000)
    raise ValueError(f"model: unknown {name!r}; one of {MODELS}")


def load_image() -> np.ndarray:
    """The tench at 224² in [0, 1]: short side 256 (bilinear), centre crop 224."""
    from PIL import Image

    img = Image.open(IMAGE).convert("RGB")
    w, h = img.size
    s = 256 / min(w, h)
    img = img.resize((max(256, round(w * s)), max(256, round(h * s))), Image.BILINEAR)
    w, h = img.size
    left, top = (w - SIZE) // 2, (h - SIZE) // 2
    img = img.crop((left, top, left + SIZE, top + SIZE))
    return np.asarray(img, np.float32) / 255.0


def gradients_fn(model, chunk: int):
    """ONE tf.function: the input gradients of logit c at every row of xs (2n, H, W, C),
    ``chunk`` rows at a time in a tf.while_loop (the batches of DANCE's base method)."""
    import tensorflow as tf

    @tf.function
    def grads(xs, c):
        n = tf.shape(xs)[0]
        k = (n + chunk - 1) // chunk
        out = tf.TensorArray(tf.float32, size=k, infer_shape=False)
        for i in tf.range(k):
            # one chunk at a time, as the DANCE pipeline runs its loops (the default of 10
            # iterations in flight would hold up to 10 chunks at once)
            tf.autograph.experimental.set_loop_options(parallel_iterations=1)
            part = xs[i * chunk:tf.minimum((i + 1) * chunk, n)]
            with tf.GradientTape() as tape:
                tape.watch(part)
                logits = model(part, training=False)
                y = tf.reduce_sum(logits[:, c])
            out = out.write(i, tape.gradient(y, part))
        return out.concat()

    return grads


def load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2   # KB on Linux


def timed(fn) -> tuple[float, list[float]]:
    before = load()
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t, before


def one(name: str, repeat: int, plan_only: bool = False) -> dict:
    """Measure one model in this process; returns its row (``plan_only``: ℓ, 2n, crops and
    chunks, no timings)."""
    import tensorflow as tf

    import dance_tf
    from dance_tf import sizing

    row: dict = {"model": name, "image": IMAGE.name, "size": SIZE,
                 "packing": "tiles", "patches_per_mask": PATCHES_PER_MASK,
                 "value_range": [0.0, 1.0], "repeat": repeat}
    x = load_image()
    model = build(name)
    row["params"] = int(model.count_params())
    budget = sizing.device_budget_mb()
    row["budget_mb"] = round(budget, 1)
    try:   # only dance_tf runs inside: an error here is a finding, recorded
        ex = dance_tf.Explainer(model, value_range=(0.0, 1.0), packing="tiles",
                                patches_per_mask=PATCHES_PER_MASK)
        t0 = time.perf_counter()
        plan = ex.plan(x.shape, np.zeros_like(x), np.ones_like(x))
        plan_s = time.perf_counter() - t0
        if plan_only:
            row.update(plan_only=True, plan_s=round(plan_s, 2), layer=plan.layer,
                       layer_reason=plan.layer_reason, n=int(plan.n_masks),
                       n_items=int(plan.n_items), chunk=int(plan.chunk),
                       chunks=math.ceil(plan.n_items / plan.chunk),
                       crops=plan.crop is not None, peak_rss_gb=round(rss_gb(), 3),
                       explainer_budget_mb=round(ex.memory_budget_mb, 1), load_end=load())
            return row
        dance = lambda: np.asarray(ex(x))   # noqa: E731
        first, row["load_first_dance"] = timed(dance)
    except Exception as err:  # noqa: BLE001
        row["error"] = f"{type(err).__name__}: {err}"
        row["peak_rss_gb"] = round(rss_gb(), 3)
        return row
    row["peak_rss_gb_after_dance_first"] = round(rss_gb(), 3)
    row["dance_first_s"] = round(first, 2)
    row["explainer_budget_mb"] = round(ex.memory_budget_mb, 1)
    row["plan_s"] = round(plan_s, 2)
    row.update(layer=plan.layer, layer_reason=plan.layer_reason, n=int(plan.n_masks),
               n_items=int(plan.n_items), chunk=int(plan.chunk),
               chunks=math.ceil(plan.n_items / plan.chunk),
               crops=plan.crop is not None,
               crop=None if plan.crop is None else repr(plan.crop)[:300])
    c = int(np.argmax(model(x[None], training=False).numpy()[0]))
    row["target"] = c
    xs = tf.constant(np.repeat(x[None], plan.n_items, axis=0))
    grad_chunk = min(int(plan.n_items), sizing.evals_per_batch(ex.memory_budget_mb, model,
                                                               x.shape))
    row["gradient_batch"] = grad_chunk
    grads = gradients_fn(model, grad_chunk)
    ct = tf.constant(c, tf.int32)
    grad = lambda: grads(xs, ct).numpy()   # noqa: E731
    first, row["load_first_gradients"] = timed(grad)
    row["gradients_first_s"] = round(first, 2)
    dance_t, grad_t, loads = [], [], []
    for r in range(repeat):
        order = [("dance", dance), ("grad", grad)]
        if r % 2:
            order.reverse()
        for kind, fn in order:
            t, ld = timed(fn)
            (dance_t if kind == "dance" else grad_t).append(round(t, 2))
            loads.append({"call": kind, "round": r, "load": ld})
    row.update(dance_s=dance_t, gradients_s=grad_t, loads=loads,
               dance_median_s=statistics.median(dance_t),
               gradients_median_s=statistics.median(grad_t),
               ratio_per_round=[round(a / b, 3) for a, b in zip(dance_t, grad_t)],
               ratio_median=round(statistics.median(a / b for a, b in zip(dance_t, grad_t)), 3),
               peak_rss_gb=round(rss_gb(), 3), load_end=load())
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--one", default=None, help="measure one model in this process")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--plan-only", action="store_true", help="ℓ, 2n, crops, chunks only")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        raise SystemExit("--repeat: must be ≥ 1")
    if args.one:
        sys.path.insert(0, str(ROOT))
        row = one(args.one, args.repeat, args.plan_only)
        Path(args.out).write_text(json.dumps(row, indent=1))
        return
    sys.path.insert(0, str(HERE))
    import common

    out = Path(args.out)
    rows = json.loads(out.read_text())["rows"] if out.exists() else []
    env = common.environment()
    for name in args.models.split(","):
        tmp = out.with_suffix(f".{name}.json")
        t = time.perf_counter()
        cmd = [sys.executable, __file__, "--one", name, "--repeat", str(args.repeat),
               "--out", str(tmp)] + (["--plan-only"] if args.plan_only else [])
        proc = subprocess.run(cmd,
                              capture_output=True, text=True)
        if tmp.exists():
            row = json.loads(tmp.read_text())
            tmp.unlink()
        else:
            row = {"model": name, "error": f"subprocess exit {proc.returncode}: "
                                           f"{proc.stderr.strip().splitlines()[-5:]}"}
        row["subprocess_wall_s"] = round(time.perf_counter() - t, 1)
        rows = [r for r in rows if (r.get("model"), r.get("plan_only")) !=
                (name, row.get("plan_only"))] + [row]
        out.write_text(json.dumps({"environment": env, "rows": rows}, indent=1))
        print(json.dumps({k: row.get(k) for k in (
            "model", "layer", "n_items", "crops", "chunks", "dance_first_s", "dance_s",
            "gradients_s", "ratio_median", "peak_rss_gb", "error")}), flush=True)


if __name__ == "__main__":
    main()
