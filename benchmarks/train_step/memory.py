"""Peak memory of building a method's model and running a few steps.

CUDA: ``torch.cuda.max_memory_allocated`` minus the allocation before the
model was built. CPU: the same quantity from ``torch.profiler`` memory
events (``profile_memory=True``): the running sum of every CPU tensor
allocation and free from before the model is built to the end of the last
step, whose maximum is the peak tensor memory (weights, gradients, optimizer
state, activations, RM history). Python objects and library code are not
tensors and are not counted (as on a GPU).
"""
import gc
import os

import torch

from .measure import sync
from .methods import build


def cpu_peak_tensor_bytes(fn) -> int:
    """Peak of the running sum of CPU tensor allocations made by ``fn()``.

    Reads the allocations (size > 0) and frees (size < 0) that
    ``torch.profiler`` records, in time order; frees of tensors that existed
    before ``fn`` count as negative, so the peak is relative to the memory
    live before the call. The profiler library's own log lines (on a
    machine without a GPU: ``gpuGetDeviceCount failed``) are silenced via
    ``KINETO_LOG_LEVEL`` unless the environment sets it.
    """
    os.environ.setdefault('KINETO_LOG_LEVEL', '6')
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile
    gc.collect()
    with profile(activities=[ProfilerActivity.CPU],
                 profile_memory=True) as prof:
        fn()
    events, stack = [], list(
        prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        node = stack.pop()
        if node.tag == _EventType.Allocation and \
                node.extra_fields.device.type == 'cpu':
            events.append((node.start_time_ns, node.extra_fields.alloc_size))
        stack.extend(node.children)
    if not events:
        raise RuntimeError(
            'torch.profiler recorded no CPU allocations; cannot '
            'measure CPU memory with this torch build')
    live = peak = 0
    for _, delta in sorted(events):
        live += delta
        peak = max(peak, live)
    return peak


def peak_memory(method: str, args, device, pool, backbone_state) -> int:
    """Peak bytes of building ``method`` and running ``args.memory_steps``
    training steps (each on a fresh copy of a batch, made within the
    measurement: nothing allocated before it is freed during it)."""

    def run():
        model, wrapper = build(method, args, device, backbone_state)
        for _ in range(args.memory_steps):
            model.train_step(pool(), wrapper)
        sync(device)
        del model, wrapper

    if device.type == 'cuda':
        gc.collect()
        torch.cuda.empty_cache()
        sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        run()
        return torch.cuda.max_memory_allocated(device) - base
    return cpu_peak_tensor_bytes(run)
