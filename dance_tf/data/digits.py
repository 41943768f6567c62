"""The embedded default data: scikit-learn's bundled handwritten digits (real, offline).

1,797 greyscale 8×8 digits (UCI optical recognition set) scaled from 0..16 to [0, 1] and
resized bilinearly to 32×32 so that the paper's image settings (P = 3, stride 1, m = 100)
give 2n = 18 decoys per input.
"""

from __future__ import annotations

import numpy as np

from dance_tf import validate

SIZE = 32
VALUE_RANGE = (0.0, 1.0)


def upsample(images: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Bilinear resize (N, 8, 8) → (N, size, size, 1) float32 in [0, 1]."""
    import tensorflow as tf

    x = tf.image.resize(images[..., None].astype(np.float32), (size, size), "bilinear")
    return np.clip(x.numpy(), 0.0, 1.0)


def load(size: int = SIZE, test_fraction: float = 0.2, seed: int = 0):
    """Stratified split of the digits, seeded by ``seed`` (the split seed: the evaluation's
    ``--split-seed``, never the seed of decoy starts). ``size`` ≥ 8, ``test_fraction`` in
    (0, 1).

    Returns (x_train, y_train, x_test, y_test): images (N, size, size, 1) float32 in
    [0, 1] and int labels 0..9.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    size = validate.number("size", size, low=8, integer=True)
    test_fraction = validate.number("test_fraction", test_fraction, low=0, high=1,
                                    low_open=True, high_open=True)
    seed = validate.seed("seed", seed)

    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0
    idx = np.arange(len(images))
    tr, te = train_test_split(idx, test_size=test_fraction, random_state=seed,
                              stratify=digits.target)
    x = upsample(images, size)
    y = digits.target.astype(np.int64)
    return x[tr], y[tr], x[te], y[te]
