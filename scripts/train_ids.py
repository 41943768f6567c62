"""Train the CSE-CIC-IDS2018 MLP (S5, S8).

    python scripts/train_ids.py --csv data/ids2018/sample.csv --out models/ids_mlp

Without --csv it trains on the packaged sample (``dance_tf/data/samples``) — the same
model ``python scripts/evaluate.py --task ids`` trains on first use.

Loads and cleans the CSV(s) (``dance_tf.data.ids2018``), keeps the paper's classes
(``--classes paper``: Benign, DoS attacks-Hulk, SSH-Bruteforce, Infilteration; ``all``
keeps every label), splits train/test stratified by label with a seed, fits the
MinMaxScaler on the training split only, trains the two-hidden-layer MLP on the binary
benign/attack target (``--target binary``, the paper's) or on the labels
(``--target multiclass``), and reports test accuracy and per-class recall (for the model's
classes and, for the binary target, the detection rate of every attack label).
Writes DIR/model.keras, DIR/scaler.npz, DIR/config.json and DIR/split.npz (test rows).
Refuses an ``--out`` folder that already holds files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", nargs="+", default=None,
                        help="CICFlowMeter CSV file(s) [the packaged sample]")
    parser.add_argument("--out", required=True, help="output directory (new or empty)")
    parser.add_argument("--classes", default="paper",
                        help="'paper', 'all' or a comma-separated list of labels")
    parser.add_argument("--target", choices=("binary", "multiclass"), default="binary")
    parser.add_argument("--timestamp", choices=("drop", "seconds"), default="drop")
    parser.add_argument("--identifiers", choices=("drop", "encode"), default="drop")
    parser.add_argument("--hidden", default="64,32", help="widths of the two hidden layers")
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        hidden = tuple(int(h) for h in args.hidden.split(","))
    except ValueError:
        hidden = ()
    if len(hidden) != 2 or min(hidden) < 1:
        parser.error(f"--hidden: expected two widths ≥ 1 such as 64,32, got {args.hidden!r}")
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: expected ≥ 1, got {getattr(args, name)}")
    if not 0 < args.test_size < 1:
        parser.error(f"--test-size: expected a fraction in (0, 1), got {args.test_size}")
    if args.max_steps is not None and args.max_steps < 1:
        parser.error(f"--max-steps: expected ≥ 1, got {args.max_steps}")
    if os.path.isdir(args.out) and os.listdir(args.out):
        parser.error(f"--out {args.out}: the folder is not empty; give a new or empty folder")

    from dance_tf.data import samples
    from dance_tf.models import ids as ids_model

    if args.csv:
        paths, names = args.csv, [str(p) for p in args.csv]
    else:
        paths = [samples.path("ids2018_sample.csv")]
        names = [samples.PREFIX + "ids2018_sample.csv"]
    classes = args.classes if args.classes in ("paper", "all") else [
        c.strip() for c in args.classes.split(",")]

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    config = ids_model.train_files(
        paths, args.out, classes=classes, target=args.target, timestamp=args.timestamp,
        identifiers=args.identifiers, hidden=hidden, test_size=args.test_size,
        epochs=args.epochs, max_steps=args.max_steps, batch_size=args.batch_size,
        learning_rate=args.learning_rate, seed=args.seed, log=log, names=names)
    print(f"test accuracy {config['test_accuracy']:.4f}")
    print("recall per class:", json.dumps(config["recall_per_class"]))
    print("recall per label:", json.dumps(config["recall_per_label"]))
    print(f"saved to {args.out}")
    return config


if __name__ == "__main__":
    main()
