"""Train the SST sentence CNN on fixed GloVe vectors (§4.3.2, S5).

    python scripts/train_sst.py --glove glove.6B.50d.txt --train stsa.binary.train \
        --dev stsa.binary.dev --out models/sst_cnn

Writes DIR/model.keras, DIR/words.txt, DIR/vectors.npy and DIR/config.json (model and
vocabulary together; load with ``dance_tf.models.sst.load(DIR)``). The epoch is chosen on
a seeded held-out slice of the training file (``--val-fraction``), so the printed dev
accuracy is measured on sentences that played no part in training or model selection.
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np

from dance_tf.data import glove, sst
from dance_tf.data.embedding import EmbeddingTable
from dance_tf.models import sst as sst_model


def restrict_vocabulary(words, vectors, sentences, max_words):
    """Keep the first ``max_words`` GloVe rows plus every word the sentences use."""
    if max_words is None:
        return words, vectors
    table = EmbeddingTable(words, vectors)
    keep = set(range(min(max_words, len(words))))
    for tokens in sentences:
        keep.update(r for r in map(table.lookup, tokens) if r is not None)
    rows = sorted(keep)
    return [words[r] for r in rows], vectors[rows]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--glove", required=True, help="GloVe text file (any dimension)")
    parser.add_argument("--train", required=True, help="stsa.binary.train or stsa.fine.train")
    parser.add_argument("--dev", required=True, help="stsa.binary.dev or stsa.fine.dev")
    parser.add_argument("--out", required=True, help="output directory")
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

    keras.utils.set_random_seed(args.seed)
    start = time.time()
    train_sentences, train_labels = sst.load(args.train)
    dev_sentences, dev_labels = sst.load(args.dev)
    words, vectors = glove.load(args.glove)
    words, vectors = restrict_vocabulary(words, vectors, train_sentences + dev_sentences,
                                         args.max_words)
    table = EmbeddingTable(words, vectors)
    num_classes = int(max(train_labels.max(), dev_labels.max())) + 1
    classes = sst_model.BINARY_CLASSES if num_classes == 2 else sst_model.FINE_CLASSES
    if num_classes > len(classes):
        raise ValueError(f"{args.train}: labels go up to {num_classes - 1}; expected 0/1 or 0..4")

    def embed_all(sentences):
        out, kept = [], []
        for i, tokens in enumerate(sentences):
            try:
                out.append(table.embed_one(tokens))
                kept.append(i)
            except ValueError:  # only unknown words: nothing to learn from
                continue
        return out, np.asarray(kept)

    train_x, train_kept = embed_all(train_sentences)
    dev_x, dev_kept = embed_all(dev_sentences)
    oov = sum(table.lookup(t) is None for s in train_sentences for t in s)
    total = sum(len(s) for s in train_sentences)
    print(f"vocabulary {len(words)} x {table.dim}; train {len(train_x)} sentences "
          f"({oov / total:.1%} OOV tokens), dev {len(dev_x)}")

    train_y = train_labels[train_kept]
    order = np.random.default_rng(args.seed).permutation(len(train_x))
    n_val = int(round(args.val_fraction * len(train_x)))
    val_idx, fit_idx = (order[:n_val], order[n_val:]) if n_val else (order, order)
    model = sst_model.build(table.dim, num_classes, filters=args.filters, width=args.width,
                            dropout=args.dropout, seed=args.seed)
    result = sst_model.fit(model, [train_x[i] for i in fit_idx], train_y[fit_idx],
                           [train_x[i] for i in val_idx], train_y[val_idx],
                           epochs=args.epochs, batch_size=args.batch_size,
                           learning_rate=args.learning_rate, max_steps=args.max_steps,
                           seed=args.seed)
    predicted = sst_model.predict_logits(model, dev_x).argmax(-1)
    # accuracy over every dev line; a sentence that could not be embedded counts as wrong
    dev_accuracy = float(np.sum(predicted == dev_labels[dev_kept])) / len(dev_sentences)
    config = {
        "task": "sst", "glove": str(args.glove), "train": str(args.train),
        "dev": str(args.dev), "dim": table.dim, "filters": args.filters,
        "width": args.width, "dropout": args.dropout, "epochs": args.epochs,
        "best_epoch": result["epoch"], "val_accuracy": result["val_accuracy"],
        "val_fraction": args.val_fraction, "dev_accuracy": dev_accuracy,
        "history": result["history"], "seed": args.seed,
        "seconds": round(time.time() - start, 1),
    }
    sst_model.SSTModel(model, table, classes[:num_classes], config).save(args.out)
    print(f"dev accuracy {dev_accuracy:.4f} (epoch {result['epoch']}); saved to {args.out}")
    return config


if __name__ == "__main__":
    main()
