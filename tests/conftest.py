"""Shared fixtures: tiny Keras models (8×8–32×32 inputs) built with fixed seeds."""

import contextlib
import importlib.util
import os
import signal
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

#: the tests folder, the checkout, and the test fixtures (small real-data samples)
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"


def load_script(name):
    """``scripts/<name>.py`` imported as module ``name`` (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def small_cnn(size=12, channels=1, classes=4, activation="relu", name="small_cnn", seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((size, size, channels)),
        keras.layers.Conv2D(6, 3, padding="same", activation=activation, name="conv1"),
        keras.layers.MaxPooling2D(name="pool1"),
        keras.layers.Conv2D(8, 3, padding="same", activation=activation, name="conv2"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(classes, name="logits"),
    ], name=name)


@pytest.fixture
def cnn():
    return small_cnn()


@pytest.fixture
def smooth_cnn():
    return small_cnn(activation="tanh", name="smooth_cnn")


@pytest.fixture
def image():
    rng = np.random.default_rng(0)
    return rng.random((12, 12, 1), dtype=np.float32) * 0.8 + 0.1


def saved_tiny_cnn(folder, input_shape, classes, name, padding="same"):
    """A seeded conv → pool1 → logits CNN saved as ``folder/<name>.keras``; its path."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Conv2D(4, 3, padding=padding, activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(name="pool1"),
        keras.layers.Flatten(),
        keras.layers.Dense(classes, name="logits"),
    ], name=name)
    path = folder / f"{name}.keras"
    model.save(path)
    return path


@pytest.fixture(scope="session")
def ids_trained(tmp_path_factory):
    """The IDS MLP trained by scripts/train_ids.py on the fixture rows: (folder, config)."""
    out = tmp_path_factory.mktemp("ids_model")
    config = load_script("train_ids").main([
        "--csv", str(FIXTURES / "ids2018" / "sample_rows.csv"), "--out", str(out),
        "--epochs", "3", "--hidden", "16,8"])
    return out, config


@pytest.fixture(scope="session")
def sst_trained(tmp_path_factory):
    """The SST sentence CNN trained by scripts/train_sst.py on the fixture files and the
    GloVe fixture: (folder, config)."""
    out = tmp_path_factory.mktemp("sst_model")
    config = load_script("train_sst").main([
        "--glove", str(FIXTURES / "glove" / "glove.6B.50d.fixture.txt"),
        "--train", str(FIXTURES / "sst" / "stsa.binary.train"),
        "--dev", str(FIXTURES / "sst" / "stsa.binary.dev"), "--out", str(out),
        "--epochs", "2", "--filters", "8", "--batch-size", "8", "--val-fraction", "0.2"])
    return out, config


@contextlib.contextmanager
def time_limit(seconds: int):
    """Raise TimeoutError in the main thread after ``seconds`` (a hang is a failure)."""
    def alarm(signum, frame):
        raise TimeoutError(f"no result within {seconds} s (a hang)")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
