"""Picture of the three packings on one 96×96 digit (the packing benchmark's regime).

Row per packing (paper m = 100: 178 decoys; receptive_field: 72; tiles m = 256: 72): one
mask (the swappable region of one decoy pair), |x̃ − x| of its s = +1 decoy, and the
decoy-enhanced gradient map. Shows why fidelity follows compactness: a raster mask is a
strip, a tile a square, a lattice mask a sparse grid over the whole digit, and the range
map inherits the shape of what the decoys moved.

    python benchmarks/packing_figure.py [--out benchmarks/results/packing/packing.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import common

from dance_tf.plots._figure import pyplot, save
from dance_tf.plots.images import display_image, display_map

VARIANTS = (("paper", 100), ("receptive_field", 100), ("tiles", 256))


def draw(out: Path, index: int = 0, seed: int = 0) -> Path:
    """Explain test digit ``index`` (96², ℓ = pool1, P = 3) under each packing; write a PNG."""
    model, xs, vr = common.digits_model(index + 1, size=96)
    x = xs[index]
    plt = pyplot()
    fig, axes = plt.subplots(len(VARIANTS), 4, figsize=(9.2, 2.4 * len(VARIANTS)),
                             squeeze=False)
    for r, (packing, m) in enumerate(VARIANTS):
        ex = common.explainer(model, vr, layer="pool1", patch_size=3, patches_per_mask=m,
                              packing=packing, seed=seed)
        d = ex.explain(x, return_details=True)
        n = len(d.masks)
        i = n // 2  # a mask from the middle of the list: not an edge case
        panels = [(display_image(x, vr), "gray", "input"),
                  (d.masks[i, ..., 0], "gray", f"mask {i + 1} of {n}"),
                  (display_map(d.decoys[i] - x), "magma", "|x̃ − x|, s = +1"),
                  (display_map(d.saliency), "hot", f"DANCE map, 2n = {2 * n}")]
        for c, (img, cmap, title) in enumerate(panels):
            axes[r, c].imshow(img, cmap=cmap, vmin=0, vmax=1)
            axes[r, c].set_title(title, fontsize=9)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(f"{packing}, m = {m}", fontsize=9)
    fig.suptitle("Decoy masks of the three packings (digits CNN 96², ℓ = pool1, P = 3)",
                 fontsize=10)
    return save(fig, out)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" /
                                        "packing" / "packing.png"))
    p.add_argument("--index", type=int, default=0, help="which held-out digit")
    args = p.parse_args()
    print(draw(Path(args.out), args.index))
