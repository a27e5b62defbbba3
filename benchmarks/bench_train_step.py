"""Training-step time and peak memory: baseline, Mixup, CutMix, RM (Table 10).

One run builds the four classifiers with mmpretrain's registry (same backbone,
same initial weights, same batch) and times ``model.train_step`` (data
preprocessor with its batch mixing, forward, loss, backward, SGD update):

- time: warm-up steps per method first (not timed), then ``--rounds``
  interleaved rounds, each running ``--steps`` / ``--rounds`` steps of every
  method (method order rotated per round, so that no method always runs first
  or last); the reported time is the median over all timed steps, and the
  ratios (marked *) are paired by round: the median over rounds of the ratio
  of two methods' median step times within the round, which cancels the
  machine's slow and fast phases. On CUDA the device is synchronised before
  and after every step. On a 1-thread CPU run the clock is the CPU time of
  the torch thread (other processes sharing the cores do not count).
- peak memory: per method, a freshly built model runs ``--memory-steps``
  steps. CUDA: ``torch.cuda.max_memory_allocated`` minus the allocation
  before the model was built. CPU: the same quantity from
  ``torch.profiler`` memory events (``profile_memory=True``): the running sum
  of every CPU tensor allocation and free from before the model is built to
  the end of the last step, whose maximum is the peak tensor memory (weights,
  gradients, optimizer state, activations, RM history). Python objects and
  library code are not tensors and are not counted (as on a GPU).
- parameters: ``train`` = all parameters; ``deploy`` = those that take part
  in inference (``model(x, mode='tensor')``), found by back-propagating its
  output (RM's ``head.fc_roi`` is training-only).

The data batch is placed on the device before timing (the host-to-device
copy of the loader is the same for every method and is not measured).

    python benchmarks/bench_train_step.py            # CPU: ResNet-18 (16 base
                                                     # channels), 64x64, K=10
    python benchmarks/bench_train_step.py --device cuda --arch resnet50 \\
        --batch 64                                   # paper: 224x224, K=1000
"""
import argparse
import contextlib
import gc
import math
import os
import statistics
import time
from typing import Dict, List

import torch


METHODS = ('baseline', 'mixup', 'cutmix', 'rm')
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def resolve_defaults(args) -> argparse.Namespace:
    """Fill the size options that depend on ``--arch``: ResNet-50 gets the
    paper setting (224 px, 1000 classes, 64 base channels), the smaller
    ResNets the CPU setting (64 px, 10 classes, 16 base channels)."""
    paper = args.arch == 'resnet50'
    if args.img_size is None:
        args.img_size = 224 if paper else 64
    if args.num_classes is None:
        args.num_classes = 1000 if paper else 10
    if args.base_channels is None:
        args.base_channels = 64 if paper else 16
    return args


def model_config(method: str, arch: str, base_channels: int,
                 num_classes: int) -> dict:
    """mmpretrain ImageClassifier config of one method (same backbone)."""
    if method not in METHODS:
        raise ValueError(f'method must be one of {METHODS}, got {method!r}')
    depth = int(arch.replace('resnet', ''))
    expansion = 4 if depth >= 50 else 1
    in_channels = base_channels * 8 * expansion
    backbone = dict(type='ResNet',
                    depth=depth,
                    base_channels=base_channels,
                    stem_channels=base_channels,
                    out_indices=(3, ),
                    style='pytorch')
    pre = dict(type='ClsDataPreprocessor',
               num_classes=num_classes,
               mean=MEAN,
               std=STD,
               to_rgb=False)
    soft = dict(type='CrossEntropyLoss', loss_weight=1.0, use_soft=True)
    if method == 'rm':
        return dict(type='ImageClassifier',
                    backbone=backbone,
                    neck=None,
                    head=dict(type='RecursiveMixHead',
                              num_classes=num_classes,
                              in_channels=in_channels,
                              omega=0.5,
                              loss=soft),
                    data_preprocessor=dict(pre,
                                           type='RecursiveMixDataPreprocessor',
                                           alpha=0.5))
    cfg = dict(type='ImageClassifier',
               backbone=backbone,
               neck=dict(type='GlobalAveragePooling'),
               head=dict(type='LinearClsHead',
                         num_classes=num_classes,
                         in_channels=in_channels,
                         loss=soft if method != 'baseline' else dict(
                             type='CrossEntropyLoss', loss_weight=1.0)),
               data_preprocessor=pre)
    if method in ('mixup', 'cutmix'):
        cfg['train_cfg'] = dict(augments=dict(
            type='Mixup' if method == 'mixup' else 'CutMix', alpha=1.0))
    return cfg


