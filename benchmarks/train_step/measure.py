"""What one benchmark run measures besides memory: step times in interleaved
rounds (``torch.utils.benchmark.Timer``), parameter counts, operation
counts, host syncs, component times."""
import dataclasses
import math
import time
import warnings
from typing import Dict, List, Sequence, Tuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.benchmark import Measurement, Timer
from torch.utils.flop_counter import FlopCounterMode

from . import NAMES
from .stats import round_order


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


class StepClock:
    """The clock a :class:`~torch.utils.benchmark.Timer` reads: it
    synchronises ``device``, then returns the CPU time of this thread
    (``cpu=True``) or the wall-clock time, and notes the wall-clock time so
    that each timed block also has its wall time (:meth:`last_wall`)."""

    def __init__(self, device: torch.device, cpu: bool):
        self.device, self.cpu = device, cpu
        self.walls: List[float] = []

    def __call__(self) -> float:
        sync(self.device)
        self.walls.append(time.perf_counter())
        return time.thread_time() if self.cpu else self.walls[-1]

    def last_wall(self) -> float:
        """Wall-clock seconds between the last two readings."""
        return self.walls[-1] - self.walls[-2]


def step_timer(model, wrapper, pool, clock: StepClock, per_round: int,
               label: str, method: str) -> Timer:
    """A Timer of ``model.train_step`` on fresh copies of the pool's
    batches, made in the Timer's setup (outside the timed block)."""
    return Timer(
        stmt='model.train_step(next(batches), wrapper)',
        # the Timer runs 2 untimed steps before each block: 2 more batches
        setup=f'batches = iter([pool() for _ in range({per_round + 2})])',
        globals=dict(model=model, wrapper=wrapper, pool=pool), timer=clock,
        label=label, sub_label=NAMES[method],
        description='CPU time' if clock.cpu else 'wall time',
        num_threads=torch.get_num_threads())


def timed_rounds(models: dict, pool, device, rounds: int, steps: int,
                 warmup: int, cpu_clock: bool, label: str
                 ) -> Tuple[Dict[str, List[Measurement]],
                            Dict[str, List[Measurement]]]:
    """Warm-up steps of every method (not timed), then ``rounds`` rounds;
    in round ``r`` the methods run in :func:`~.stats.round_order`, each one
    block of ``ceil(steps / rounds)`` steps timed by its
    :class:`~torch.utils.benchmark.Timer` (which first runs 2 untimed steps
    of that method: the switch from the previous method is not timed).

    Returns:
        ``(primary, wall)``: method -> one
        :class:`~torch.utils.benchmark.Measurement` per round (the mean step
        time of its block), on the primary clock and, for a CPU-time run, in
        wall-clock time (else ``wall`` is empty).
    """
    methods = list(models)
    for _ in range(warmup):
        for method in methods:
            model, wrapper = models[method]
            model.train_step(pool(), wrapper)
    per_round = max(1, math.ceil(steps / rounds))
    clock = StepClock(device, cpu_clock)
    timers = {m: step_timer(*models[m], pool, clock, per_round, label, m)
              for m in methods}
    primary: Dict[str, List[Measurement]] = {m: [] for m in methods}
    wall: Dict[str, List[Measurement]] = {m: [] for m in methods}
    for r in range(rounds):
        for method in round_order(methods, r):
            measured = timers[method].timeit(per_round)
            primary[method].append(measured)
            wall[method].append(Measurement(
                per_round, [clock.last_wall()], dataclasses.replace(
                    measured.task_spec, description='wall time')))
    return primary, wall if cpu_clock else {}


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
    disturbed estimate of a ms-scale cost on a shared machine). Own loop:
    the two parts of one repetition share its data, which two
    ``torch.utils.benchmark`` Timers could not.

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
