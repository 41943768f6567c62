"""Batch evaluation of DANCE against its baselines and ablations (§4.2–4.3, S8, S14).

For every input of a task, every base method and every variant — without decoys, with
decoys (range, Eq. 3), decoys with mean aggregation, constant and noise perturbations with
range aggregation (§4.3) — the map is computed, binarised to its top-K features and scored
by fidelity SF = −log p_c (Eq. 6). Rows stream to ``OUT/results*.jsonl`` (one JSON object
per input × method × variant, flushed and fsynced); a rerun with the same ``--out`` skips
what is done, so a killed run loses at most the row in flight. The report (tables of
mean ± s.e. and paired one-sided t-tests of decoys − variant, box plots, example panels)
is rebuilt from all result files in ``OUT`` (shards merge there).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

METHODS = ("gradient", "integrated_gradients", "smoothgrad")
VARIANTS = {
    "none": "without decoys",
    "decoys": "with decoys",
    "mean": "decoys, mean aggr.",
    "constant": "constant, range",
    "noise": "noise, range",
}
EXPLAINER_VARIANTS = {
    "decoys": {"perturbation": "decoys", "aggregation": "range"},
    "mean": {"perturbation": "decoys", "aggregation": "mean"},
    "constant": {"perturbation": "constant", "aggregation": "range"},
    "noise": {"perturbation": "noise", "aggregation": "range"},
}
SHORT = {"gradient": "Gradient", "integrated_gradients": "IntegratedGrad",
         "smoothgrad": "SmoothGrad"}


# ---------------------------------------------------------------------- results file
class ResultsFile:
    """Append-only JSON-lines file of finished rows, safe against a kill at any moment."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._repair()
        self.done = {row_key(r) for r in read_rows([path])}
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open

    def _repair(self) -> None:
        """Drop a partial last line left by a kill during a write."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            with open(self.path, "r+b") as handle:
                handle.truncate(cut)

    def write(self, row: dict) -> None:
        self._handle.write(json.dumps(row, sort_keys=True) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.done.add(row_key(row))

    def close(self) -> None:
        self._handle.close()


def row_key(row: dict) -> tuple:
    return (row["id"], row["method"], row["variant"])


def read_rows(paths) -> list[dict]:
    """All complete rows of the given files, first occurrence of each key kept."""
    rows, seen = [], set()
    for path in paths:
        if not Path(path).exists():
            continue
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if row_key(row) not in seen:
                    seen.add(row_key(row))
                    rows.append(row)
    return rows


# ---------------------------------------------------------------------- progress
class Progress:
    """A one-line progress bar on stderr with rate and ETA."""

    def __init__(self, total: int, label: str = "", stream=sys.stderr, enabled=True):
        self.total, self.label, self.stream, self.enabled = total, label, stream, enabled
        self.count, self.start = 0, time.perf_counter()

    def step(self, n: int = 1, note: str = "") -> None:
        self.count += n
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.count) / rate if rate > 0 else float("nan")
        frac = self.count / max(1, self.total)
        bar = "#" * int(24 * frac) + "-" * (24 - int(24 * frac))
        eta_s = "?" if eta != eta else time.strftime("%M:%S", time.gmtime(eta))
        self.stream.write(f"\r{self.label} [{bar}] {self.count}/{self.total} "
                          f"{rate:.2f}/s ETA {eta_s} {note[:30]:30s}")
        self.stream.flush()
        if self.count >= self.total:
            self.stream.write("\n")


# ---------------------------------------------------------------------- evaluation
def method_options(method: str, args) -> dict:
    if method == "integrated_gradients":
        return {"steps": args.ig_steps}
    if method == "smoothgrad":
        return {"samples": args.sg_samples, "noise": args.sg_noise}
    return {}


def write_row(results, task, args, i, m, v, c, res, seconds, logits, maps_dir) -> None:
    """Score one map (fidelity at each K) and append its row; save maps of examples."""
    from dance_tf.metrics import fidelity
    from dance_tf.reduce import feature_scores

    extra = {}
    sal = res
    if not isinstance(res, np.ndarray):
        sal = res.saliency
        extra = {"n_items": int(len(res.decoys)), "certified": float(np.mean(res.certified)),
                 "max_deviation": float(np.max(res.max_deviation)), "epsilon": res.epsilon,
                 "steps_mean": float(np.mean(res.steps)), "steps_max": int(np.max(res.steps)),
                 "layer": res.layer}
    x = np.asarray(task.inputs[i], np.float32)
    feat = feature_scores(sal, task.feature_ndim, "abs_mean")
    sf = {str(k): float(fidelity(logits, x[None], feat[None], [c], k=k, fill=task.fill)[0])
          for k in args.k}
    if i < args.examples:
        maps_dir.mkdir(parents=True, exist_ok=True)
        np.save(maps_dir / f"{task.ids[i]}__{m}__{v}.npy", sal)
    label = None if task.labels is None else int(task.labels[i])
    results.write({"task": task.name, "id": task.ids[i], "index": i, "method": m, "variant": v,
                   "target": c, "label": label, "sf": sf, "seconds": seconds, **extra})


def attack_row(task, args, i, m, v, x, c, logits, opts, explainer) -> dict:
    """Attack one input against method m's map (§4.4) and score the maps of x and x̂
    without and with decoys: SS (Eq. 7, maps binarised to the first K), top-k
    intersection, Spearman rank correlation, centre-of-mass shift in pixels."""
    from dance_tf import attacks
    from dance_tf.saliency.registry import resolve_method

    kind = v.split(":", 1)[1]
    attack = getattr(attacks, f"{kind}_attack")
    t0 = time.perf_counter()
    x_adv = attack(logits, x[None], np.array([c]), value_range=task.value_range, method=m,
                   method_options=opts or None, iterations=args.attack_iterations)
    attack_seconds = time.perf_counter() - t0
    _, fn = resolve_method(m)

    def without(batch):
        return np.asarray(fn(logits, batch, np.array([c] * len(batch)), **opts))

    def with_decoys(batch):
        return np.stack([explainer.explain(b, target=c) for b in batch])

    rep = attacks.robustness_report(x[None], x_adv, {"none": without, "decoys": with_decoys},
                                    k=args.k[0])
    label_adv = int(np.argmax(logits(x_adv, training=False).numpy()[0]))
    row = {"task": task.name, "id": task.ids[i], "index": i, "method": m, "variant": v,
           "target": c, "label_after_attack": label_adv, "sf": {},
           "linf": float(np.max(np.abs(x_adv[0] - x))), "seconds": attack_seconds}
    for name, vals in rep.items():
        for metric, arr in vals.items():
            row[f"{metric}_{name}"] = float(np.asarray(arr)[0])
    return row


def evaluate(task, args, log=print) -> Path:
    """Run the evaluation of ``task`` into ``args.out``; returns the results file path."""
    import tensorflow as tf

    from dance_tf import Explainer
    from dance_tf.distribute import explain_replicated, make_strategy, worker_shard
    from dance_tf.layers import logits_model
    from dance_tf.saliency.registry import resolve_method

    if args.strategy == "multi-worker":
        args.shard_index, args.num_shards = worker_shard()
    strategy = make_strategy("mirrored" if args.strategy != "none" else "none")

    out = Path(args.out)
    shard = f".shard-{args.shard_index}-of-{args.num_shards}" if args.num_shards > 1 else ""
    results = ResultsFile(out / f"results{shard}.jsonl")
    maps_dir = out / "maps"
    indices = [i for i in range(len(task.inputs)) if i % args.num_shards == args.shard_index]
    variants = list(args.variants) + [f"attack:{a}" for a in args.attacks]
    if args.attacks and task.feature_ndim != 2:
        raise ValueError(f"--attacks: the explanation attacks need image inputs; task "
                         f"{task.name!r} has other inputs")
    todo = [(i, m, v) for i in indices for m in args.methods for v in variants
            if (task.ids[i], m, v) not in results.done]
    log(f"{task.name}: {len(indices)} inputs × {len(args.methods)} methods × "
        f"{len(variants)} variants; {len(todo)} rows to compute, "
        f"{len(indices) * len(args.methods) * len(variants) - len(todo)} already done")
    progress = Progress(len(todo), task.name, enabled=not args.quiet)
    shape0 = tuple(np.asarray(task.inputs[0]).shape)
    logits, _ = logits_model(task.model, shape0)
    explainers: dict[tuple, Explainer] = {}
    pending = defaultdict(list)
    for i, m, v in todo:
        pending[i].append((m, v))
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    order = sorted(pending)
    for g in range(0, len(order), replicas):
        group = order[g:g + replicas]
        xs = {i: np.asarray(task.inputs[i], np.float32) for i in group}
        cs = {i: int(np.argmax(logits(xs[i][None], training=False).numpy()[0])) for i in group}
        combos = list(dict.fromkeys(mv for i in group for mv in pending[i]))
        for m, v in combos:
            members = [i for i in group if (m, v) in pending[i]]
            opts = method_options(m, args)

            def explainer_for(variant, shape, m=m, opts=opts):
                key = (m, variant, shape)
                if key not in explainers:
                    explainers[key] = Explainer(
                        task.model, method=m, value_range=task.value_range, seed=args.seed,
                        constant=task.constant, **EXPLAINER_VARIANTS[variant],
                        **task.explainer_options, **opts)
                return explainers[key]

            if v.startswith("attack:"):
                for i in members:
                    row = attack_row(task, args, i, m, v, xs[i], cs[i], logits, opts,
                                     explainer_for("decoys", xs[i].shape))
                    results.write(row)
                    progress.step(note=f"{task.ids[i]} {m} {v}")
                continue
            t0 = time.perf_counter()
            if v == "none":
                _, fn = resolve_method(m)
                outs = [np.asarray(fn(logits, xs[i][None], np.array([cs[i]]), **opts))[0]
                        for i in members]
            else:
                outs = explain_replicated(explainer_for(v, xs[members[0]].shape), strategy,
                                          [xs[i] for i in members],
                                          [cs[i] for i in members], return_details=True)
            seconds = (time.perf_counter() - t0) / len(members)
            for i, res in zip(members, outs):
                write_row(results, task, args, i, m, v, cs[i], res, seconds, logits, maps_dir)
                progress.step(note=f"{task.ids[i]} {m} {v}")
    results.close()
    tf.keras.backend.clear_session()
    return results.path


# ---------------------------------------------------------------------- report
def summarise(rows: list[dict], k: str) -> dict:
    """{method: {variant: {id: SF}}} for one K."""
    table: dict = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        if k in r["sf"]:
            table[r["method"]][r["variant"]][r["id"]] = r["sf"][k]
    return table


def report(out: Path, task=None, log=print) -> str:
    """Tables (mean ± s.e.; paired decoys − variant, one-sided p), box plots, panels."""
    from dance_tf.metrics import paired_stats

    rows = read_rows(sorted(out.glob("results*.jsonl")))
    if not rows:
        return "no results"
    ks = sorted({k for r in rows for k in r["sf"]}, key=float)
    lines = [f"# Evaluation report: {rows[0]['task']}", ""]
    if task is not None and task.description:
        lines += [task.description, ""]
    lines += [f"{len({r['id'] for r in rows})} inputs; SF = −log p_c after keeping the top-K "
              "features (lower is better).", ""]
    for k in ks:
        table = summarise(rows, k)
        variants = [v for v in VARIANTS if any(v in table[m] for m in table)]
        lines += [f"## Fidelity SF, K = {float(k):.0%}", "",
                  "| method | " + " | ".join(VARIANTS[v] for v in variants) + " |",
                  "|---" * (len(variants) + 1) + "|"]
        for m in table:
            cells = []
            for v in variants:
                vals = np.array(list(table[m].get(v, {}).values()), float)
                if vals.size:
                    se = vals.std(ddof=1) / np.sqrt(vals.size) if vals.size > 1 else 0.0
                    cells.append(f"{vals.mean():.3f} ± {se:.3f}")
                else:
                    cells.append("–")
            lines.append(f"| {SHORT.get(m, m)} | " + " | ".join(cells) + " |")
        lines += ["", f"Paired differences, with decoys − variant (mean ± s.e., one-sided p, "
                  f"H0: E[diff] ≥ 0; S14), K = {float(k):.0%}:", ""]
        others = [v for v in variants if v != "decoys"]
        lines += ["| method | " + " | ".join(VARIANTS[v] for v in others) + " |",
                  "|---" * (len(others) + 1) + "|"]
        for m in table:
            cells = []
            ours = table[m].get("decoys", {})
            for v in others:
                base = table[m].get(v, {})
                ids = sorted(set(ours) & set(base))
                if len(ids) >= 2:
                    st = paired_stats([ours[i] for i in ids], [base[i] for i in ids])
                    cells.append(f"{st.mean:+.3f} ± {st.se:.3f} (p={st.p:.3g})")
                else:
                    cells.append("–")
            lines.append(f"| {SHORT.get(m, m)} | " + " | ".join(cells) + " |")
        lines.append("")
        _boxplot(out, table, k)
    lines += attack_tables(out, rows)
    timing = defaultdict(list)
    for r in rows:
        timing[(r["method"], r["variant"])].append(r["seconds"])
    lines += ["## Time per explanation (s; the mean includes the first, compiling call)", "",
              "| method | variant | mean s | median s | decoys | certified | steps (mean) |",
              "|---|---|---|---|---|---|---|"]
    for (m, v), ts in sorted(timing.items()):
        sel = [r for r in rows if r["method"] == m and r["variant"] == v]
        n_items = sel[0].get("n_items", "–")
        cert = [r["certified"] for r in sel if "certified" in r]
        cert_s = f"{np.mean(cert):.3f}" if cert and v in ("decoys", "mean") else "–"
        steps = [r["steps_mean"] for r in sel if "steps_mean" in r]
        steps_s = f"{np.mean(steps):.1f}" if steps and v in ("decoys", "mean") else "–"
        lines.append(f"| {SHORT.get(m, m)} | {VARIANTS.get(v, v)} | {np.mean(ts):.3f} | "
                     f"{np.median(ts):.3f} | {n_items} | {cert_s} | {steps_s} |")
    if task is not None and task.render is not None:
        _panels(out, rows, task)
    text = "\n".join(lines) + "\n"
    (out / "report.md").write_text(text, encoding="utf-8")
    return text


def attack_tables(out: Path, rows: list[dict]) -> list[str]:
    """Tables S6/S10/S11-style: SS without and with decoys under each attack (§4.4)."""
    from dance_tf.metrics import paired_stats
    from dance_tf.plots.images import save_boxplot

    attacked = [r for r in rows if r["variant"].startswith("attack:")]
    if not attacked:
        return []
    lines = ["## Robustness to explanation attacks (§4.4; lower SS is better)", "",
             "| attack | method | SS without decoys | SS with decoys | decoys − without "
             "(p) | top-k ∩ w/o / with | Spearman w/o / with | centre shift px w/o / with "
             "| label kept |", "|---" * 9 + "|"]
    scores: dict = defaultdict(dict)
    for attack in sorted({r["variant"] for r in attacked}):
        for m in sorted({r["method"] for r in attacked}, key=_method_order):
            sel = [r for r in attacked if r["variant"] == attack and r["method"] == m
                   and np.isfinite(r.get("ss_none", np.nan))
                   and np.isfinite(r.get("ss_decoys", np.nan))]
            if not sel:
                continue
            a = np.array([r["ss_none"] for r in sel])
            b = np.array([r["ss_decoys"] for r in sel])
            st = paired_stats(b, a) if len(sel) > 1 else None
            diff = f"{st.mean:+.3f} ± {st.se:.3f} (p={st.p:.3g})" if st else "–"

            def pair(key, sel=sel):
                return (f"{np.nanmean([r[key + '_none'] for r in sel]):.2f} / "
                        f"{np.nanmean([r[key + '_decoys'] for r in sel]):.2f}")

            kept = np.mean([r["label_after_attack"] == r["target"] for r in sel])
            lines.append(f"| {attack[7:]} | {SHORT.get(m, m)} | {_mse(a)} | {_mse(b)} | {diff} "
                         f"| {pair('topk_intersection')} | {pair('rank_correlation')} | "
                         f"{pair('center_shift')} | {kept:.0%} |")
            scores[f"{attack[7:]}: {SHORT.get(m, m)}"] = {"without decoys": a,
                                                          "with decoys": b}
    save_boxplot(out / "sensitivity.png", scores, ylabel="sensitivity SS (lower is better)",
                 title="Sensitivity under attacks")
    return lines + [""]


def _mse(vals: np.ndarray) -> str:
    se = vals.std(ddof=1) / np.sqrt(vals.size) if vals.size > 1 else 0.0
    return f"{vals.mean():.3f} ± {se:.3f}"


def _boxplot(out: Path, table: dict, k: str) -> None:
    from dance_tf.plots.images import save_boxplot

    scores = {SHORT.get(m, m): {VARIANTS[v]: list(table[m][v].values()) for v in VARIANTS
                                if v in table[m]} for m in table}
    save_boxplot(out / f"fidelity_k{int(round(float(k) * 100))}.png", scores,
                 title=f"Fidelity, top {float(k):.0%} kept")


def _method_order(method: str) -> tuple:
    return (METHODS.index(method) if method in METHODS else len(METHODS), method)


def _panels(out: Path, rows: list[dict], task) -> None:
    maps_dir = out / "maps"
    ids = sorted({r["id"] for r in rows if (maps_dir / f"{r['id']}__{r['method']}__"
                                                      f"{r['variant']}.npy").exists()})
    index = {tid: i for i, tid in enumerate(task.ids)}
    for tid in ids:
        maps: dict = {}
        for m in sorted({r["method"] for r in rows}, key=_method_order):
            per = {VARIANTS[v]: np.load(maps_dir / f"{tid}__{m}__{v}.npy") for v in VARIANTS
                   if (maps_dir / f"{tid}__{m}__{v}.npy").exists()}
            if per:
                maps[SHORT.get(m, m)] = per
        if tid in index:
            task.render(out / "examples" / f"{tid}.png", np.asarray(task.inputs[index[tid]]),
                        dict(maps), tid)


# ---------------------------------------------------------------------- command line
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="evaluate.py",
        description="DANCE batch evaluation: fidelity of base methods without/with decoys "
                    "and the ablations of §4.3 (defaults: the embedded digits task).")
    p.add_argument("--task", default="digits", help="digits (default), sst, ids, imagenet")
    p.add_argument("--input", default=None, help="inputs: file or folder (task-specific)")
    p.add_argument("--model", default=None, help="model file or folder (task-specific)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="explainer setting for the task, e.g. stride=3, max_steps=30 "
                        "(repeatable)")
    p.add_argument("--count", type=int, default=None, help="number of inputs [task default]")
    p.add_argument("--out", default=None, help="output folder [outputs/<task>]")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma-separated base methods [{','.join(METHODS)}]")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help=f"comma-separated variants [{','.join(VARIANTS)}]")
    p.add_argument("--k", default="0.2", help="top-K fractions, comma-separated [0.2]")
    p.add_argument("--attacks", default="",
                   help="explanation attacks to run, comma-separated: topk,targeted,"
                        "mass_center (§4.4; images only) [none]")
    p.add_argument("--attack-iterations", type=int, default=300,
                   help="sign steps per attack [300, the authors' code]")
    p.add_argument("--ig-steps", type=int, default=50, help="IG steps [50]")
    p.add_argument("--sg-samples", type=int, default=50, help="SmoothGrad samples [50]")
    p.add_argument("--sg-noise", type=float, default=0.15, help="SmoothGrad noise [0.15]")
    p.add_argument("--seed", type=int, default=0, help="seed of decoy starts and noise [0]")
    p.add_argument("--examples", type=int, default=4, help="inputs drawn as panels [4]")
    p.add_argument("--num-shards", type=int, default=1, help="split the inputs [1]")
    p.add_argument("--shard-index", type=int, default=0, help="this shard, 0-based [0]")
    p.add_argument("--strategy", default="none", choices=["none", "mirrored", "multi-worker"],
                   help="none; mirrored: one input per local GPU replica; multi-worker: "
                        "this TF_CONFIG task's shard of the inputs (and its local GPUs)")
    p.add_argument("--report-only", action="store_true", help="rebuild the report only")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def parse(argv=None) -> argparse.Namespace:
    args = parser().parse_args(argv)
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in args.variants if v not in VARIANTS]
    if bad:
        raise SystemExit(f"--variants: unknown {bad}; expected some of {list(VARIANTS)}")
    args.attacks = [a.strip() for a in args.attacks.split(",") if a.strip()]
    bad = [a for a in args.attacks if a not in ("topk", "targeted", "mass_center")]
    if bad:
        raise SystemExit(f"--attacks: unknown {bad}; expected topk, targeted, mass_center")
    args.k = [float(k) for k in args.k.split(",")]
    if not all(0 < k <= 1 for k in args.k):
        raise SystemExit(f"--k: expected fractions in (0, 1], got {args.k}")
    if args.num_shards < 1 or not 0 <= args.shard_index < args.num_shards:
        raise SystemExit("--shard-index: expected 0 ≤ shard-index < num-shards")
    args.out = args.out or os.path.join("outputs", args.task)
    args.options = dict(_parse_option(o) for o in args.option)
    return args


def _parse_option(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise SystemExit(f"--option: expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    for cast in (int, float):
        try:
            return key.strip(), cast(value)
        except ValueError:
            pass
    return key.strip(), {"true": True, "false": False, "none": None}.get(value.lower(), value)


def main(argv=None) -> int:
    args = parse(argv)
    cpus = int(os.environ.get("DANCE_TF_LOGICAL_CPUS", "0") or 0)
    if cpus > 1:
        from dance_tf.distribute import split_cpu

        split_cpu(cpus)
    from dance_tf.tasks import build_task

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    options = {"input": args.input, "model": args.model, "count": args.count,
               "seed": args.seed, "log": log, "options": args.options}
    task = build_task(args.task, options)
    task.explainer_options.update({k: v for k, v in args.options.items()
                                   if k != "preprocessing"})
    out = Path(args.out)
    if not args.report_only:
        evaluate(task, args, log=log)
    text = report(out, task, log=log)
    print(text)
    log(f"report: {out / 'report.md'}; figures: {out}")
    return 0
