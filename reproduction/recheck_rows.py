"""Recompute rows of the pre-registered run on this machine and compare them with the rows
an earlier sitting wrote (issue 26; RUNNING_PREREGISTERED.md, "Digits of the rows").

Each sitting runs on whatever machine its session has. This script asks how far a row
moves when the same registered code, settings and seed recompute it elsewhere. It
recomputes the map of one (block, variant) per image, scores it through the run's own
metrics and scoring (``prereg_run.register_metrics``, ``model_card.score``: SF at K = 10,
20, 40 % with fill 0 and continuous fidelity, on the per-pixel mean |map|), and writes
one JSON line per row with the stored value (``old``) beside the recomputed one (``new``).
Variants are never compared with one another: the output holds no statistic of the study
(PREREGISTRATION.md §4, no interim looks).

Run it with the registered code on the path (the frozen copy), not main's:

    PYTHONPATH=../wt/prereg python reproduction/recheck_rows.py run OUT.jsonl \\
        --rows ../wt/prereg/reproduction --block gradient --variant none --images 1-24
    python reproduction/recheck_rows.py summary reproduction/recheck/*.jsonl

OUT must not exist (nothing is written over); ``summary`` prints a Markdown table of how
far the rows moved (|new − old| in nats), split by whether the stored row came from this
machine (``same_machine`` in the lines, set by hand from the sittings' log). One map and
one model pass per metric per image: the plain maps of Lite0 take seconds, a DANCE map
about a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

BLOCKS = ("gradient", "smoothgrad", "integrated_gradients", "expected_gradients")


def image_range(text: str) -> list[int]:
    """'1-24' or '3' → zero-based row indices (images are numbered from 1 as in the log)."""
    lo, dash, hi = text.partition("-")
    try:
        a, b = int(lo), int(hi if dash else lo)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or N-M, got {text!r}") from None
    if not 1 <= a <= b:
        raise argparse.ArgumentTypeError(f"expected 1 ≤ N ≤ M, got {text!r}")
    return list(range(a - 1, b))


def partial_of(out: Path) -> Path:
    """Where ``run`` writes before linking the finished file to ``out``."""
    return out.with_name(f".{out.name}.partial")


def parse(argv=None) -> argparse.Namespace:
    top = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = top.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summary", help="a Markdown table of files written by run")
    s.add_argument("files", type=Path, nargs="+")
    p = sub.add_parser("run", help="recompute rows and write them beside the stored ones")
    p.add_argument("out", type=Path, help="JSON lines to write (must not exist)")
    p.add_argument("--rows", type=Path, required=True,
                   help="the run's reproduction folder (holding preregistered/)")
    p.add_argument("--net", default="efficientnet_lite0",
                   choices=("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"))
    p.add_argument("--block", choices=BLOCKS, required=True)
    p.add_argument("--variant", choices=("none", "decoys"), default="none")
    p.add_argument("--images", type=image_range, default=image_range("1-8"),
                   help="images of the registered order, N-M from 1 [1-8]")
    args = top.parse_args(argv)
    if args.command == "summary":
        missing = [str(f) for f in args.files if not f.is_file()]
        if missing:
            s.error(f"files: not found: {missing}")
        return args
    if os.path.lexists(args.out):
        p.error(f"out: {args.out} exists; choose a new file")
    partial = partial_of(args.out)
    if os.path.lexists(partial):
        p.error(f"out: {partial} is left from an interrupted run; remove it or choose a new file")
    if not (args.rows / "preregistered_images.json").is_file():
        p.error(f"--rows: {args.rows} holds no preregistered_images.json (expected the "
                "run's reproduction folder)")
    return args


def stored_rows(folder: Path, variant: str) -> dict:
    """{(index, metric): value} of ``variant`` in ``folder/rows.jsonl``."""
    rows = {}
    for line in (folder / "rows.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:   # a line cut by a kill
            continue
        if r.get("variant") == variant:
            rows[(r["index"], r["metric"])] = r["value"]
    return rows


def _cell(values: list[float]) -> str:
    v = np.asarray(values)
    return f"{np.median(v):.4f} / {v.mean():.4f} / {v.max():.4f}" if v.size else "—"


def summary(files: list[Path]) -> str:
    """Markdown: per block, variant and origin of the stored row, how many rows were
    recomputed, how many came out bitwise equal, and the median / mean / max |new − old|
    (nats) of SF at K and of continuous fidelity."""
    groups: dict = {}
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            origin = "this machine" if r.get("same_machine") else "earlier sittings"
            kind = "continuous" if r["metric"] == "fidelity_continuous" else "SF at K"
            key = (r["net"], r["block"], r["variant"], origin)
            groups.setdefault(key, {}).setdefault(kind, []).append(abs(r["new"] - r["old"]))
    out = ["| net | block | variant | stored row from | rows | bitwise equal | "
           "SF at K: median / mean / max abs. diff | continuous: median / mean / max |",
           "|---|---|---|---|---|---|---|---|"]
    for key in sorted(groups):
        d = groups[key]
        every = d.get("SF at K", []) + d.get("continuous", [])
        out.append(f"| {' | '.join(key)} | {len(every)} | {sum(v == 0 for v in every)} | "
                   f"{_cell(d.get('SF at K', []))} | {_cell(d.get('continuous', []))} |")
    return "\n".join(out)


def main(argv=None) -> int:
    args = parse(argv)
    if args.command == "summary":
        print(summary(args.files))
        return 0
    from dance_tf.evaluation.card_maps import MapSource
    from dance_tf.evaluation.card_metrics import METRICS, chosen
    from dance_tf.evaluation.model_card import score
    from dance_tf.study import prereg_plan as plan
    from dance_tf.study import prereg_run

    prereg_run.register_metrics()   # the run's own metrics and scoring (model_card.score)
    specs = chosen(prereg_run.metric_options())   # {metric: options}, as evaluate_model
    ids = plan.registered_images(args.rows / prereg_run.IMAGES)
    stored = stored_rows(plan.folder(args.rows, args.net, args.block), args.variant)
    nets = prereg_run.Nets(log=lambda m: print(m, file=sys.stderr))
    task = nets.get(args.net)
    block = plan.BLOCKS[args.block]
    options = {**task.explainer_options, **block.packing, "value_range": task.value_range,
               "seed": 0}
    if task.constant is not None:
        options["constant"] = task.constant
    source = MapSource(task.model, task.model,
                       {block.method: (block.method, dict(block.method_options))},
                       options, 0.15, 0)
    partial = partial_of(args.out)   # linked to OUT only when complete
    with open(partial, "x", encoding="utf-8") as out:
        for i in args.images:
            if not all((i, metric) in stored for metric in specs):
                print(f"image {i + 1}: no complete stored rows, skipped", file=sys.stderr)
                continue
            x = nets.inputs([ids[i]])[0]
            c = int(np.argmax(task.model(x[None]).numpy()[0]))
            sal = source.compute(i, block.method, args.variant, x, c).saliency
            for metric, metric_options in specs.items():
                value, _ = score(METRICS[metric], metric_options, task.model, x, sal, c,
                                 None, None)
                out.write(json.dumps({"net": args.net, "block": args.block,
                                      "variant": args.variant, "index": i, "metric": metric,
                                      "old": stored[(i, metric)], "new": value}) + "\n")
            out.flush()
            print(f"image {i + 1} done", file=sys.stderr)
    os.link(partial, args.out)   # never over an existing file (FileExistsError)
    partial.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
