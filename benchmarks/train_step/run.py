"""One benchmark run: build the models, time them in interleaved rounds,
count, measure memory; returns plain data for :mod:`.report`."""
import contextlib
import logging
import os
from typing import Dict

import torch

from .measure import (component_times, count_host_syncs, count_ops,
                      count_params, timed_rounds)
from .memory import peak_memory
from .methods import BatchPool, build
from .stats import paired_ratios, spread


def primary_clock(args) -> str:
    """``'cpu'`` (CPU time of the torch thread) for a 1-thread CPU run: all
    the work runs on this thread, so its CPU time is the step's cost, and
    other processes taking the cores do not count. Otherwise ``'wall'``."""
    return 'cpu' if args.device == 'cpu' and args.threads == 1 else 'wall'


@contextlib.contextmanager
def quiet_and_threads(threads: int):
    """Silence mmengine's INFO messages (the weight-init reports of four
    models) and set torch's CPU threads; both restored on exit."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level, num_threads = logger.level, torch.get_num_threads()
    logger.setLevel(logging.WARNING)
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        logger.setLevel(level)
        torch.set_num_threads(num_threads)


def environment(args) -> dict:
    """What the numbers depend on besides the options."""
    env = dict(torch=torch.__version__, clock=primary_clock(args),
               torch_threads=torch.get_num_threads(),
               cpu_count=os.cpu_count(), load_avg_start=os.getloadavg())
    if args.device.startswith('cuda'):
        env['gpu'] = torch.cuda.get_device_name(torch.device(args.device))
    return env


def run(args) -> Dict[str, dict]:
    """Measure every method of ``args.methods``.

    Returns:
        ``{'environment': {...}, 'methods': {method: {...}}}`` (keys listed
        in ``benchmarks/bench_train_step.py``).
    """
    with quiet_and_threads(args.threads if args.device == 'cpu' else 0):
        env = environment(args)
        methods = _measure(args)
    env['load_avg_end'] = os.getloadavg()
    return dict(environment=env, methods=methods)


def _measure(args) -> Dict[str, dict]:
    device = torch.device(args.device)
    pool = BatchPool(args, device)
    models, state = {}, None
    for method in args.methods:
        models[method] = build(method, args, device, state)
        if state is None:
            state = {k: v.clone() for k, v in
                     models[method][0].backbone.state_dict().items()}
    params = {m: count_params(models[m][0], args.img_size, device)
              for m in args.methods}
    times = timed_rounds(models, pool, device, args.rounds, args.steps,
                         args.warmup)
    counts = {m: count_ops(*models[m], pool()) for m in args.methods}
    syncs = {}
    if args.sync_debug and device.type == 'cuda':
        syncs = {m: count_host_syncs(*models[m], pool(), device)
                 for m in args.methods}
    sections = component_times(models, pool, device,
                               args.profile_reps) if args.profile else {}
    del models
    memory = {m: peak_memory(m, args, device, pool, state) / 2**20
              for m in args.methods} if args.memory_steps > 0 else {}

    clock = 1 if primary_clock(args) == 'cpu' else 0
    ratios = paired_ratios(
        {m: [(t[clock], t[2]) for t in steps] for m, steps in times.items()})
    results = {}
    for m in args.methods:
        results[m] = dict(
            time_ms=[1e3 * v for v in spread([t[clock] for t in times[m]])],
            wall_ms=[1e3 * v for v in spread([t[0] for t in times[m]])],
            ratios={o: list(s) for o, s in ratios[m].items()},
            steps=len(times[m]),
            rounds=len({t[2] for t in times[m]}),
            mem_mb=memory.get(m, float('nan')),
            params_train=params[m][0],
            params_deploy=params[m][1],
            gflops=counts[m][0] / 1e9,
            aten_ops=counts[m][1],
            sections={k: 1e3 * v for k, v in sections.get(m, {}).items()},
            host_syncs=syncs.get(m))
    return results
