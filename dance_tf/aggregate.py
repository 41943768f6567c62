"""Aggregation of decoy saliency maps (§3.4 Eq. 3): running range and mean over chunks.

Z = max − min over the 2n decoy maps, per feature (range), or their mean (the ablation of
§4.3). Statistics are updated chunk by chunk, so memory does not grow with 2n.
"""

from __future__ import annotations

import tensorflow as tf

AGGREGATIONS = ("range", "mean")


def init_stats(shape) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """(running max, running min, running sum, count) for maps of ``shape``."""
    big = tf.fill(shape, tf.constant(float("inf"), tf.float32))
    return -big, big, tf.zeros(shape, tf.float32), tf.constant(0.0)


def update_stats(stats, maps: tf.Tensor, valid: tf.Tensor):
    """Fold a chunk of maps (k, *S) into the running statistics; ``valid`` (k,) bool
    marks real items (padding items of the last chunk are ignored)."""
    mx, mn, sm, count = stats
    v = tf.reshape(valid, tf.concat([tf.shape(valid), tf.ones([tf.rank(maps) - 1], tf.int32)],
                                    0))
    inf = tf.constant(float("inf"), tf.float32)
    mx = tf.maximum(mx, tf.reduce_max(tf.where(v, maps, -inf), axis=0))
    mn = tf.minimum(mn, tf.reduce_min(tf.where(v, maps, inf), axis=0))
    sm = sm + tf.reduce_sum(tf.where(v, maps, tf.zeros_like(maps)), axis=0)
    return mx, mn, sm, count + tf.reduce_sum(tf.cast(valid, tf.float32))


def finish_stats(stats, aggregation: str) -> tf.Tensor:
    """Z = max − min (``range``, Eq. 3) or the mean (``mean``)."""
    mx, mn, sm, count = stats
    if aggregation == "range":
        return mx - mn
    return sm / tf.maximum(count, 1.0)
