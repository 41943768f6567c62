"""Train the SST sentence CNN on fixed GloVe vectors (§4.3.2, S5).

    python scripts/train_sst.py --glove glove.6B.50d.txt --train stsa.binary.train \\
        --dev stsa.binary.dev --out models/sst_cnn

Without --glove / --train / --dev it trains on the packaged samples (SST-2 sentences and
the GloVe 50-d vectors of their vocabulary, ``dance_tf/data/samples``) — the same model
``python scripts/evaluate.py --task sst`` trains on first use.

Writes DIR/model.keras, DIR/words.txt, DIR/vectors.npy and DIR/config.json (model and
vocabulary together; load with ``dance_tf.models.sst.load(DIR)``). The epoch is chosen on
a seeded held-out slice of the training file (``--val-fraction``), so the printed dev
accuracy is measured on sentences that played no part in training or model selection.
Refuses an ``--out`` folder that already holds files.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--glove", default=None,
                        help="GloVe text file (any dimension) [the packaged 50-d vectors]")
    parser.add_argument("--train", default=None,
                        help="stsa.binary.train or stsa.fine.train [the packaged SST-2 file]")
    parser.add_argument("--dev", default=None,
                        help="stsa.binary.dev or stsa.fine.dev [the packaged SST-2 file]")
    parser.add_argument("--out", required=True, help="output directory (new or empty)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--val-fraction", type=float, default=0.1,
                        help="fraction of the training file held out to choose the epoch")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--filters", type=int, default=300)
    parser.add_argument("--width", type=int, default=3)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--max-words", type=int, default=None,
                        help="save only the N most frequent GloVe words plus the data's words")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "filters", "width"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: expected ≥ 1, got {getattr(args, name)}")
    if not 0 <= args.val_fraction < 1:
        parser.error(f"--val-fraction: expected a fraction in [0, 1), got {args.val_fraction}")
    if not 0 <= args.dropout < 1:
        parser.error(f"--dropout: expected a fraction in [0, 1), got {args.dropout}")
    if args.max_steps is not None and args.max_steps < 1:
        parser.error(f"--max-steps: expected ≥ 1, got {args.max_steps}")
    if os.path.isdir(args.out) and os.listdir(args.out):
        parser.error(f"--out {args.out}: the folder is not empty; give a new or empty folder")

    from dance_tf.data import samples
    from dance_tf.models import sst as sst_model

    packaged = {"glove": "glove.6B.50d.sst.txt", "train": "stsa.binary.train",
                "dev": "stsa.binary.dev"}
    paths, names = {}, {}
    for key, sample in packaged.items():
        given = getattr(args, key)
        paths[key] = given if given else samples.path(sample)
        names[key] = str(given) if given else samples.PREFIX + sample

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    config = sst_model.train_files(
        paths["glove"], paths["train"], paths["dev"], args.out, epochs=args.epochs,
        val_fraction=args.val_fraction, max_steps=args.max_steps, batch_size=args.batch_size,
        filters=args.filters, width=args.width, dropout=args.dropout,
        learning_rate=args.learning_rate, max_words=args.max_words, seed=args.seed, log=log,
        names=names)
    print(f"dev accuracy {config['dev_accuracy']:.4f} (epoch {config['best_epoch']}); "
          f"saved to {args.out}")
    return config


if __name__ == "__main__":
    main()
