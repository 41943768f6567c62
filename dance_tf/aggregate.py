"""Aggregation of decoy saliency maps (§3.4 Eq. 3): running range and mean over chunks.

Z = max − min over the 2n decoy maps, per feature (range), or their mean (the ablation of
§4.3). ``range_covering`` takes max − min per feature over only the decoys whose mask covers
that feature (the decoys Theorem 1 reasons about; an open choice of the paper, measured in
REPRODUCTION.md). Statistics are updated chunk by chunk, so memory does not grow with 2n.
"""

from __future__ import annotations

import tensorflow as tf


class Range:
    """Z = max − min over the decoy maps, per feature (Eq. 3). Strategies turn the running
    statistics (max, min, sum, count) into Z; ``uses_cover``: the max and min see only
    the features each decoy's mask covers."""

    name, uses_cover = "range", False

    def finish(self, stats) -> tf.Tensor:
        mx, mn, _, _ = stats
        return mx - mn


class RangeCovering(Range):
    """The range over the decoys whose mask covers the feature; a feature no mask covers
    has no decoy and gets 0."""

    name, uses_cover = "range_covering", True

    def finish(self, stats) -> tf.Tensor:
        mx, mn, _, _ = stats
        return tf.where(mx >= mn, mx - mn, tf.zeros_like(mx))


class Mean(Range):
    """The mean decoy map (the ablation of §4.3)."""

    name = "mean"

    def finish(self, stats) -> tf.Tensor:
        _, _, sm, count = stats
        return sm / tf.maximum(count, 1.0)


#: Eq. 3's range, the mean of §4.3, and the range over covering decoys
STRATEGIES = {a.name: a for a in (Range(), Mean(), RangeCovering())}
AGGREGATIONS = tuple(STRATEGIES)


def get(name: str) -> Range:
    """The aggregation strategy called ``name`` (one of ``AGGREGATIONS``)."""
    if name not in STRATEGIES:
        raise ValueError(f"aggregation: expected one of {AGGREGATIONS}, got {name!r}")
    return STRATEGIES[name]


def init_stats(shape) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """(running max, running min, running sum, count) for maps of ``shape``."""
    big = tf.fill(shape, tf.constant(float("inf"), tf.float32))
    return -big, big, tf.zeros(shape, tf.float32), tf.constant(0.0)


def update_stats(stats, maps: tf.Tensor, valid: tf.Tensor, cover: tf.Tensor | None = None):
    """Fold a chunk of maps (k, *S) into the running statistics; ``valid`` (k,) bool
    marks real items (padding items of the last chunk are ignored). ``cover`` (k, *S)
    0/1, the chunk's masks: if given, the max and min only see the features each decoy's
    mask covers (``range_covering``)."""
    mx, mn, sm, count = stats
    v = tf.reshape(valid, tf.concat([tf.shape(valid), tf.ones([tf.rank(maps) - 1], tf.int32)],
                                    0))
    seen = v if cover is None else tf.logical_and(v, cover > 0)
    inf = tf.constant(float("inf"), tf.float32)
    mx = tf.maximum(mx, tf.reduce_max(tf.where(seen, maps, -inf), axis=0))
    mn = tf.minimum(mn, tf.reduce_min(tf.where(seen, maps, inf), axis=0))
    sm = sm + tf.reduce_sum(tf.where(v, maps, tf.zeros_like(maps)), axis=0)
    return mx, mn, sm, count + tf.reduce_sum(tf.cast(valid, tf.float32))


def finish_stats(stats, aggregation: str) -> tf.Tensor:
    """Z = max − min (``range``, Eq. 3; ``range_covering``) or the mean (``mean``). With
    ``range_covering`` a feature no mask covers has no decoy and gets 0 (every packing of
    ``dance_tf.masks`` covers every feature, so this does not arise with them)."""
    return get(aggregation).finish(stats)
