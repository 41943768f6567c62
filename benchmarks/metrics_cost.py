"""Cost of the issue-25 metrics per map at 224² on EfficientNet-Lite0.

Model: ``dance_tf.models.efficientnet_lite.load()`` (trained ImageNet weights, logits);
inputs: the ImageNet fixture images (bicubic 0.875 crop, (x − 127) / 128), targets the
predicted classes; maps: plain gradients reduced to one score per pixel, Σ_c |∂logit/∂x|.
Settings: deletion / insertion 50 steps, MuFidelity 50 subsets of 10% of the pixels,
ROAD at 5 fractions (0.1 … 0.9) in both orders (10 imputations per map), max-sensitivity
with 10 draws of the gradient (r = 0.02 × the input range of 2), eMPRT with the gradient
(two maps and a randomised clone), and the map-only metrics (sparseness, pointing game and
relevance mass against a central box). Batch size 32 perturbed inputs per model call.

Timing: the compiled forward pass and the gradient are warmed up first (their tracing is
not counted); each metric is then called once on all images, wall and process CPU time
(s) divided by the number of images. The CPU is shared: wall times are upper bounds.

    python benchmarks/metrics_cost.py [--images N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

IMAGES = sorted((ROOT / "tests" / "fixtures" / "imagenet").glob("n*.jpg"))


def timed(fn) -> tuple[float, float, object]:
    """(wall s, process CPU s, result) of one call."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--out", type=Path,
                        default=HERE / "results" / "metrics_cost.json")
    args = parser.parse_args(argv)

    import common

    from dance_tf import metrics, saliency
    from dance_tf.data.imagenet import load_image
    from dance_tf.models import efficientnet_lite

    model = efficientnet_lite.load()
    paths = (IMAGES * args.images)[:args.images]
    x = np.stack([load_image(p, mode=model) for p in paths]).astype(np.float32)
    n = len(x)
    targets = np.argmax(model.predict(x, verbose=0), axis=1)
    grad = saliency.gradient(model, x, targets)              # traces the gradient
    maps = np.abs(grad).sum(axis=-1)
    masks = np.zeros(maps.shape, bool)
    masks[:, 56:168, 56:168] = True
    metrics.deletion_auc(model, x[:1], maps[:1], targets[:1], steps=1)   # traces the forward

    def explain(v, t):
        return np.abs(saliency.gradient(model, v, t)).sum(axis=-1)

    runs = {
        "deletion_auc (50 steps)": lambda: metrics.deletion_auc(
            model, x, maps, targets, steps=50, batch_size=32),
        "insertion_auc (50 steps)": lambda: metrics.insertion_auc(
            model, x, maps, targets, steps=50, batch_size=32),
        "mufidelity (50 subsets)": lambda: metrics.mufidelity(
            model, x, maps, targets, subsets=50, batch_size=32),
        "road (5 fractions × 2 orders)": lambda: metrics.road(
            model, x, maps, targets, batch_size=32),
        "max_sensitivity (10 draws)": lambda: metrics.max_sensitivity(
            explain, x, targets, radius=0.04, samples=10, batch_size=32),
        "efficient_mprt (gradient)": lambda: metrics.efficient_mprt(
            model, x, targets, lambda m, v, t: saliency.gradient(m, v, t)),
        "sparseness": lambda: metrics.sparseness(maps),
        "pointing_game": lambda: metrics.pointing_game(maps, masks),
        "relevance_mass": lambda: metrics.relevance_mass(maps, masks),
    }
    rows = []
    for name, fn in runs.items():
        wall, cpu, scores = timed(fn)
        rows.append({"metric": name, "wall_s_per_map": wall / n, "cpu_s_per_map": cpu / n,
                     "scores": [float(s) for s in np.asarray(scores)]})
        print(f"{name:34s} wall {wall / n:8.3f} s/map   cpu {cpu / n:8.3f} s/map", flush=True)
    wall, cpu, _ = timed(lambda: model.predict(x, batch_size=32, verbose=0))
    result = {"environment": common.environment(), "images": [p.name for p in paths],
              "forward_wall_s_per_image": wall / n, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"forward pass: {wall / n:.3f} s/image; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
