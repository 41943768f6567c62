"""Train the CSE-CIC-IDS2018 MLP (S5, S8).

    python scripts/train_ids.py --csv data/ids2018/sample.csv --out models/ids_mlp

Loads and cleans the CSV(s) (``dance_tf.data.ids2018``), keeps the paper's classes
(``--classes paper``: Benign, DoS attacks-Hulk, SSH-Bruteforce, Infilteration; ``all``
keeps every label), splits train/test stratified by label with a seed, fits the
MinMaxScaler on the training split only, trains the two-hidden-layer MLP on the binary
benign/attack target (``--target binary``, the paper's) or on the labels
(``--target multiclass``), and reports test accuracy and per-class recall (for the model's
classes and, for the binary target, the detection rate of every attack label).
Writes DIR/model.keras, DIR/scaler.npz, DIR/config.json and DIR/split.npz (test rows).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter

import keras
import numpy as np
from sklearn.model_selection import train_test_split

from dance_tf.data import ids2018
from dance_tf.models import ids as ids_model


def stratify_key(labels: list[str]) -> np.ndarray:
    """Labels for stratification; a label with < 2 rows joins the most frequent label of
    its binary class (benign / attack), since a stratum needs two rows to be split."""
    counts = Counter(labels)
    binary = ids2018.binary_target(labels)
    largest = {}
    for lab, b in zip(labels, binary, strict=True):
        if counts[lab] > counts.get(largest.get(b), 0):
            largest[b] = lab
    return np.asarray([lab if counts[lab] >= 2 else largest[b]
                       for lab, b in zip(labels, binary, strict=True)])


def recall_table(y_true: np.ndarray, y_pred: np.ndarray, groups: list[str]) -> dict:
    """Recall of each group: fraction of its rows predicted as their true class."""
    out = {}
    groups_arr = np.asarray(groups)
    for group in sorted(set(groups)):
        rows = groups_arr == group
        out[group] = {"recall": float(np.mean(y_pred[rows] == y_true[rows])),
                      "count": int(rows.sum())}
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", required=True, nargs="+", help="CICFlowMeter CSV file(s)")
    parser.add_argument("--out", required=True, help="output directory")
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

    keras.utils.set_random_seed(args.seed)
    start = time.time()
    classes = {"paper": ids2018.PAPER_CLASSES, "all": None}.get(
        args.classes, [c.strip() for c in args.classes.split(",")])
    X, labels, names = ids2018.load_csvs(args.csv, classes=classes, timestamp=args.timestamp,
                                         identifiers=args.identifiers)
    if args.target == "binary":
        y = ids2018.binary_target(labels)
        class_names = ids_model.BINARY_CLASSES
    else:
        class_names = tuple(sorted(set(labels)))
        y = np.asarray([class_names.index(lab) for lab in labels], dtype=np.int64)
    rows = np.arange(len(y))
    train_rows, test_rows = train_test_split(rows, test_size=args.test_size,
                                             random_state=args.seed,
                                             stratify=stratify_key(labels))
    scaler = ids_model.fit_scaler(X[train_rows])
    X_train = scaler.transform(X[train_rows]).astype(np.float32)
    X_test = scaler.transform(X[test_rows]).astype(np.float32)
    print(f"{len(y)} flows x {len(names)} features; train {len(train_rows)}, "
          f"test {len(test_rows)}; classes {class_names}")

    hidden = tuple(int(h) for h in args.hidden.split(","))
    if len(hidden) != 2:
        parser.error(f"--hidden: expected two widths, got {args.hidden!r}")
    model = ids_model.build(len(names), len(class_names), hidden=hidden, seed=args.seed)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    steps_per_epoch = int(np.ceil(len(train_rows) / args.batch_size))
    epochs = args.epochs
    if args.max_steps is not None:
        epochs = max(1, min(epochs, int(np.ceil(args.max_steps / steps_per_epoch))))
    model.fit(X_train, y[train_rows], batch_size=args.batch_size, epochs=epochs,
              shuffle=True, verbose=0)
    predicted = np.asarray(model.predict(X_test, verbose=0)).argmax(-1)
    y_test = y[test_rows]
    test_labels = [labels[i] for i in test_rows]
    accuracy = float(np.mean(predicted == y_test))
    per_class = recall_table(y_test, predicted, [class_names[c] for c in y_test])
    per_label = recall_table(y_test, predicted, test_labels)
    config = {
        "task": "ids", "csv": [str(p) for p in args.csv], "classes_kept": args.classes,
        "target": args.target, "timestamp": args.timestamp, "identifiers": args.identifiers,
        "test_size": args.test_size, "epochs": epochs, "hidden": list(hidden), "seed": args.seed,
        "test_accuracy": accuracy, "recall_per_class": per_class,
        "recall_per_label": per_label, "seconds": round(time.time() - start, 1),
        "feature_mean_scaled": X_train.mean(axis=0).tolist(),
    }
    bundle = ids_model.IDSModel(model, scaler, names, class_names, config)
    bundle.save(args.out)
    np.savez(os.path.join(args.out, "split.npz"), test_X=X[test_rows], test_y=y_test,
             test_labels=np.asarray(test_labels), train_rows=train_rows, test_rows=test_rows)
    print(f"test accuracy {accuracy:.4f}")
    print("recall per class:", json.dumps(per_class))
    print("recall per label:", json.dumps(per_label))
    print(f"saved to {args.out}")
    return config


if __name__ == "__main__":
    main()
