"""The EfficientNet-Lite network (untrained): the Lite scaling of every variant read off
its published state dict, the parameter counts, and the checks of variant and input size."""

from __future__ import annotations

import numpy as np
import pytest

from dance_tf.errors import InputError
from dance_tf.models import efficientnet_lite_net as net
from tests.models.conftest import EXPECTED, SMALL, state_blocks


def test_state_dicts_follow_the_lite_scaling(lite):
    v, state = lite
    blocks = state_blocks(state)
    starts = [b for b in blocks if b["cin"] != b["cout"]]  # a stage starts where C changes
    assert len(starts) == 7
    index = [blocks.index(b) for b in starts] + [len(blocks)]
    repeats = tuple(b - a for a, b in zip(index, index[1:]))
    channels = tuple(b["cout"] for b in starts)
    assert (repeats, channels) == EXPECTED[v][:2]
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)  # stem not scaled in Lite
    assert state["_conv_head.weight"].shape == (1280, channels[-1], 1, 1)  # nor the head
    assert tuple(s[0] for s in net.stages(v)) == repeats
    assert tuple(s[4] for s in net.stages(v)) == channels
    assert len(net.block_names(v)) == len(blocks)


def test_parameter_counts_equal_the_state_dict_totals(lite):
    v, state = lite
    floats = sum(a.size for a in state.values() if a.dtype == np.float32)
    assert floats == EXPECTED[v][2]
    model = net.build(v, SMALL[v])
    assert model.count_params() == floats
    assert model.name == f"efficientnet_{v}" and model.preprocessing == "efficientnet_lite"
    size = net.get_variant(v).image_size
    assert net.build(v).input_shape == (None, size, size, 3)


def test_build_checks_the_variant_and_the_image_size():
    with pytest.raises(InputError, match="variant"):
        net.build(224)  # the old build(image_size) order is refused, not misread
    with pytest.raises(InputError, match="image_size"):
        net.build("lite1", 16)
    assert [net.round_filters(c, 1.1) for c in (16, 24, 40, 80, 112, 192, 320)] == [
        16, 24, 48, 88, 120, 208, 352]
