"""Command line of the reproduction study (``scripts/reproduce.py``, ``dance-tf reproduce``).

Parsing imports no TensorFlow, so a bad flag fails fast.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path


def parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog or "reproduce.py",
        description="Reproduction study of DANCE: runs the paper's protocols through "
                    "dance_tf.evaluation (rows resumable, packed to results.jsonl.gz) and writes "
                    "REPRODUCTION.md with its figures.")
    p.add_argument("--root", default="reproduction",
                   help="folder of the condition folders [reproduction]")
    p.add_argument("--report", default="REPRODUCTION.md", help="report file [REPRODUCTION.md]")
    p.add_argument("--only", default="",
                   help="comma-separated condition names to run [all, in priority order]")
    p.add_argument("--list", action="store_true", help="list the conditions and exit")
    p.add_argument("--seed", type=int, default=0, help="seed of decoys and noise [0]")
    p.add_argument("--report-only", action="store_true",
                   help="rebuild REPRODUCTION.md and figures from the rows; compute nothing")
    p.add_argument("--smoke", action="store_true",
                   help="tiny settings (2 inputs, gradient, few steps): checks the machinery")
    p.add_argument("--minutes", type=float, default=None,
                   help="stop each condition after this many minutes of wall time, once the "
                        "row being computed is written (its rows so far are kept and packed; "
                        "a rerun resumes) [no limit]")
    p.add_argument("--force", action="store_true",
                   help="write --report even if it exists and was not written by this script")
    p.add_argument("--stop-preregistered", metavar="REASON", default=None,
                   help="mark the pre-registered study (issue 26) as stopped, with REASON: "
                        "its statistics appear in the report from then on; never undone")
    return p


def stop_preregistered(root: Path, reason: str) -> str:
    """Write ``ROOT/preregistered/stopped.json`` (date, reason, the images each block
    reached); refused when it exists or the study has no rows folder. Returns its path."""
    import json

    from dance_tf import single_file

    reason = reason.strip()
    if not reason:
        raise ValueError("--stop-preregistered: give the reason the run stopped")
    base = Path(root) / "preregistered"
    if not base.is_dir():
        raise ValueError(f"--stop-preregistered: {base} does not exist: nothing has run")
    path = base / "stopped.json"
    if path.exists():
        raise ValueError(f"--stop-preregistered: {path} exists; a stop is never undone")
    reached = {str(f.parent.relative_to(base)): len(json.loads(f.read_text())["ids"])
               for f in sorted(base.glob("*/*/images.json"))}
    single_file.write_text(path, json.dumps({
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "reason": reason,
        "images_reached": reached}, indent=1))
    return str(path)


MARK = "# Reproduction of DANCE"


def report_problem(path: Path, force: bool) -> str | None:
    """Why ``--report`` cannot be written, or None: a symbolic link (never written
    through), anything but a regular file (a FIFO would block the check forever,
    /dev/zero be read until memory runs out: dance_tf.single_file.regular_or_absent, the guard
    the evaluation uses too), or a file this script did not write (unless ``force``)."""
    from dance_tf.single_file import regular_or_absent

    if path.is_symlink():
        return (f"{path}: is a symbolic link; the report is never written through a link "
                "- give the real path")
    try:
        if not regular_or_absent(path, "report"):
            return None
    except ValueError as err:
        return str(err)
    with open(path, "rb") as handle:   # a regular file: read only its first line's start
        head = handle.read(len(MARK.encode()))
    if not force and head.decode("utf-8", errors="replace") != MARK:
        return (f"{path} exists and was not written by this script; pass --force or "
                "another --report")
    return None


def _run_all(conds, only, root, args, log) -> int:
    """Run the selected conditions in order; ``--minutes`` asks each one to stop after
    that much wall time (honoured after the row being computed, see
    :mod:`dance_tf.evaluation.stop_request`); the rows so far are packed and the next
    condition starts."""
    from dance_tf.evaluation.stop_request import StopRequested, stop_after
    from dance_tf.study import condition_run

    for c in conds:
        if only and c.name not in only:
            continue
        t0 = time.time()
        log(f"== {c.name} ({c.group}, {c.task}) ==")
        seconds = None if args.minutes is None else args.minutes * 60
        try:
            with stop_after(seconds):
                condition_run.run(c, root, seed=args.seed, log=log)
        except StopRequested:
            log(f"{c.name}: stopped after --minutes {args.minutes} (rows kept)")
        except (ValueError, OSError) as err:
            log(f"{c.name}: error: {err}")
            return 2
        log(f"== {c.name}: {time.time() - t0:.0f} s ==")
    return 0


def main(argv=None, prog: str | None = None) -> int:
    args = parser(prog).parse_args(argv)
    if args.seed < 0 or args.seed > 2**32 - 1:
        parser(prog).error(f"--seed: expected 0 ≤ seed < 2**32, got {args.seed}")
    if args.minutes is not None and not (args.minutes > 0 and args.minutes < 1e6):
        parser(prog).error(f"--minutes: expected a number > 0, got {args.minutes}")
    if args.stop_preregistered is not None:
        try:
            print(stop_preregistered(Path(args.root), args.stop_preregistered))
        except ValueError as err:
            print(f"{prog or 'reproduce.py'}: error: {err}", file=sys.stderr)
            return 2
        return 0
    report_path = Path(args.report)
    problem = report_problem(report_path, args.force)
    if problem:
        print(f"{prog or 'reproduce.py'}: error: {problem}", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from dance_tf.study import conditions as cd
    from dance_tf.study import report

    scale = None
    if args.smoke:
        scale = {"count": 2, "methods": ("gradient",),
                 "flags": ("--ig-steps", "2", "--sg-samples", "2"), "attack_iterations": 2}
    conds = cd.conditions(scale)
    names = [c.name for c in conds]
    if args.list:
        for c in conds:
            print(f"{c.name}\t{c.group}\t{c.task}\t{c.count} inputs\t{','.join(c.methods)}")
        return 0
    only = [n.strip() for n in args.only.split(",") if n.strip()]
    bad = [n for n in only if n not in names]
    if bad:
        parser(prog).error(f"--only: unknown {bad}; expected some of {names}")
    if args.smoke and not only:
        only = ["digits", "digits-solver-adam"]
    root = Path(args.root)
    command = "python scripts/reproduce.py" + (" " + " ".join(argv) if argv else
                                                " " + " ".join(sys.argv[1:]))

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    if not args.report_only:
        # a kill (SIGTERM) packs the rows so far (evaluate's rows are fsynced)
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            status = _run_all(conds, only, root, args, log)
        finally:
            signal.signal(signal.SIGTERM, previous)
        if status:
            return status
    text = report.write(root, conds, report_path, args.seed, command.strip())
    print(text)
    return 0
