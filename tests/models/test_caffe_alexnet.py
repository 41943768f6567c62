"""Caffe AlexNet (bvlc_alexnet.npy format) against an independent numpy forward pass (S5).

Random weights in the file's own format (a pickled dict {layer: [W, b]}); the numpy
reference implements convolution (im2col, explicit SAME/VALID padding, groups), LRN,
max-pooling and the dense layers from their definitions, in float64.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from dance_tf.data.imagenet import load_image
from dance_tf.layers import resolve_layer
from dance_tf.models.caffe_alexnet import (
    WEIGHT_SHAPES,
    caffe_alexnet,
    convert_caffe_alexnet,
    load_caffe_alexnet,
)
from tests.models.slim_reference import FIXTURES, PARITY_IMAGES

GROUPS = {"conv1": 1, "conv2": 2, "conv3": 1, "conv4": 2, "conv5": 2}


def pad_amounts(size: int, k: int, s: int, padding: str) -> tuple[int, int]:
    if padding == "valid":
        return 0, 0
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def conv(x, w, b, stride, padding, groups):
    """x (N,H,W,C), w (k,k,C/groups,O) -> relu(conv + b), channels grouped in order."""
    k = w.shape[0]
    lo, hi = pad_amounts(x.shape[1], k, stride, padding)
    x = np.pad(x, ((0, 0), (lo, hi), (lo, hi), (0, 0)))
    outs = []
    cin, cout = x.shape[-1] // groups, w.shape[-1] // groups
    for g in range(groups):
        xg = x[..., g * cin:(g + 1) * cin]
        win = sliding_window_view(xg, (k, k), axis=(1, 2))[:, ::stride, ::stride]
        n, ho, wo = win.shape[:3]
        cols = win.transpose(0, 1, 2, 4, 5, 3).reshape(n * ho * wo, k * k * cin)
        wg = w[..., g * cout:(g + 1) * cout].reshape(k * k * cin, cout)
        outs.append((cols @ wg).reshape(n, ho, wo, cout))
    return np.maximum(np.concatenate(outs, -1) + b, 0)


def lrn(x, r=2, alpha=2e-5, beta=0.75, bias=1.0):
    sq = np.pad(x * x, ((0, 0), (0, 0), (0, 0), (r, r)))
    win = sum(sq[..., i:i + x.shape[-1]] for i in range(2 * r + 1))
    return x / (bias + alpha * win) ** beta


def maxpool(x, k=3, s=2):
    return sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s].max(axis=(-2, -1))


def numpy_alexnet(x, wts, conv1_padding="same"):
    """Independent forward pass; returns (conv4 output, logits)."""
    h = {}
    a = conv(x, *wts["conv1"], 4, conv1_padding, 1)
    a = maxpool(lrn(a))
    a = maxpool(lrn(conv(a, *wts["conv2"], 1, "same", 2)))
    a = conv(a, *wts["conv3"], 1, "same", 1)
    a = h["conv4"] = conv(a, *wts["conv4"], 1, "same", 2)
    a = maxpool(conv(a, *wts["conv5"], 1, "same", 2))
    a = a.reshape(len(a), -1)
    a = np.maximum(a @ wts["fc6"][0] + wts["fc6"][1], 0)
    a = np.maximum(a @ wts["fc7"][0] + wts["fc7"][1], 0)
    return h["conv4"], a @ wts["fc8"][0] + wts["fc8"][1]


def random_weights(seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for name, (ws, bs) in WEIGHT_SHAPES.items():
        fan_in = int(np.prod(ws[:-1]))
        out[name] = [rng.normal(0, np.sqrt(2 / fan_in), ws).astype(np.float32),
                     rng.normal(0, 0.1, bs).astype(np.float32)]
    return out


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("alexnet")
    wts = random_weights()
    npy = str(tmp / "bvlc_alexnet.npy")
    np.save(npy, np.array(wts, dtype=object), allow_pickle=True)  # the file's own format
    images = np.stack([load_image(os.path.join(FIXTURES, f), size=227, mode="caffe_bgr")
                       for f in PARITY_IMAGES[:2]])
    yield tmp, wts, npy, images
    for big in tmp.iterdir():  # 244 MB each: the .npy and its .npz conversion
        big.unlink()


@pytest.mark.parametrize("conv1_padding", ["same", "valid"])
def test_matches_numpy_forward_pass(setup, conv1_padding):
    tmp, wts, npy, images = setup
    model = caffe_alexnet(conv1_padding=conv1_padding)
    load_caffe_alexnet(model, npy, allow_pickle=True)
    ref64 = {k: [v.astype(np.float64) for v in vs] for k, vs in wts.items()}
    ref_conv4, ref_logits = numpy_alexnet(images.astype(np.float64), ref64, conv1_padding)
    from dance_tf.layers import layer_model

    f_l, choice = layer_model(model, None, images.shape[1:])
    assert choice.name == "conv4" and resolve_layer(model, 6).name == "conv4"
    conv4 = f_l(images).numpy()
    logits = model(images, training=False).numpy()
    assert conv4.shape == ref_conv4.shape == (2, 13, 13, 384)
    e4 = np.abs(conv4 - ref_conv4).max() / np.abs(ref_conv4).max()
    el = np.abs(logits - ref_logits).max() / np.abs(ref_logits).max()
    print(f"caffe_alexnet ({conv1_padding}) conv4 {e4:.2e}, logits {el:.2e}")
    assert e4 <= 1e-5 and el <= 1e-4
    assert model.count_params() == sum(w.size + b.size for w, b in wts.values()) == 60965224


def test_pickle_needs_opt_in_and_conversion_is_pickle_free(setup):
    tmp, wts, npy, images = setup
    model = caffe_alexnet()
    with pytest.raises(ValueError, match="allow_pickle=True"):
        load_caffe_alexnet(model, npy)
    npz = convert_caffe_alexnet(npy, tmp / "bvlc_alexnet", allow_pickle=True)
    assert npz.endswith(".npz")
    with np.load(npz, allow_pickle=False) as data:
        assert sorted(data.files) == sorted(f"{n}/{p}" for n in WEIGHT_SHAPES
                                            for p in ("weights", "biases"))
    load_caffe_alexnet(model, npz)
    np.testing.assert_array_equal(model.get_layer("conv2").kernel.numpy(), wts["conv2"][0])
    np.testing.assert_array_equal(model.get_layer("fc8").bias.numpy(), wts["fc8"][1])
    assert model.preprocessing == "caffe_bgr"


def test_bad_files(setup, tmp_path):
    _, wts, npy, _ = setup
    model = caffe_alexnet()
    with pytest.raises(FileNotFoundError):
        load_caffe_alexnet(model, tmp_path / "missing.npy", allow_pickle=True)
    cut = tmp_path / "cut.npy"
    with open(npy, "rb") as fh:
        cut.write_bytes(fh.read(1 << 20))
    with pytest.raises(ValueError, match="cannot read"):
        load_caffe_alexnet(model, cut, allow_pickle=True)
    small = {"conv1": wts["conv1"],  # conv1 must not load: fc8 has a background class
             "fc8": [np.zeros((4096, 1001), np.float32), np.zeros(1001, np.float32)]}
    odd = tmp_path / "odd.npy"
    np.save(odd, np.array(small, dtype=object), allow_pickle=True)
    before = model.get_layer("conv1").kernel.numpy().copy()
    with pytest.raises(ValueError, match="mis-shaped.*fc8"):
        load_caffe_alexnet(model, odd, allow_pickle=True)
    np.testing.assert_array_equal(model.get_layer("conv1").kernel.numpy(), before)


def test_public_names_are_the_functions():
    """``dance_tf.models.caffe_alexnet()`` must stay the builder even after the
    submodule of the same name was imported (as this test module did)."""
    import dance_tf.models as models

    assert models.caffe_alexnet is caffe_alexnet
    assert models.load_caffe_alexnet is load_caffe_alexnet


# ---------------------------------------------------------------------- hostile pickles
class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_convert_caffe_alexnet_needs_an_explicit_opt_in(tmp_path):
    # before: convert_caffe_alexnet(src, dst) unpickled with no opt-in; the payload ran
    marker = tmp_path / "payload_ran"
    src = tmp_path / "bvlc_alexnet.npy"
    np.save(src, np.array({"conv1": _Payload(str(marker))}, dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle=True") as err:
        convert_caffe_alexnet(src, tmp_path / "out")
    assert not marker.exists()
    assert "convert_caffe_alexnet(src, dst)" not in str(err.value)  # no false advice
    assert not (tmp_path / "out.npz").exists()


def test_convert_caffe_alexnet_never_writes_over_a_file(tmp_path):
    marker = tmp_path / "payload_ran"
    src = tmp_path / "bvlc_alexnet.npy"
    np.save(src, np.array({"conv1": _Payload(str(marker))}, dtype=object), allow_pickle=True)
    (tmp_path / "w.npz").write_text("someone else's file")
    with pytest.raises(FileExistsError, match=r"w\.npz"):
        convert_caffe_alexnet(src, tmp_path / "w", allow_pickle=True)
    assert (tmp_path / "w.npz").read_text() == "someone else's file"
    assert not marker.exists()       # refused before anything was unpickled
