"""Memory sizing (numpy edge): how many decoys one optimised batch holds, how many model
evaluations a base method may batch, and how many inputs may run at once, from
``memory_budget_mb`` (or ``decoy_batch_size``)."""

from __future__ import annotations

import math
import weakref

from dance_tf.errors import BudgetError


def sized(poly_shape: tuple) -> tuple:
    """A concrete shape for memory estimates: variable axes (None) count as 64."""
    return tuple(64 if s is None else int(s) for s in poly_shape)


def balanced_chunks(n_items: int, fit: int, base_max: int) -> tuple[int, int]:
    """(chunk, base) for ``n_items`` decoys: chunks of at most ``fit`` decoys, each split
    into equal base-method batches of at most ``base_max``, with as little padding as
    possible (every padded slot is optimised and explained for nothing).

    The chunks are balanced (16 decoys, fit 16, base_max 5 → one chunk of 16 in 4 batches
    of 4, not chunks of 15 + 1 padded to 15, which doubled the work).
    """
    n_chunks = math.ceil(n_items / fit)
    while True:
        chunk = math.ceil(n_items / n_chunks)
        parts = math.ceil(chunk / base_max)
        base = math.ceil(chunk / parts)
        if base * parts <= fit or n_chunks >= n_items:
            return base * parts, base
        n_chunks += 1


#: shares of the device's free memory the default budget takes (accelerator, host)
GPU_SHARE, HOST_SHARE = 0.5, 0.25
#: the default budget's bounds (MB)
MIN_BUDGET_MB, MAX_BUDGET_MB = 256.0, 65536.0


def device_budget_mb() -> float:
    """The default ``memory_budget_mb``: a share of the free memory of the first GPU
    (``nvidia-smi``) when TensorFlow sees one, else of the host's available memory
    (``/proc/meminfo`` MemAvailable, else ``os.sysconf``); bounded to [256 MB, 64 GB]."""

    free = None
    try:
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            free = _gpu_free_mb()
            free = None if free is None else free * GPU_SHARE
    except ImportError:
        pass
    if free is None:
        host = _host_available_mb()
        free = 1024.0 / HOST_SHARE if host is None else host
        free *= HOST_SHARE
    return float(min(MAX_BUDGET_MB, max(MIN_BUDGET_MB, free)))


def _gpu_free_mb() -> float | None:
    import shutil
    import subprocess

    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=memory.free", "--format=csv,noheader,"
                              "nounits"], capture_output=True, text=True, timeout=10)
        return float(out.stdout.split()[0])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


def _host_available_mb() -> float | None:
    import os

    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (ValueError, OSError, AttributeError):
        return None


def activation_elems(model, shape: tuple = ()) -> int:
    """Count of per-example activation elements in a model (for chunk sizing). A model
    with variable axes is traced on inputs of the concrete ``shape`` (its real layer
    shapes: strides shrink them); without a concrete shape, variable axes count as the
    matching axis of ``shape`` or 64."""
    if shape and all(isinstance(s, int) for s in shape) and _variable(model):
        traced = _traced_elems(model, tuple(shape))
        if traced is not None:
            return traced
    total = 0
    for lay in getattr(model, "layers", []):
        if type(lay).__name__ == "InputLayer":   # the input's buffers are counted apart
            continue
        try:
            out_shape = lay.output.shape
        except (AttributeError, ValueError):
            continue
        if isinstance(out_shape, (list, tuple)) and out_shape and all(
                isinstance(d, (int, type(None))) for d in out_shape):
            dims = [d if d is not None else (shape[i] if i < len(shape) else 64)
                    for i, d in enumerate(out_shape[1:])]
            total += math.prod(int(d) for d in dims)
        if hasattr(lay, "layers"):
            total += activation_elems(lay, shape)
    return max(total, 1)


def _variable(model) -> bool:
    try:
        return any(d is None for d in model.inputs[0].shape[1:])
    except (AttributeError, ValueError, IndexError, TypeError):
        return False


_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _traced_elems(model, shape: tuple) -> int | None:
    """Activation elements of ``model`` re-applied on a concrete input (every node);
    traced once per model and shape (sizing asks several times per plan)."""
    per_model = _TRACED.setdefault(model, {})
    if shape not in per_model:
        per_model[shape] = _trace_elems(model, shape)
    return per_model[shape]


def _trace_elems(model, shape: tuple) -> int | None:
    import keras

    from dance_tf.crops import crop_model

    try:
        traced = crop_model(model, shape)
    except Exception:  # noqa: BLE001 - a graph that cannot be re-applied: the rough count
        return None
    nodes = getattr(traced, "_nodes_by_depth", {})
    total = 0
    for depth_nodes in nodes.values():
        for node in depth_nodes:
            if isinstance(node.operation, keras.layers.InputLayer):
                continue
            for t in node.output_tensors:
                dims = tuple(t.shape)[1:]
                if all(isinstance(d, int) for d in dims):
                    total += math.prod(dims)
    return max(total, 1)


#: share of a model's forward-graph tensors (every op, inside custom layers too) that one
#: input's gradient holds at its peak: measured on CPU at 224² (peak RSS per image of a
#: batched input gradient ÷ the float outputs of the forward graph's ops): ResNet50 0.20,
#: MobileNetV2 0.33, ViT-B/16 0.30, ConvNeXtTiny 0.44 — rounded up
GRAPH_SHARE = 0.5
#: ops whose outputs hold no per-input activation (weights, constants, aliases)
_NOT_ACTIVATIONS = frozenset({"Const", "VarHandleOp", "ReadVariableOp", "Placeholder",
                              "Identity", "NoOp"})
