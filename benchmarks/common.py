"""Shared helpers of the benchmarks: environment, timing, peak memory, models, parts.

Timing: every measured call returns numpy (so the device work is finished), is warmed up
(compiled) first and then repeated; the minimum is reported (the CPU is shared with other
processes, which only ever add time), or variants are interleaved in rounds. Peak memory:
TensorFlow's allocator statistics of the device (peak above the bytes in use before the
call, MB).
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time

import numpy as np
import tensorflow as tf


def environment() -> dict:
    """Machine, TensorFlow / Keras versions, date and load (the CPU is shared)."""
    import keras

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            names = [ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    return {
        "code": _git_state(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "machine": f"{cpu}, {os.cpu_count()} logical cores, {platform.system()}",
        "gpu": ", ".join(gpus) or "none",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


#: the clock of ``timeit``: "wall" (time.perf_counter) or "cpu" (time.process_time, the
#: CPU seconds of this process: robust when other processes share the cores; meaningful
#: with one TensorFlow thread, see ``single_thread``)
CLOCK = {"name": "wall"}


def single_thread() -> None:
    """One intra-op and one inter-op TensorFlow thread (call before any TF op runs), so
    that CPU time measures work, not spinning threads."""
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def _git_state() -> str:
    """The commit benchmarked, and whether the package had uncommitted changes."""
    import subprocess

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "dance_tf"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}{' + uncommitted changes in dance_tf/' if dirty else ''}"


def timeit(fn, repeat: int = 5, warmup: int = 1, stat: str = "min") -> float:
    """Time (s) of ``fn()`` after ``warmup`` untimed calls, on ``CLOCK``: the minimum over
    ``repeat`` calls (the intrinsic cost; other processes share this CPU and only ever
    add time) or the median (``stat="median"``)."""
    clock = time.process_time if CLOCK["name"] == "cpu" else time.perf_counter
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = clock()
        fn()
        times.append(clock() - t)
    return min(times) if stat == "min" else statistics.median(times)


class Rounds:
    """Per-call times of several variants measured in interleaved rounds."""

    def __init__(self, times: dict[str, list[float]]):
        self.times = times

    def median(self, name: str) -> float:
        return float(np.median(self.times[name]))

    def ratio(self, num: str, den: str) -> float:
        """Median over rounds of time(num) / time(den) in the same round."""
        return float(np.median([a / b for a, b in zip(self.times[num], self.times[den])]))


def interleaved(calls: dict, rounds: int = 7, warmup: int = 1) -> Rounds:
    """Call every variant once per round (in an order rotated each round), ``rounds``
    times, after ``warmup`` calls each: ratios then compare calls made under the same
    background load."""
    clock = time.process_time if CLOCK["name"] == "cpu" else time.perf_counter
    for fn in calls.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in calls}
    names = list(calls)
    for r in range(rounds):
        # rotate the order: no variant always runs first or after the same other one
        for name in names[r % len(names):] + names[:r % len(names)]:
            t = clock()
            calls[name]()
            times[name].append(clock() - t)
    return Rounds(times)


def _device() -> str:
    return "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"


def reset_peak() -> float:
    """Reset TensorFlow's peak-memory counter of the device; returns the bytes in use (MB).

    TensorFlow keeps freed memory for reuse, so the process's resident set does not show
    the peak of a warm call; the allocator's own statistics
    (``tf.config.experimental.get_memory_info``) do, on CPU as on GPU.
    """
    tf.config.experimental.reset_memory_stats(_device())
    return tf.config.experimental.get_memory_info(_device())["current"] / 2**20


def peak_since(base_mb: float) -> float:
    """Peak bytes held by TensorFlow's allocator above ``base_mb`` since ``reset_peak`` (MB)."""
    return tf.config.experimental.get_memory_info(_device())["peak"] / 2**20 - base_mb


# ---------------------------------------------------------------------- models
def digits_model(count: int = 8, size: int = 32):
    """The embedded default CNN (trained and cached once) and ``count`` held-out inputs;
    ``size`` ≠ 32: the same CNN trained on the digits resized to size×size."""
    from dance_tf.data import digits as digits_data
    from dance_tf.models import digits

    model = digits.load(progress=lambda *_: None, size=size)
    _, _, x_te, y_te = digits_data.load(size=size)
    return model, x_te[:count], digits_data.VALUE_RANGE


def digits_like(size: int, seed: int = 0):
    """The digits CNN architecture at another input size, random weights (scaling runs)."""
    import keras

    from dance_tf.models import digits

    keras.utils.set_random_seed(seed)
    return digits.build(size)


def vgg16(seed: int = 0):
    """Slim vgg_16 (dance_tf.models.vgg_16), random weights; ℓ = pool1 (Table S1)."""
    import keras

    keras.utils.set_random_seed(seed)
    try:
        from dance_tf.models import vgg_16

        return vgg_16()
    except (ImportError, AttributeError):  # the zoo not landed: a VGG16-shaped stack
        layers = [keras.Input((224, 224, 3))]
        for block, (reps, width) in enumerate(((2, 64), (2, 128), (3, 256), (3, 512),
                                               (3, 512)), 1):
            layers += [keras.layers.Conv2D(width, 3, padding="same", activation="relu")
                       for _ in range(reps)]
            layers.append(keras.layers.MaxPooling2D(name=f"pool{block}"))
        layers += [keras.layers.Flatten(), keras.layers.Dense(4096, activation="relu"),
                   keras.layers.Dense(4096, activation="relu"), keras.layers.Dense(1000)]
        return keras.Sequential(layers, name="vgg_16")


def vgg_input(seed: int = 0) -> tuple[np.ndarray, tuple]:
    """A random mean-subtracted RGB image (224, 224, 3) and slim's legal range."""
    mean = np.array([123.68, 116.78, 103.94], np.float32)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 255, (224, 224, 3)).astype(np.float32) - mean
    return x, (-mean, 255.0 - mean)


# ---------------------------------------------------------------------- parts (R1)
def prefix_step(f_l):
    """One forward + backward pass through layers 1..ℓ for a batch (compiled)."""

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = f_l(x, training=False)
            s = tf.reduce_sum(tf.square(y))
        return tape.gradient(s, x)

    return step


def prefix_forward(f_l):
    """One forward pass through layers 1..ℓ for a batch (compiled)."""
    return tf.function(lambda x: f_l(x, training=False))


def logit_gradient(logits):
    """The vanilla gradient of the target logit for a batch (compiled)."""
    from dance_tf.saliency._core import logit_gradients

    @tf.function
    def grad(x, t):
        return logit_gradients(logits, x, t)

    return grad


def batch_like(x: np.ndarray, n: int, seed: int = 0) -> tf.Tensor:
    """n noisy copies of x (N, *S) as a tensor."""
    rng = np.random.default_rng(seed)
    return tf.constant(x[None] + 0.01 * rng.standard_normal((n,) + x.shape).astype(np.float32))


def explainer(model, value_range, **options):
    import dance_tf

    return dance_tf.Explainer(model, value_range=value_range, **options)