def build(method: str, args, device: torch.device, backbone_state=None):
    """(model, optim_wrapper) of one method on ``device``."""
    import mmrm  # noqa: F401  registers the RM components
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(
        model_config(method, args.arch, args.base_channels, args.num_classes))
    model.init_weights()
    if backbone_state is not None:
        model.backbone.load_state_dict(backbone_state)
    model.to(device).train()
    optimizer = torch.optim.SGD(model.parameters(),
                                lr=0.01,
                                momentum=0.9,
                                weight_decay=1e-4)
    if args.amp:
        wrapper = AmpOptimWrapper(optimizer=optimizer, dtype='float16')
    else:
        wrapper = OptimWrapper(optimizer=optimizer)
    return model, wrapper


class BatchPool:
    """A few fixed uint8 batches (on the device) with their labels; every
    call returns a fresh copy, since the preprocessors write into the data
    samples."""

    def __init__(self, args, device, size: int = 4):
        g = torch.Generator().manual_seed(1)
        shape = (args.batch, 3, args.img_size, args.img_size)
        self.inputs = [
            torch.randint(0, 256, shape, generator=g,
                          dtype=torch.uint8).to(device) for _ in range(size)
        ]
        self.labels = [
            torch.randint(0, args.num_classes, (args.batch, ),
                          generator=g).tolist() for _ in range(size)
        ]
        self.count = 0

    def __call__(self) -> dict:
        from mmpretrain.structures import DataSample
        i = self.count % len(self.inputs)
        self.count += 1
        return {
            'inputs': self.inputs[i].clone(),
            'data_samples':
            [DataSample().set_gt_label(l) for l in self.labels[i]]
        }


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timed_step(model, wrapper, data, device) -> tuple:
    """``(wall, cpu)`` seconds of one ``train_step``: wall-clock time with
    the device synchronised around it, and the CPU time of this thread."""
    sync(device)
    start, cpu_start = time.perf_counter(), time.thread_time()
    model.train_step(data, wrapper)
    sync(device)
    return time.perf_counter() - start, time.thread_time() - cpu_start


def count_params(model, args, device) -> tuple:
    """(train, deploy) parameter counts; deploy = parameters reached by the
    inference forward ``model(x, mode='tensor')``."""
    params = {id(p): p for p in model.parameters()}
    train = sum(p.numel() for p in params.values())
    model.zero_grad(set_to_none=True)
    x = torch.randn(2, 3, args.img_size, args.img_size, device=device)
    model.eval()
    out = model(x, mode='tensor')
    model.train()
    (out[-1] if isinstance(out,
                           (tuple, list)) else out).float().sum().backward()
    deploy = sum(p.numel() for p in params.values() if p.grad is not None)
    model.zero_grad(set_to_none=True)
    return train, deploy


def cpu_peak_tensor_bytes(fn) -> int:
    """Peak of the running sum of CPU tensor allocations made by ``fn()``.

    Reads the allocation events (size > 0) and frees (size < 0) that
    ``torch.profiler`` records with ``profile_memory=True``, in time order.
    Frees of tensors that existed before ``fn`` count as negative, so the
    peak is relative to the memory live before the call.
    """
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
    """Peak bytes of building ``method`` and running ``--memory-steps``."""
    batches = [pool() for _ in range(args.memory_steps)]

    def run():
        model, wrapper = build(method, args, device, backbone_state)
        for data in batches:
            model.train_step(data, wrapper)
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


