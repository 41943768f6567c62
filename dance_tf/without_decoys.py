"""The base method's map without decoys (§4.2's baseline column), on the logits an
explainer explains: the one computation evaluate, the CLI and the scripts compare with."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dance_tf import inputs


def without_decoys(ex, x, targets=None) -> np.ndarray:
    """Explainer ``ex``'s base method on x: one input (*S) or a batch (N, *S) → maps of the
    same shape (numpy); targets: an int, (N,) ints, or None for the predicted classes."""
    if ex._contract is None:
        ex.contract(inputs.gather(x, None))
    x, batched = inputs.gather_inputs(x, ex.input_shape)
    xs = x if batched else x[None]
    xs = np.stack([inputs.check_input(xi, ex.input_shape) for xi in xs])
    logits = ex.logits_model(tuple(xs.shape[1:]))
    if targets is None:
        t = np.argmax(np.asarray(logits(tf.constant(xs), training=False)), axis=-1)
    else:
        n_cls = ex._n_classes(xs[0])
        t = np.array([inputs.check_target(v, n_cls)
                      for v in inputs.batch_targets(targets if batched else [targets],
                                                    len(xs))])
    maps = np.asarray(ex._method(logits, xs, t.astype(np.int32), **ex.method_options),
                      np.float32)
    inputs.check_degenerate_maps(logits, xs, maps)   # an overflow a compiled graph hid
    return maps if batched else maps[0]
