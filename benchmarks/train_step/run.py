"""One benchmark run: build the models, time them in interleaved rounds,
count, measure memory; returns plain data for :mod:`.report` (and the
``torch.utils.benchmark`` Measurements for its ``Compare`` table)."""
import contextlib
import logging
import os
from typing import Dict, Tuple

import torch
from torch.utils.benchmark import Measurement

from .measure import (component_times, count_host_syncs, count_ops,
                      count_params, timed_rounds)
from .memory import peak_memory
from .methods import BatchPool, build
from .stats import paired_ratios


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
        in ``benchmarks/bench_train_step.py``) and ``'measurements'``: the
        per-round :class:`~torch.utils.benchmark.Measurement` s (not in the
        JSON file).
    """
    with quiet_and_threads(args.threads if args.device == 'cpu' else 0):
        env = environment(args)
        methods, measurements = _measure(args)
    env['load_avg_end'] = os.getloadavg()
    return dict(environment=env, methods=methods, measurements=measurements)


def label(args) -> str:
    """The setting, as the title of the ``Compare`` table."""
    return (f'train step: {args.arch} (base {args.base_channels}), batch '
            f'{args.batch}, {args.img_size}x{args.img_size}, '
            f'{args.num_classes} classes, {args.device}'
            f"{' AMP' if args.amp else ''}")


def _ms(measurement) -> dict:
    """Median and interquartile range of a merged Measurement, in ms."""
    return dict(median=1e3 * measurement.median, iqr=1e3 * measurement.iqr)


def _measure(args) -> Tuple[Dict[str, dict], list]:
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
    primary, wall = timed_rounds(
        models, pool, device, args.rounds, args.steps, args.warmup,
        cpu_clock=primary_clock(args) == 'cpu', label=label(args))
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

    ratios = paired_ratios(
        {m: [x.times[0] for x in rounds] for m, rounds in primary.items()})
    results = {}
    for m in args.methods:
        (merged, ) = Measurement.merge(primary[m])
        results[m] = dict(
            time_ms=_ms(merged),
            wall_ms=_ms(Measurement.merge(wall[m])[0]) if wall else
            _ms(merged),
            ratios={o: list(s) for o, s in ratios[m].items()},
            steps=sum(x.number_per_run for x in primary[m]),
            rounds=len(primary[m]),
            mem_mb=memory.get(m, float('nan')),
            params_train=params[m][0],
            params_deploy=params[m][1],
            gflops=counts[m][0] / 1e9,
            aten_ops=counts[m][1],
            sections={k: 1e3 * v for k, v in sections.get(m, {}).items()},
            host_syncs=syncs.get(m))
    measurements = [x for d in (primary, wall) for rounds in d.values()
                    for x in rounds]
    return results, measurements