_GRAPH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def graph_elems(model, shape: tuple) -> int:
    """Float elements output by the ops of ``model``'s forward graph on one input of
    ``shape`` (variable axes: 64): what layer outputs do not show — attention scores,
    the insides of custom layers, GELU and LayerScale intermediates. Traced once per
    model and shape; 0 when the model cannot be traced."""
    shape = sized(tuple(shape))
    per_model = _GRAPH.setdefault(model, {})
    if shape not in per_model:
        per_model[shape] = _graph_elems(model, shape)
    return per_model[shape]


def _graph_elems(model, shape: tuple) -> int:
    import tensorflow as tf

    try:
        fn = tf.function(lambda x: model(x, training=False))
        graph = fn.get_concrete_function(tf.TensorSpec((1,) + shape, tf.float32)).graph
    except Exception:  # noqa: BLE001 - a model that cannot be traced: the layer count
        return 0
    return sum(out.shape.num_elements() for op in graph.get_operations()
               if op.type not in _NOT_ACTIVATIONS for out in op.outputs
               if out.dtype.is_floating and out.shape.is_fully_defined())


def held_elems(model, shape: tuple) -> int:
    """Per-input activation elements a pass through ``model`` holds, for memory sizing:
    its layer outputs, or ``GRAPH_SHARE`` of its forward graph's tensors when that is
    more (a ViT's layer outputs show 1/60 of what its gradient holds)."""
    return max(activation_elems(model, shape),
               math.ceil(GRAPH_SHARE * graph_elems(model, shape)))


def decoy_bytes(f_l, shape) -> float:
    """Bytes one decoy holds in the optimisation loop (input-sized buffers and layers
    1..ℓ's activations)."""
    return 4.0 * (14 * math.prod(shape) + 3 * held_elems(f_l, shape))


def cropped_decoy_bytes(f_l, shape, crop) -> float:
    """Bytes one decoy holds when the line search runs on crops (``dance_tf.crops``): the
    loop's buffers at the crop's size, and one forward pass of the full input for the
    certificate."""
    crop_shape = tuple(crop.size) + tuple(shape[len(crop.size):])
    return decoy_bytes(crop.f_crop, crop_shape) + 4.0 * (
        4 * math.prod(shape) + held_elems(f_l, shape))


def chunk_size(budget_mb: float, decoy_batch_size: int | None, logits, f_l, shape,
               n_items: int, variable: bool = False, crop=None) -> tuple[int, int]:
    """(decoys per optimised batch, decoys per base-method batch), from
    ``decoy_batch_size`` or the memory budget ``budget_mb`` (MB); logits: the model the
    base method runs; f_l: F_ℓ (the decoy loop's model).

    The decoy loop holds layers 1..ℓ only; the base method runs the whole model, so its
    batch is sized separately and divides the decoy batch. For models with variable axes
    the decoy batch is a power of two, so that a few compiled graphs serve every input
    length (padding items are ignored).
    """
    budget = budget_mb * 2**20
    per_decoy = decoy_bytes(f_l, shape) if crop is None else cropped_decoy_bytes(
        f_l, shape, crop)
    per_map = per_map_bytes(logits, shape)
    if max(per_decoy, per_map) > budget:
        raise BudgetError(
            f"memory_budget_mb: {budget_mb} MB cannot hold one decoy "
            f"(~{max(per_decoy, per_map) / 2**20:.1f} MB each); raise memory_budget_mb, "
            "or lower the input size or choose an earlier layer")
    if decoy_batch_size is not None:
        fit = int(decoy_batch_size)
    else:
        fit = int(budget // per_decoy)
    base_max = evals_per_batch(budget_mb, logits, shape)
    if variable:
        chunk = int(max(1, min(fit, 2 ** math.ceil(math.log2(n_items)))))
        base = 2 ** int(math.log2(min(chunk, base_max)))  # divides the power-of-two chunk
        return max(base, chunk - chunk % base), base
    return balanced_chunks(n_items, max(1, fit), base_max)


def inputs_in_flight(budget_mb: float, logits, plan, limit: int = 8) -> int:
    """How many inputs of a batch may run at once (``Explainer.__call__``): as many
    decoy chunks of ``plan`` as ``budget_mb`` (MB) holds beside each other, at most
    ``limit``; 1 when one input's decoys already need several chunks."""
    if plan.chunk < plan.n_items:
        return 1
    shape = sized(plan.shape)
    per_item = decoy_bytes(plan.f_l, shape)
    per_item = max(per_item, per_map_bytes(logits, shape))
    fit = budget_mb * 2**20 // (plan.chunk * per_item)
    return int(max(1, min(limit, fit)))


def per_map_bytes(logits, shape) -> float:
    """Bytes one model evaluation of the base method holds (input gradient of the whole
    model): measured on vgg_16 at 224² on CPU, 64–70 MB per image against 58 MB of
    layer outputs, so activations × 1.5 plus a few input-sized buffers; activations from
    the forward graph where layer outputs hide them (``held_elems``: ViT-B/16 measured
    193 MB per image, its layer outputs 2 MB)."""
    held = max(1.5 * activation_elems(logits, shape),
               GRAPH_SHARE * graph_elems(logits, shape))   # the share is measured per map
    return 4.0 * (4 * math.prod(shape) + held)


def evals_per_batch(budget_mb: float, logits, shape) -> int:
    """Evaluations of the model ``logits`` that fit ``budget_mb`` (MB) at once: the
    ``batch_size`` given to base methods that expand each decoy (IG steps, SmoothGrad
    samples, ...)."""
    return int(max(1, budget_mb * 2**20 // per_map_bytes(logits, shape)))
