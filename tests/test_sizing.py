"""Decoy chunks and base-method batches from the memory budget (dance_tf.sizing)."""

import keras
import numpy as np
import pytest

import dance_tf
from dance_tf.sizing import activation_elems, balanced_chunks


@pytest.mark.parametrize("n,fit,base_max", [(16, 16, 5), (18, 18, 100), (986, 64, 64),
                                            (986, 64, 10), (17, 8, 8), (5, 1, 1),
                                            (72, 1000, 7), (128, 40, 40), (3, 2, 1)])
def test_balanced_chunks_fit_memory_and_pad_little(n, fit, base_max):
    chunk, base = balanced_chunks(n, fit, base_max)
    chunks = -(-n // chunk)
    assert chunk <= fit and base <= base_max and chunk % base == 0
    # padding: fewer than one slot per chunk plus one per base-method batch
    assert chunks * chunk - n < chunks * (chunk // base + 1)
    assert chunks == -(-n // fit) or chunk * (chunks - 1) < n


def test_sixteen_decoys_in_one_chunk_not_fifteen_plus_a_padded_one():
    # the vgg_16 R1 case: 16 decoys, batch 16, the base method fits 5 at a time; it used
    # to run two chunks of 15 (the second with 14 padded decoys)
    assert balanced_chunks(16, 16, 5) == (16, 4)


def test_memory_budget_that_cannot_hold_one_decoy_says_what_to_lower():
    big = keras.Sequential([keras.Input((64, 64, 3)), keras.layers.Conv2D(64, 3, name="c"),
                            keras.layers.Flatten(), keras.layers.Dense(2)])
    ex = dance_tf.Explainer(big, layer="c", value_range=(0.0, 1.0), memory_budget_mb=0.5)
    with pytest.raises(ValueError, match="memory_budget_mb.*raise memory_budget_mb"):
        ex.explain(np.zeros((64, 64, 3), np.float32))


def test_expanding_base_methods_get_a_batch_size_from_the_memory_budget(cnn, image):
    seen = []

    def grad_like(model, inputs, targets, batch_size=64):
        seen.append(batch_size)
        return dance_tf.saliency.gradient(model, inputs, targets)

    ex = dance_tf.Explainer(cnn, method=grad_like, value_range=(0.0, 1.0),
                            patches_per_mask=50, memory_budget_mb=1.0)
    ex.explain(image)
    # 1 MB over (4 input-sized buffers + 1.5 × the activations) per evaluation, by hand
    per_eval = 4.0 * (4 * 144 + 1.5 * activation_elems(cnn, (12, 12, 1)))
    assert seen and set(seen) == {int(2**20 // per_eval)}
    seen.clear()
    dance_tf.Explainer(cnn, method=grad_like, value_range=(0.0, 1.0), patches_per_mask=50,
                       memory_budget_mb=1.0, batch_size=3).explain(image)
    assert set(seen) == {3}  # the caller's choice wins


def _loops(graph_def):
    """(name, parallel_iterations) of every While op in a graph and its function library."""
    nodes = list(graph_def.node)
    for fn in graph_def.library.function:
        nodes += list(fn.node_def)
    return [(n.name, n.attr["parallel_iterations"].i) for n in nodes
            if n.op in ("While", "StatelessWhile")]


@pytest.mark.parametrize("use_crops", [False, True])
def test_every_loop_of_the_compiled_pipeline_runs_one_iteration_at_a_time(cnn, image,
                                                                          use_crops):
    # The budget sizes ONE decoy chunk / base-method batch / line-search grid point in
    # memory. TensorFlow's default (10 iterations in flight) overlaps iterations whose work
    # does not depend on the loop state — chunks, base-method batches, grid points — which
    # multiplied the memory ConvNeXtTiny needed past the budget (killed at 15 GB with a
    # 5.8 GB budget). Read from the traced graph: a loop left at the default fails here.
    ex = dance_tf.Explainer(cnn, value_range=(0.0, 1.0), decoy_batch_size=4,
                            use_crops=use_crops, patches_per_mask=4)
    plan = ex.plan(image.shape)
    assert plan.chunk < plan.n_items          # several chunks: the outer loop is exercised
    graph = plan.compiled[False].get_concrete_function().graph.as_graph_def()
    loops = _loops(graph)
    assert len(loops) >= 3                    # chunks, base batches, line search
    assert [name for name, par in loops if par != 1] == []


class _Hidden(keras.layers.Layer):
    """A custom layer whose output is small but whose inside is big (like attention
    scores inside a transformer block): an (N, 32, 32, 32) outer product, summed away."""

    def call(self, x):
        a = x[:, :32]
        outer = a[:, :, None, None] * a[:, None, :, None] * a[:, None, None, :]
        return keras.ops.sum(outer, axis=(2, 3))


def test_memory_inside_custom_layers_is_counted():
    # the layer outputs show (N, 32)-sized tensors only; the outer product inside holds
    # 32³ = 32,768 elements per input — the ViT case (layer outputs 2 MB per image, a
    # measured gradient 193 MB) in small
    from dance_tf import sizing

    model = keras.Sequential([keras.Input((64,)), _Hidden(), keras.layers.Dense(3)])
    shape = (64,)
    assert sizing.activation_elems(model, shape) < 200          # what layer outputs show
    assert sizing.graph_elems(model, shape) >= 32 ** 3
    assert sizing.held_elems(model, shape) >= sizing.GRAPH_SHARE * 32 ** 3
    assert sizing.per_map_bytes(model, shape) >= 4 * sizing.GRAPH_SHARE * 32 ** 3
    # a budget of 1 MB holds at most 1 MB / (64 KB per map) = 16 evaluations, not ~1000
    assert sizing.evals_per_batch(1.0, model, shape) <= 16
