#!/usr/bin/env python
"""Explain one image with a zoo net and write Fig.-2 panels (input | without decoys |
with decoys | difference), one row per base method (§4.1, Fig. 2A; S5, S7).

Local files only: the image and the weights (a slim checkpoint for vgg_16 /
alexnet_v2 / resnet_v1_50, ``bvlc_alexnet.npy`` or its ``.npz`` conversion for
caffe_alexnet; see models/README.md). Each net brings its own preprocessing (slim: RGB
minus [123.68, 116.78, 103.94] at 224×224; Caffe: BGR minus [103.939, 116.779, 123.68]
at 227×227) and its Table S1 layer ℓ.

Defaults are CPU-friendly, NOT the paper's: patch stride 3 (non-overlapping 3×3
patches). The paper's windows (Table S1: P = 3, stride 1, m = 100, ℓ per net) are
``--paper``; expect a long run per image on a CPU (~1000 decoys of 224×224 for stride
1). Both use the package's default decoy solver (the line search).

Example::

    python scripts/explain_image.py photo.jpg --net vgg_16 \\
        --checkpoint models/vgg_16.ckpt --methods gradient,integrated_gradients \\
        --out outputs/photo_vgg16.png
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from dance_tf.models import registry

#: the zoo nets loaded from a local weights file (the model registry)
NETS = registry.names("image", task="imagenet", weights="file")
PAPER = {"patch_size": 3, "stride": 1, "patches_per_mask": 100}
CPU = {"patch_size": 3, "stride": 3, "patches_per_mask": 100}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("image", help="JPEG/PNG file")
    p.add_argument("--net", choices=NETS, required=True)
    p.add_argument("--checkpoint", required=True,
                   help="slim checkpoint (prefix, V1 file or directory) or AlexNet .npy/.npz")
    p.add_argument("--num-classes", type=int, default=1000, choices=(1000, 1001),
                   help="head size of the slim checkpoint [1000]")
    p.add_argument("--drop-background", action="store_true",
                   help="load a 1001-class slim checkpoint into a 1000-class net")
    p.add_argument("--allow-pickle", action="store_true",
                   help="allow unpickling bvlc_alexnet.npy (only for files you trust)")
    p.add_argument("--methods", default="gradient",
                   help="comma-separated base methods [gradient]; the paper's main three: "
                        "gradient,integrated_gradients,smoothgrad")
    p.add_argument("--layer", default=None,
                   help="ℓ: layer name, slim end point or 1-based index [Table S1]")
    p.add_argument("--target", type=int, default=None, help="class index [predicted]")
    p.add_argument("--paper", action="store_true", help="use the paper's settings (slow)")
    p.add_argument("--patch-size", type=int, default=None)
    p.add_argument("--stride", type=int, default=None)
    p.add_argument("--patches-per-mask", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--classes", default=None, help="class CSV [the packaged ImageNet table]")
    p.add_argument("--out", default=None, help="PNG path [outputs/<image>_<net>.png]; an "
                   "existing file is refused unless --force, the input always")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.add_argument("--save-maps", action="store_true", help="also write the maps as .npz")
    return p.parse_args(argv)


def build_model(args):
    """The zoo net filled from ``args.checkpoint`` (S5)."""
    if args.net == "caffe_alexnet":
        return registry.load(args.net, args.checkpoint, allow_pickle=args.allow_pickle)
    classes = 1000 if args.drop_background else args.num_classes
    return registry.load(args.net, args.checkpoint, build_options={"num_classes": classes},
                         drop_background_class=args.drop_background)


def main(argv=None) -> dict:
    """Run the script; returns ``{"out": png path, "target", "class_name", "maps",
    "certified": {method: fraction}}``."""
    args = parse_args(argv)
    stem = os.path.splitext(os.path.basename(args.image))[0]
    out = args.out or os.path.join("outputs", f"{stem}_{args.net}.png")
    npz = os.path.splitext(out)[0] + ".npz"
    for path in [out] + ([npz] if args.save_maps else []):
        if os.path.exists(path) and os.path.samefile(path, args.image):
            raise SystemExit(f"--out {path}: is the input image; choose another --out")
        if os.path.exists(path) and not args.force:
            raise SystemExit(f"--out {path}: exists; choose another --out or pass --force")
    from dance_tf import Explainer
    from dance_tf.data.imagenet import deprocess, load_class_table, load_image, value_range
    from dance_tf.model_contract import logits_model
    from dance_tf.plots.images import save_panels
    from dance_tf.progress import ticker

    settings = dict(PAPER if args.paper else CPU)
    for key in settings:
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    model = build_model(args)
    x = load_image(args.image, mode=model)  # the net's own size, channel order and means
    lo, hi = value_range(model)
    logits, _ = logits_model(model, x.shape)
    scores = logits(x[None], training=False).numpy()[0]
    probs = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    target = int(np.argmax(scores)) if args.target is None else args.target
    table = load_class_table(args.classes)
    name = table.name(target, num_classes=scores.shape[-1])
    print(f"{args.net}: class {target} ({name}), logit {scores[target]:.3f}; settings "
          f"{'paper' if args.paper else 'CPU'} {settings}", flush=True)

    maps, certified = {}, {}
    for method in [m.strip() for m in args.methods.split(",") if m.strip()]:
        start = time.perf_counter()
        explainer = Explainer(model, method=method, layer=args.layer,
                              value_range=(lo, hi), seed=args.seed, **settings)
        method_name = explainer.method_name
        without = explainer.base_map(x, target)
        with ticker(f"  {method_name}: explaining with decoys"):
            details = explainer.explain(x, target=target, return_details=True)
        maps[method_name] = {"without decoys": without, "with decoys": details.saliency}
        certified[method_name] = details.fraction_certified
        print(f"  {method_name}: layer {details.layer}, {len(details.decoys)} decoys, "
              f"{certified[method_name]:.0%} certified, {time.perf_counter() - start:.1f} s",
              flush=True)

    shown = deprocess(x, model).astype(np.float32)
    path = save_panels(out, shown, maps, title=f"{os.path.basename(args.image)}, {args.net}",
                       value_range=(0.0, 255.0), prediction=(target, probs[target]),
                       class_names=[table.name(i, num_classes=scores.shape[-1])
                                    for i in range(scores.shape[-1])])
    if args.save_maps:
        np.savez(os.path.splitext(str(path))[0] + ".npz", input=x, **{
            f"{m}/{v.replace(' ', '_')}": a for m, per in maps.items() for v, a in per.items()})
    print(f"wrote {path}")
    return {"out": str(path), "target": target, "class_name": name, "maps": maps,
            "certified": certified}


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