def component_times(models: dict, pool, device, reps: int) -> Dict[str, dict]:
    """Cost of the parts a regulariser changes, per method: the data
    preprocessor (normalisation + batch mixing) and the head (neck, loss and
    its backward on fixed backbone features). Methods are interleaved and
    each part's *minimum* over ``reps`` repetitions is kept: on a shared
    machine the minimum is the least disturbed estimate of a ms-scale cost.

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
            x = tuple(f.clone().requires_grad_() for f in feats[method])
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


def paired_ratios(times: Dict[str, List[tuple]],
                  clock: int) -> Dict[str, Dict[str, float]]:
    """Time ratios of every method to every other, paired by round.

    Methods run back to back within a round, so a slow phase of the machine
    hits all of them alike: the ratio of two methods' median step times in
    the same round cancels it, and the median over rounds is reported.

    Args:
        times: method -> list of ``(wall, cpu, round)`` per timed step.
        clock: 0 (wall) or 1 (cpu).

    Returns:
        ``{method: {other: median over rounds of median(method) /
        median(other)}}``.
    """
    per_round: Dict[str, Dict[int, float]] = {}
    for method, steps in times.items():
        rounds: Dict[int, List[float]] = {}
        for step in steps:
            rounds.setdefault(step[2], []).append(step[clock])
        per_round[method] = {
            r: statistics.median(v)
            for r, v in rounds.items()
        }
    out = {}
    for method in times:
        out[method] = {}
        for other in times:
            common = sorted(set(per_round[method]) & set(per_round[other]))
            out[method][other] = statistics.median(
                per_round[method][r] / per_round[other][r] for r in common
                if per_round[other][r] > 0) if common else float('nan')
    return out


def primary_clock(args) -> str:
    """``'cpu'`` (thread CPU time) for a 1-thread CPU run, else ``'wall'``."""
    return 'cpu' if args.device == 'cpu' and args.threads == 1 else 'wall'


def count_host_syncs(model, wrapper, data, device) -> int:
    """Synchronising CUDA calls in one ``train_step`` (CUDA sync debug mode
    ``warn``: torch warns once per synchronising call)."""
    import warnings
    sync(device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        torch.cuda.set_sync_debug_mode('warn')
        try:
            model.train_step(data, wrapper)
        finally:
            torch.cuda.set_sync_debug_mode('default')
    return sum('synchroniz' in str(w.message) for w in caught)


def fmt_ratio(value: float) -> str:
    return f'{value:.3f}' if math.isfinite(value) else 'n/a'


@contextlib.contextmanager
def quiet_and_threads(threads: int):
    """Silence mmengine's INFO messages (the weight-init reports of four
    models would drown the table) and set torch's CPU threads; both are
    restored on exit."""
    import logging

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


def run(args) -> Dict[str, dict]:
    """Measure every method; returns ``{method: {time_ms, mem_mb, ...}}``."""
    with quiet_and_threads(args.threads if args.device == 'cpu' else 0):
        return _run(args)


def _run(args) -> Dict[str, dict]:
    device = torch.device(args.device)
    pool = BatchPool(args, device)
    models = {}
    state = None
    for method in args.methods:
        models[method] = build(method, args, device, state)
        if state is None:
            state = {
                k: v.clone()
                for k, v in models[method][0].backbone.state_dict().items()
            }

    params = {
        m: count_params(models[m][0], args, device)
        for m in args.methods
    }

    for _ in range(args.warmup):
        for method in args.methods:
            model, wrapper = models[method]
            model.train_step(pool(), wrapper)
    times: Dict[str, List[tuple]] = {m: [] for m in args.methods}
    per_round = max(1, math.ceil(args.steps / args.rounds))
    for r in range(args.rounds):
        order = args.methods[r % len(args.methods):] + \
            args.methods[:r % len(args.methods)]
        for method in order:
            model, wrapper = models[method]
            for _ in range(per_round):
                times[method].append(
                    timed_step(model, wrapper, pool(), device) + (r, ))

    syncs = {}
    if args.sync_debug and device.type == 'cuda':
        for method in args.methods:
            syncs[method] = count_host_syncs(*models[method], pool(), device)

    sections = {}
    if args.profile:
        sections = component_times(models, pool, device, args.profile_reps)
    del models
    memory = {}
    if args.memory_steps > 0:
        for method in args.methods:
            memory[method] = peak_memory(method, args, device, pool, state)

    # one CPU thread: all the work runs on this thread, so its CPU time is
    # the step's cost, unaffected by other processes taking the cores
    clock = 1 if primary_clock(args) == 'cpu' else 0
    paired = paired_ratios(times, clock)
    results = {}
    for method in args.methods:
        results[method] = dict(
            ratios=paired[method],
            time_ms=1e3 * statistics.median(t[clock] for t in times[method]),
            wall_ms=1e3 * statistics.median(t[0] for t in times[method]),
            steps=len(times[method]),
            mem_mb=memory[method] /
            2**20 if method in memory else float('nan'),
            params_train=params[method][0],
            params_deploy=params[method][1],
            sections={
                k: 1e3 * v
                for k, v in sections.get(method, {}).items()
            },
            host_syncs=syncs.get(method))
    return results


def format_table(results: Dict[str, dict], args) -> str:
    """Markdown table with ratios to the baseline (and to CutMix)."""
    names = {
        'baseline': 'baseline',
        'mixup': 'Mixup',
        'cutmix': 'CutMix',
        'rm': 'RM'
    }
    base = results.get('baseline')
    cut = results.get('cutmix')
    nan = float('nan')

    def ratio(a, b):
        return a / b if b and math.isfinite(b) and b > 0 else nan

    base_mem = base['mem_mb'] if base else nan
    cut_mem = cut['mem_mb'] if cut else nan
    clock = ('CPU time' if primary_clock(args) == 'cpu' else 'wall time')
    header = (f'| method | step {clock} (ms, median) | time / baseline* | '
              'time / CutMix* | wall (ms, median) | peak memory (MB) | '
              'memory / baseline | memory / CutMix | #P train (M) | '
              '#P deploy (M) |')
    lines = [header, '|' + '---|' * 10]
    for method, r in results.items():
        lines.append(
            f"| {names.get(method, method)} | {r['time_ms']:.2f} | "
            f"{fmt_ratio(r['ratios'].get('baseline', nan))} | "
            f"{fmt_ratio(r['ratios'].get('cutmix', nan))} | "
            f"{r['wall_ms']:.2f} | {r['mem_mb']:.2f} | "
            f"{fmt_ratio(ratio(r['mem_mb'], base_mem))} | "
            f"{fmt_ratio(ratio(r['mem_mb'], cut_mem))} | "
            f"{r['params_train'] / 1e6:.4f} | {r['params_deploy'] / 1e6:.4f} |"
        )
    if any(r.get('host_syncs') is not None for r in results.values()):
        lines += ['', '| method | host syncs per step |', '|---|---|']
        lines += [
            f"| {names.get(m, m)} | {r['host_syncs']} |"
            for m, r in results.items()
        ]
    if any(r['sections'] for r in results.values()):
        lines += [
            '', '| method | preprocess (ms, min) | head loss+backward '
            '(ms, min) | both − CutMix (ms) | '
            'both − CutMix / CutMix step |',
            '|---|---|---|---|---|'
        ]
        cut_s = cut['sections'] if cut else {}
        for method, r in results.items():
            s = r['sections']
            both = s['preprocess'] + s['head']
            extra = (both - cut_s['preprocess'] -
                     cut_s['head'] if cut_s else nan)
            lines.append(
                f"| {names.get(method, method)} | "
                f"{s['preprocess']:.3f} | {s['head']:.3f} | "
                f"{extra:+.3f} | "
                f"{fmt_ratio(ratio(extra, cut['time_ms']) if cut else nan)} |")
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Training-step time and peak memory of baseline, Mixup, '
        'CutMix and RecursiveMix (paper Table 10).')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--arch',
                        default='resnet18',
                        choices=['resnet18', 'resnet34', 'resnet50'])
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--img-size', type=int, default=None)
    parser.add_argument('--num-classes', type=int, default=None)
    parser.add_argument('--base-channels', type=int, default=None)
    parser.add_argument('--methods',
                        nargs='+',
                        default=list(METHODS),
                        choices=METHODS)
    parser.add_argument('--steps',
                        type=int,
                        default=40,
                        help='timed steps per method (split over the rounds)')
    parser.add_argument('--rounds', type=int, default=8)
    parser.add_argument('--warmup',
                        type=int,
                        default=3,
                        help='untimed steps per method before timing')
    parser.add_argument('--memory-steps',
                        type=int,
                        default=3,
                        help='steps of the peak-memory run (0: skip)')
    parser.add_argument('--threads',
                        type=int,
                        default=1,
                        help='torch CPU threads (0: leave torch default)')
    parser.add_argument('--amp',
                        action='store_true',
                        help='float16 autocast (AmpOptimWrapper), CUDA only')
    parser.add_argument('--profile',
                        action='store_true',
                        help='also time the data preprocessor and the head '
                        '(loss + backward) of each method alone')
    parser.add_argument('--profile-reps',
                        type=int,
                        default=200,
                        help='interleaved repetitions of --profile (min kept)')
    parser.add_argument('--sync-debug',
                        action='store_true',
                        help='CUDA: count the host synchronisations of one '
                        'step per method (torch sync debug mode)')
    args = resolve_defaults(parser.parse_args(argv))
    if args.amp and args.device == 'cpu':
        parser.error('--amp needs --device cuda')
    return args


def main(argv=None):
    args = parse_args(argv)
    results = run(args)
    clock = {
        'cpu': 'CPU time of the (single) torch thread',
        'wall': 'wall-clock time'
    }[primary_clock(args)]
    print(f'# train step: {args.arch} (base {args.base_channels}), batch '
          f'{args.batch}, {args.img_size}x{args.img_size}, '
          f'{args.num_classes} classes, device {args.device}'
          f"{' (AMP)' if args.amp else ''}, torch threads "
          f'{(args.threads or "default") if args.device == "cpu" else "-"}; '
          f'{results[args.methods[0]]["steps"]} timed steps/method in '
          f'{args.rounds} interleaved rounds, {args.warmup} warm-up; time: '
          f'{clock}; memory: ' +
          ('torch.cuda.max_memory_allocated' if args.device.startswith('cuda')
           else 'torch.profiler CPU tensor allocations (peak live bytes)'))
    print(format_table(results, args))
    return results


if __name__ == '__main__':
    main()
