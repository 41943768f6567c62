"""Cost of the issue-25 report card: ``dance_tf.evaluation.evaluate_model`` on
EfficientNet-Lite0 at 224², 32 ImageNet images × 2 methods × 2 variants.

Model: ``dance_tf.models.efficientnet_lite.load()`` (trained ImageNet weights, logits; as
``metrics_cost.py``). Inputs: the first ``--images`` (32) of the 210 shared ImageNet
images (``../shared/data/imagenet/images``, one per class), sorted by file name, read
with ``load_image(path, mode=model)`` (bicubic resize of the short side to 256, centre
crop 224, (x − 127) / 128); labels: their ImageNet class (``labels.csv``, 1000-class
order), so the card explains the true class.

The call, timed as a whole::

    evaluate_model(model, x, labels, methods=("gradient", "smoothgrad"),
                   variants=("none", "decoys"), metrics=None, out=OUT,
                   value_range=dance_tf.data.imagenet.value_range(model))

``metrics=None`` is the default report card (fidelity, fidelity_continuous,
deletion / insertion AUC, MuFidelity, ROAD, max-sensitivity, sparseness, each with its
defaults). DANCE and the methods run with the package defaults (paper packing, P = 3,
m = 100 windows per mask, line-search solver; SmoothGrad 50 samples, σ = 0.15 of the
range); the only explainer option given is ``value_range`` — Lite0's legal input box
[−127/128, 1] per channel, which the decoys need (without it DANCE takes each input's own
[min, max], with a warning). ``--explainer-option key=value`` changes a setting (the
folder then holds another configuration: use another ``--out``).

Phases are timed from outside the call, by wrapping evaluate_model's parts:
``MapSource.compute`` (one map: input × method × variant), ``_Run._row`` (one metric of
one map, including the maps max-sensitivity recomputes on perturbed inputs, which are
timed separately through ``MapSource.explain_fn``), ``ExampleStore`` (example panels)
and ``write_report`` (report.html / report.md). Every begin / end is appended (flushed,
fsynced) to ``OUT/timings.jsonl`` with wall and process-CPU seconds, the 1-min load
average and the peak RSS so far (``ru_maxrss``).

evaluate_model with ``out=`` is resumable: rerunning this script continues where a killed
or stopped run left off (a new "segment" in timings.jsonl); ``--max-minutes`` stops the
call before starting a new map after that long (the map in progress is not interrupted).
``--summary`` only aggregates OUT's files into ``--json`` (nothing is computed; with
``--report`` it also times writing the report from the rows so far; ``--killed-at`` gives
the UTC time a killed run was stopped, which its log cannot know). The summary counts
images completed (all methods × variants × metrics), seconds per image × method ×
variant, per map and per phase; when images are missing, ``extrapolation`` scales the
measured per-image costs to all images and is labelled as such.

    python benchmarks/report_card_cost.py [--images 32] [--out DIR] [--max-minutes M]
    python benchmarks/report_card_cost.py --summary [--report] [--killed-at T] [--note N]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

#: the shared images: $DANCE_TF_IMAGENET, else ``shared/data/imagenet`` beside the checkout
#: (or beside its parent folder, for a git worktree one level deeper)
DATA = Path(os.environ.get("DANCE_TF_IMAGENET") or next(
    (p for p in (ROOT.parent / "shared" / "data" / "imagenet",
                 ROOT.parent.parent / "shared" / "data" / "imagenet") if p.exists()),
    ROOT.parent / "shared" / "data" / "imagenet"))
METHODS = ("gradient", "smoothgrad")
VARIANTS = ("none", "decoys")
TIMINGS = "timings.jsonl"


class Stopped(Exception):
    """--max-minutes reached: raised before a new map starts."""


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20   # KiB → GiB


class Recorder:
    """Appends timing events to OUT/timings.jsonl (one JSON object a line, fsynced)."""

    def __init__(self, path: Path, segment: str):
        self.handle = open(path, "a", encoding="utf-8")
        self.segment, self.start = segment, time.perf_counter()

    def event(self, kind: str, phase: str, **fields) -> None:
        row = {"segment": self.segment, "kind": kind, "phase": phase,
               "t": round(time.perf_counter() - self.start, 3),
               "load": round(os.getloadavg()[0], 2), "peak_rss_gb": round(peak_rss_gb(), 3),
               **fields}
        self.handle.write(json.dumps(row) + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def timed(self, phase: str, fn, *args, **fields):
        self.event("begin", phase, **fields)
        w, c = time.perf_counter(), time.process_time()
        out = fn(*args)
        self.event("end", phase, wall_s=round(time.perf_counter() - w, 3),
                   cpu_s=round(time.process_time() - c, 3), **fields)
        return out


def instrument(rec: Recorder, deadline: float | None) -> None:
    """Wrap evaluate_model's parts so each records its time (see the module docstring)."""
    from dance_tf.evaluation import card_examples, model_card, report_html
    from dance_tf.evaluation.card_maps import MapSource

    compute, explain_fn = MapSource.compute, MapSource.explain_fn
    row, add, save = model_card._Run._row, card_examples.ExampleStore.add, \
        card_examples.ExampleStore.save
    write = report_html.write_report

    def timed_compute(self, i, m, v, x, c):
        if deadline is not None and time.perf_counter() > deadline:
            raise Stopped(f"--max-minutes reached before input {i} {m} {v}")
        return rec.timed("map", compute, self, i, m, v, x, c, index=int(i), method=m,
                         variant=v)

    def timed_explain_fn(self, i, m, v, x, c):
        fn = explain_fn(self, i, m, v, x, c)

        def timed_fn(xs, ts):
            return rec.timed("metric_maps", fn, xs, ts, index=int(i), method=m, variant=v,
                             maps=int(len(xs)))
        return timed_fn

    def timed_row(self, i, m, v, metric, res):
        return rec.timed("metric", row, self, i, m, v, metric, res, index=int(i), method=m,
                         variant=v, metric=metric)

    MapSource.compute, MapSource.explain_fn = timed_compute, timed_explain_fn
    model_card._Run._row = timed_row
    card_examples.ExampleStore.add = lambda self, *a: rec.timed("examples", add, self, *a)
    card_examples.ExampleStore.save = lambda self: rec.timed("examples", save, self)
    report_html.write_report = lambda out, log=print: rec.timed("report", write, out, log)


