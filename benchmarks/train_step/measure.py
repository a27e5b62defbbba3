"""What one benchmark run measures besides memory: step times in interleaved
rounds, parameter counts, operation counts, host syncs, component times."""
import math
import time
import warnings
from typing import Dict, List, Sequence, Tuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from .stats import round_order


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timed_step(model, wrapper, data, device) -> Tuple[float, float]:
    """``(wall, cpu)`` seconds of one ``train_step``: wall-clock time with
    the device synchronised around it, and the CPU time of this thread."""
    sync(device)
    start, cpu_start = time.perf_counter(), time.thread_time()
    model.train_step(data, wrapper)
    sync(device)
    return time.perf_counter() - start, time.thread_time() - cpu_start


def timed_rounds(models: dict, pool, device, rounds: int, steps: int,
                 warmup: int) -> Dict[str, List[Tuple[float, float, int]]]:
    """Warm-up steps of every method (not timed), then ``rounds`` rounds;
    in round ``r`` the methods run in :func:`~.stats.round_order` and each
    runs ``ceil(steps / rounds)`` steps.

    Returns:
        method -> ``(wall, cpu, round)`` of every timed step.
    """
    methods = list(models)
    for _ in range(warmup):
        for method in methods:
            model, wrapper = models[method]
            model.train_step(pool(), wrapper)
    times: Dict[str, List[Tuple[float, float, int]]] = {m: [] for m in models}
    per_round = max(1, math.ceil(steps / rounds))
    for r in range(rounds):
        for method in round_order(methods, r):
            model, wrapper = models[method]
            for _ in range(per_round):
                times[method].append(
                    timed_step(model, wrapper, pool(), device) + (r, ))
    return times


def count_params(model, img_size: int, device) -> Tuple[int, int]:
    """``(train, deploy)`` parameter counts; deploy = the parameters that
    the inference forward ``model(x, mode='tensor')`` reaches (found by
    back-propagating its output; RM's ``head.fc_roi`` is training-only)."""
    params = {id(p): p for p in model.parameters()}
    train = sum(p.numel() for p in params.values())
    model.zero_grad(set_to_none=True)
    x = torch.randn(2, 3, img_size, img_size, device=device)
    model.eval()
    out = model(x, mode='tensor')
    model.train()
    out = out[-1] if isinstance(out, (tuple, list)) else out
    out.float().sum().backward()
    deploy = sum(p.numel() for p in params.values() if p.grad is not None)
    model.zero_grad(set_to_none=True)
    return train, deploy


class _OpCounter(TorchDispatchMode):
    """Counts the ATen operators dispatched (forward, backward, optimizer)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def count_ops(model, wrapper, data) -> Tuple[int, int]:
    """``(flops, aten_ops)`` of one ``train_step``: floating-point operations
    of matmuls and convolutions (forward + backward, torch's
    ``FlopCounterMode``; element-wise ops, RoIAlign and resizing count 0)
    and the number of ATen operators run. Both are exact counts, the same
    on every run and machine."""
    with FlopCounterMode(display=False) as flops, _OpCounter() as ops:
        model.train_step(data, wrapper)
    return flops.get_total_flops(), ops.count


def count_host_syncs(model, wrapper, data, device) -> int:
    """CUDA: synchronising calls in one ``train_step`` (torch's sync debug
    mode ``warn`` warns once per synchronising call)."""
    sync(device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        torch.cuda.set_sync_debug_mode('warn')
        try:
            model.train_step(data, wrapper)
        finally:
            torch.cuda.set_sync_debug_mode('default')
    return sum('synchroniz' in str(w.message) for w in caught)


def component_times(models: dict, pool, device,
                    reps: int) -> Dict[str, Dict[str, float]]:
    """Seconds of the parts a regulariser changes, per method: the data
    preprocessor (normalisation + batch mixing) and the head (neck, loss and
    its backward on fixed backbone features). Methods are interleaved and
    each part's *minimum* over ``reps`` repetitions is kept (the least
    disturbed estimate of a ms-scale cost on a shared machine).

    Returns:
        ``{method: {'preprocess': s, 'head': s}}``.
    """
    feats = {}
    for method, (model, _) in models.items():
        data = model.data_preprocessor(pool(), True)
        with torch.no_grad():
            feats[method] = tuple(
                f.detach()
                for f in model.extract_feat(data['inputs'], stage='backbone'))
    best = {m: {'preprocess': math.inf, 'head': math.inf} for m in models}
    for _ in range(reps):
        for method, (model, _) in models.items():
            data = pool()
            sync(device)
            start = time.perf_counter()
            data = model.data_preprocessor(data, True)
            sync(device)
            mid = time.perf_counter()
            x: Sequence = tuple(
                f.clone().requires_grad_() for f in feats[method])
            sync(device)
            mid2 = time.perf_counter()
            if model.with_neck:
                x = model.neck(x)
            loss, _ = model.parse_losses(
                model.head.loss(x, data['data_samples']))
            loss.backward()
            sync(device)
            end = time.perf_counter()
            b = best[method]
            b['preprocess'] = min(b['preprocess'], mid - start)
            b['head'] = min(b['head'], end - mid2)
    return best
