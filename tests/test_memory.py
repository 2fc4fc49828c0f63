"""Memory behaviour of the engine (issue: autograd beyond the basics, item 8)."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

import retrograd as rg

N = 200_000  # 800 KB per float32 array


def _traced(fn):
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def test_saved_values_freed_after_backward_while_output_alive():
    x = rg.randn(N, requires_grad=True)
    holder = {}

    def build():
        h = (x * 2).sin()  # saved by the ops below, then dropped by us
        holder["out"] = ((h * h).exp() * h.cos()).sum()

    gc.collect()
    tracemalloc.start()
    build()
    before = tracemalloc.get_traced_memory()[0]
    holder["out"].backward()
    x.grad = None
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert holder["out"].requires_grad  # the output (and its graph) is still referenced
    # Several N-sized saved arrays were alive before backward and are gone after it.
    assert before - after > 3 * N * 4, (before, after)


def test_create_graph_then_clearing_grad_leaves_nothing():
    x = rg.randn(N, requires_grad=True)

    def step():
        ((x.sin() * x).exp()).sum().backward(create_graph=True)
        x.grad = None

    step()
    gc.collect()
    base = _traced(lambda: None)
    gc.collect()
    tracemalloc.start()
    step()
    gc.collect()
    leftover = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert leftover - base < N, leftover - base


def test_no_reference_cycles_per_node():
    x = rg.randn(50, requires_grad=True)
    w = rg.randn(50, requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            y = x
            for _ in range(200):
                y = (y * w).tanh() + x
            y.sum().backward()
            z = (x.exp() * w).sum()
            rg.autograd.grad(z, [x, w], create_graph=True)
            del y, z
        found = gc.collect()
    finally:
        gc.enable()
    assert found == 0, f"{found} objects were only reclaimable by the cycle collector"


def test_backward_frees_as_it_goes_in_deep_chain():
    x = rg.ones(1, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = (y * 1.0).exp().log()
    out = y.sum()
    del y
    out.backward()
    assert x.grad.item() == np.float32(1.0)
    node = out.grad_fn
    # Walk a little way down: every node's saved values have been released.
    from retrograd.autograd.graph import FREED

    freed = 0
    for _ in range(50):
        node = node.next_functions[0][0]
        if node.saved is FREED or node.saved == ():
            freed += 1
    assert freed == 50