def load_inputs(model, n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The first n images by file name, preprocessed for the model, and their classes."""
    from dance_tf.data.imagenet import load_image

    with open(DATA / "labels.csv", encoding="utf-8", newline="") as handle:
        classes = {Path(r["file"]).name: int(r["class_index"]) for r in csv.DictReader(handle)}
    paths = sorted((DATA / "images").glob("*.JPEG"))[:n]
    if len(paths) < n:
        raise SystemExit(f"{DATA / 'images'}: {len(paths)} images, {n} asked")
    x = np.stack([load_image(p, mode=model) for p in paths]).astype(np.float32)
    return x, np.array([classes[p.name] for p in paths]), [p.name for p in paths]


def parse_option(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def run(args) -> None:
    import dance_tf
    from dance_tf.data.imagenet import value_range
    from dance_tf.evaluation import evaluate_model
    from dance_tf.models import efficientnet_lite

    args.out.mkdir(parents=True, exist_ok=True)
    segment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f"-{os.getpid()}"
    rec = Recorder(args.out / TIMINGS, segment)
    rec.event("begin", "segment", code=_code(), dance_tf=dance_tf.__version__)
    def load():
        model = efficientnet_lite.load()
        return (model, *load_inputs(model, args.images))

    model, x, labels, names = rec.timed("load", load)
    options = {"value_range": value_range(model), **dict(map(parse_option, args.option))}
    deadline = None if args.max_minutes is None else rec.start + 60 * args.max_minutes
    instrument(rec, deadline)
    status = "complete"
    try:
        rec.timed("call", lambda: evaluate_model(
            model, x, labels, methods=args.methods, variants=args.variants, metrics=None,
            out=args.out, **options))
    except Stopped as err:
        status = f"stopped: {err}"
    rec.event("end", "segment", status=status, images=names)
    print(f"segment {segment}: {status}", flush=True)


def _code() -> str:
    import common

    return common.environment()["code"]


# ---------------------------------------------------------------------- summary
def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass   # a line cut by a kill
    return out


def stats(values) -> dict | None:
    values = [float(v) for v in values]
    if not values:
        return None
    return {"n": len(values), "mean": float(np.mean(values)), "min": min(values),
            "max": max(values), "sum": float(np.sum(values))}


def summarise(out: Path, n_images: int, methods, variants,
              stopped_at: datetime.datetime | None = None) -> dict:
    """Aggregate OUT/rows.jsonl and OUT/timings.jsonl (every segment)."""
    from dance_tf.evaluation.card_metrics import DEFAULT_METRICS, available
    from dance_tf.evaluation.card_rows import load_rows

    metrics = [m for m in DEFAULT_METRICS if available(m)]
    rows = load_rows(out) if (out / "rows.jsonl").exists() else []
    have = {(r["index"], r["method"], r["variant"], r["metric"]) for r in rows}
    unit_done = {(i, m, v): all((i, m, v, k) in have for k in metrics)
                 for i in range(n_images) for m in methods for v in variants}
    images_done = [i for i in range(n_images)
                   if all(unit_done[(i, m, v)] for m in methods for v in variants)]
    events = read_jsonl(out / TIMINGS)
    ends = [e for e in events if e["kind"] == "end"]

    segments = []
    for seg in dict.fromkeys(e["segment"] for e in events):
        evs = [e for e in events if e["segment"] == seg]
        last = evs[-1]
        ended = last["kind"] == "end" and last["phase"] == "segment"
        stop = last["t"]
        if not ended and stopped_at is not None:   # killed: the kill time, if given
            begun = datetime.datetime.strptime(seg[:19], "%Y-%m-%dT%H:%M:%S")
            later = (stopped_at - begun).total_seconds()
            stop = later if later >= last["t"] else stop
        open_ = {}
        for e in evs:   # what was running when the segment's log stops
            key = (e["phase"], e.get("index"), e.get("method"), e.get("variant"),
                   e.get("metric"))
            if e["kind"] == "begin":
                open_[key] = e["t"]
            else:
                open_.pop(key, None)
        segments.append({
            "segment": seg, "wall_s": round(stop, 1),
            "status": last.get("status") if ended else (
                "killed (log ends mid-run)" + ("" if stop == last["t"] else
                                               f"; killed at {stopped_at:%H:%M:%S} UTC")),
            "load_1min": stats(e["load"] for e in evs),
            "peak_rss_gb": max(e["peak_rss_gb"] for e in evs),
            "running_at_end": [] if ended else [
                {"phase": k[0], "index": k[1], "method": k[2], "variant": k[3],
                 "metric": k[4], "running_s_at_least": round(stop - t, 1)}
                for k, t in open_.items() if k[0] not in ("segment", "call")]})

    def of(phase, **match):
        return [e for e in ends if e["phase"] == phase
                and all(e.get(k) == v for k, v in match.items())]

    units = {}
    for m in methods:
        for v in variants:
            done = [i for i in range(n_images) if unit_done[(i, m, v)]]
            per_image = []
            for i in done:
                maps = of("map", index=i, method=m, variant=v)
                mets = of("metric", index=i, method=m, variant=v)
                if maps and len(mets) >= len(metrics):
                    per_image.append(maps[-1]["wall_s"] + sum(
                        e["wall_s"] for e in mets[-len(metrics):]))
            units[f"{m}/{v}"] = {
                "images_completed": len(done),
                "wall_s_per_image (map + all metrics)": stats(per_image),
                "map_wall_s": stats(e["wall_s"] for e in of("map", method=m, variant=v)),
                "map_cpu_s": stats(e["cpu_s"] for e in of("map", method=m, variant=v)),
                "metric_wall_s": {k: stats(e["wall_s"] for e in of(
                    "metric", method=m, variant=v, metric=k)) for k in metrics},
                "max_sensitivity_maps": {
                    "calls": stats(e["wall_s"] for e in of("metric_maps", method=m, variant=v)),
                    "maps_per_call": sorted({e["maps"] for e in of(
                        "metric_maps", method=m, variant=v)})},
                "n_decoys": sorted({r.get("n_decoys") for r in rows
                                    if r["method"] == m and r["variant"] == v})}

    phase_wall = {p: round(sum(e["wall_s"] for e in of(p)), 1)
                  for p in ("load", "map", "metric", "metric_maps", "examples", "report",
                            "call")}
    phase_wall["metric excluding metric_maps"] = round(
        phase_wall["metric"] - phase_wall["metric_maps"], 1)
    total = sum(s["wall_s"] for s in segments)
    summary = {
        "images_asked": n_images, "methods": list(methods), "variants": list(variants),
        "metrics": metrics, "rows": len(rows),
        "rows_expected": n_images * len(methods) * len(variants) * len(metrics),
        "images_completed": len(images_done),
        "complete": len(images_done) == n_images,
        "wall_s_all_segments": round(total, 1),
        "phase_wall_s (ended phases; metric includes metric_maps)": phase_wall,
        "peak_rss_gb": max((s["peak_rss_gb"] for s in segments), default=None),
        "segments": segments, "per_method_variant": units}
    measured = {k: u["wall_s_per_image (map + all metrics)"] for k, u in units.items()}
    if not summary["complete"]:
        summary["extrapolation"] = {
            "label": "EXTRAPOLATION, not a measurement: mean measured wall s per image of each"
                     f" method × variant × {n_images} images; null where no image of that "
                     "method × variant completed",
            "per_method_variant_s": {k: None if s is None else round(s["mean"] * n_images, 1)
                                     for k, s in measured.items()},
            "total_s": None if any(s is None for s in measured.values()) else round(
                sum(s["mean"] for s in measured.values()) * n_images, 1)}
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="an explainer option (JSON value), e.g. packing=\"tiles\"")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "report_card_cost")
    parser.add_argument("--json", type=Path,
                        default=HERE / "results" / "report_card_cost.json")
    parser.add_argument("--max-minutes", type=float, default=None)
    parser.add_argument("--summary", action="store_true", help="only aggregate OUT")
    parser.add_argument("--report", action="store_true",
                        help="with --summary: time writing the report from OUT's rows")
    parser.add_argument("--note", default=None, help="a note stored in the JSON row")
    parser.add_argument("--killed-at", default=None, metavar="YYYY-MM-DDTHH:MM:SS",
                        help="with --summary: when the last segment was killed (UTC), so its"
                             " wall time and the phase it was in count up to then")
    args = parser.parse_args(argv)
    args.methods = tuple(s.strip() for s in args.methods.split(",") if s.strip())
    args.variants = tuple(s.strip() for s in args.variants.split(",") if s.strip())
    if not args.summary:
        run(args)
    import common

    killed = None if args.killed_at is None else datetime.datetime.strptime(
        args.killed_at, "%Y-%m-%dT%H:%M:%S")
    report = None
    if args.report:
        from dance_tf.evaluation.report_html import write_report

        load0 = os.getloadavg()[0]
        w, c = time.perf_counter(), time.process_time()
        write_report(args.out, log=lambda *a: None)
        report = {"wall_s": round(time.perf_counter() - w, 2),
                  "cpu_s": round(time.process_time() - c, 2), "load_1min": round(load0, 2),
                  "note": "report.html / report.md written from the rows present"}
    result = {"environment": common.environment(), "nproc": os.cpu_count(),
              "setting": {"model": "efficientnet_lite0 (trained, 224², logits)",
                          "images": f"first {args.images} of {DATA / 'images'} by name",
                          "labels": "true ImageNet classes (labels.csv)",
                          "explainer_options": ["value_range = value_range(model)",
                                                *args.option],
                          "metrics": "None (the default report card)"},
              "note": args.note,
              "report_from_rows_so_far": report,
              **summarise(args.out, args.images, args.methods, args.variants, killed)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("images_completed", "rows", "rows_expected",
                                              "wall_s_all_segments", "peak_rss_gb")}))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
