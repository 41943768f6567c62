"""Run the benchmarks side by side and write their tables (``dance-tf bench``).

    python benchmarks/run.py [--only r1,r2,...] [--quick] [--no-vgg] [--clock wall|cpu]
                             [--single-thread] [--out benchmarks/results]

One script per measured ratio: r1_no_waste (R1), r2_vs_smoothgrad (R2), steps, packing,
scaling, naive (eager per-decoy baseline), xla_mp (XLA and mixed precision), gpu (vgg_16
with the paper's settings: measured on a GPU if present, else projected from FLOPs). Writes
OUT/results.json (every row) and OUT/results.md (the summary table and one table per
benchmark), and prints the summary. BENCHMARKS.md quotes a run of this script.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

BENCHES = {
    "r1": ("r1_no_waste", "R1: DANCE-gradient ÷ its parts (target ≤ 1.2)"),
    "r2": ("r2_vs_smoothgrad", "R2: DANCE-gradient ÷ SmoothGrad-50 (target ≤ 5, digits)"),
    "steps": ("steps", "optimisation steps per decoy; fidelity vs step budget"),
    "packing": ("packing", "paper vs receptive-field vs tile packing (vgg_16: 2n ≤ 200)"),
    "scaling": ("scaling", "time and peak memory vs input size, 2n, IG steps"),
    "naive": ("naive", "eager per-decoy loop vs compiled and batched"),
    "xla": ("xla_mp", "XLA (jit_compile) and mixed precision"),
    "gpu": ("gpu", "vgg_16 224² paper settings: measured on a GPU, else FLOP projection"),
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dance-tf bench", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="DANCE benchmarks. " + "; ".join(f"{k}: {v[1]}" for k, v in
                                                     BENCHES.items()) + ".")
    p.add_argument("--only", default=",".join(BENCHES),
                   help="comma-separated subset of: " + ", ".join(
                       k.upper() if k.startswith("r") else k for k in BENCHES))
    p.add_argument("--quick", action="store_true", help="fewer inputs and repeats")
    p.add_argument("--no-vgg", action="store_true", help="skip the vgg_16 224×224 parts")
    p.add_argument("--clock", default="wall", choices=("wall", "cpu"),
                   help="wall time, or this process's CPU time (robust on a shared CPU)")
    p.add_argument("--single-thread", action="store_true",
                   help="one TensorFlow intra-op and inter-op thread")
    p.add_argument("--out", default=str(HERE / "results"), help="output folder")
    return p


def _fmt(v) -> str:
    if isinstance(v, bool) or v is None:
        return {True: "yes", False: "**no**", None: "–"}[v]
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3e}"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v)
    return str(v)


def markdown(results: list[dict], env: dict) -> str:
    lines = ["| benchmark | measure | value | target | met |", "|---|---|---|---|---|"]
    for res in results:
        for s in res["summary"]:
            lines.append(f"| {res['name']} | {s['ratio']} | {_fmt(s['value'])} | "
                         f"{s['target']} | {_fmt(s['pass'])} |")
    out = [f"Run {env['date_utc']} UTC, code {env['code']}, on {env['machine']}; GPU: "
           f"{env['gpu']}; TensorFlow "
           f"{env['tensorflow']}, Keras {env['keras']}, Python {env['python']}; clock: "
           f"{env['clock']}; 1-min load average at start {env['load_average_1min']} "
           "(other processes shared the CPU).", "", *lines, ""]
    for res in results:
        out += [f"### {res['name']} ({res['seconds']:.0f} s)", ""]
        keys = []
        for row in res["rows"]:
            keys += [k for k in row if k not in keys]
        out.append("| " + " | ".join(keys) + " |")
        out.append("|" + "---|" * len(keys))
        for row in res["rows"]:
            out.append("| " + " | ".join(_fmt(row.get(k, "")) for k in keys) + " |")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    wanted = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in BENCHES]
    if unknown:
        print(f"dance-tf bench: unknown benchmark(s) {unknown}; choose from {list(BENCHES)}",
              file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import common

    if args.single_thread:
        common.single_thread()
    common.CLOCK["name"] = args.clock
    env = {**common.environment(), "clock": args.clock}
    results, r1_graph, k_vgg = [], None, None
    for key in wanted:
        module = __import__(BENCHES[key][0])
        kwargs = {"quick": args.quick, "vgg": not args.no_vgg}
        if key == "r2" and r1_graph is not None:
            kwargs["r1_graph"] = r1_graph
        if key == "gpu" and k_vgg is not None:
            kwargs["k"] = k_vgg
        t = time.perf_counter()
        print(f"[bench] {key}: {BENCHES[key][1]} ...", file=sys.stderr, flush=True)
        res = module.run(**kwargs)
        res["seconds"] = time.perf_counter() - t
        if key == "r1":
            vgg = [r for r in res["rows"] if r["model"].startswith("vgg")]
            rows = vgg or res["rows"]
            r1_graph = sorted(r["R1_graph_only"] for r in rows)[len(rows) // 2]
        if key == "r2":
            k_vgg = next((r["k_measured"] for r in res["rows"] if "k_measured" in r), None)
        results.append(res)
        for s in res["summary"]:
            print(f"  {s['ratio']}: {_fmt(s['value'])} (target {s['target']})",
                  file=sys.stderr, flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"environment": env, "results": results},
                                                 indent=1, default=float), encoding="utf-8")
    (out / "results.md").write_text(markdown(results, env), encoding="utf-8")
    print(f"[bench] wrote {out / 'results.json'} and {out / 'results.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
