"""What a benchmark run prints (``torch.utils.benchmark.Compare``'s table of
step times, then markdown tables of the ratios, counts and memory) and its
JSON file."""
import json
import math
import os
import os.path as osp
from typing import Dict

from torch.utils.benchmark import Compare

from . import NAMES
from .stats import fmt_spread

CLOCKS = {'cpu': 'CPU time of the (single) torch thread',
          'wall': 'wall-clock time'}


def _ratio(a: float, b: float, digits: int = 3) -> str:
    r = a / b if b and math.isfinite(b) and b > 0 else math.nan
    return f'{r:.{digits}f}' if math.isfinite(r) else 'n/a'


def header(result: dict, args) -> str:
    """One line: the setting, the clock, the machine's load."""
    env = result['environment']
    steps = next(iter(result['methods'].values()))['steps']
    load = ', '.join(f'{x:.2f}' for x in env['load_avg_start'])
    load_end = ', '.join(f'{x:.2f}' for x in env['load_avg_end'])
    threads = (args.threads or 'default') if args.device == 'cpu' else '-'
    memory = ('torch.cuda.max_memory_allocated'
              if args.device.startswith('cuda') else
              'torch.profiler CPU tensor allocations (peak live bytes)')
    return (f'# train step: {args.arch} (base {args.base_channels}), batch '
            f'{args.batch}, {args.img_size}x{args.img_size}, '
            f'{args.num_classes} classes, device {args.device}'
            f"{' (AMP)' if args.amp else ''}, torch threads {threads}; "
            f'{steps} timed steps/method in {args.rounds} interleaved rounds, '
            f'{args.warmup} warm-up; time: {CLOCKS[env["clock"]]}; memory: '
            f'{memory}; load average (1, 5, 15 min) {load} at start, '
            f'{load_end} at end')


def compare_table(result: dict) -> str:
    """``Compare``'s table of the step times: median over the rounds (each
    round's value is the mean step time of its block), per method and
    clock, ``(! XX%)`` where the IQR exceeds 10 % of the median."""
    compare = Compare(result['measurements'])
    compare.highlight_warnings()
    return str(compare).rstrip()


def format_tables(result: dict, args) -> str:
    """The ``Compare`` table of the step times, then the ratio table (with
    their spread), counts and memory, then the optional host-sync and
    component tables."""
    res: Dict[str, dict] = result['methods']
    rounds = next(iter(res.values()))['rounds']
    nan = [math.nan] * 3
    lines = ['```', compare_table(result), '```', '',
             '| method | time / baseline* | time / CutMix* |', '|---|---|---|']
    for m, r in res.items():
        lines.append(
            f"| {NAMES[m]} | {fmt_spread(r['ratios'].get('baseline', nan))} "
            f"| {fmt_spread(r['ratios'].get('cutmix', nan))} |")
    lines += [
        '', f'\\* median [Q1, Q3] over the {rounds} rounds of the per-round '
        'ratio of mean step times (methods back to back within a round, '
        'order alternating between rounds).', ''
    ]
    base = res.get('baseline', {})
    cut = res.get('cutmix', {})
    lines += [
        '| method | GFLOPs / step | FLOPs / baseline | ATen ops / step | '
        'ops / baseline | peak memory (MB) | memory / baseline | '
        'memory / CutMix | #P train (M) | #P deploy (M) |',
        '|' + '---|' * 10
    ]
    for m, r in res.items():
        lines.append(
            f"| {NAMES[m]} | {r['gflops']:.4f} | "
            f"{_ratio(r['gflops'], base.get('gflops'), 4)} | {r['aten_ops']} | "
            f"{_ratio(r['aten_ops'], base.get('aten_ops'))} | "
            f"{r['mem_mb']:.2f} | {_ratio(r['mem_mb'], base.get('mem_mb'))} | "
            f"{_ratio(r['mem_mb'], cut.get('mem_mb'))} | "
            f"{r['params_train'] / 1e6:.4f} | "
            f"{r['params_deploy'] / 1e6:.4f} |")
    if any(r.get('host_syncs') is not None for r in res.values()):
        lines += ['', '| method | host syncs per step |', '|---|---|']
        lines += [f"| {NAMES[m]} | {r['host_syncs']} |"
                  for m, r in res.items()]
    if any(r['sections'] for r in res.values()):
        lines += _sections_table(res)
    return '\n'.join(lines)


def _sections_table(res: Dict[str, dict]) -> list:
    cut = res.get('cutmix')
    cut_s = cut['sections'] if cut else {}
    lines = ['', '| method | preprocess (ms, min) | head loss+backward '
             '(ms, min) | both − CutMix (ms) | both − CutMix / CutMix step |',
             '|---|---|---|---|---|']
    for m, r in res.items():
        s = r['sections']
        extra = s['preprocess'] + s['head'] - (
            cut_s['preprocess'] + cut_s['head'] if cut_s else math.nan)
        lines.append(
            f"| {NAMES[m]} | {s['preprocess']:.3f} | {s['head']:.3f} | "
            f"{extra:+.3f} | "
            f"{_ratio(extra, cut['time_ms']['median'] if cut else math.nan)} |")
    return lines


def write_json(result: dict, args, path: str) -> None:
    """``{'args': {...}, 'environment': {...}, 'methods': {...}}``."""
    out = dict(args=vars(args), environment=result['environment'],
               methods=result['methods'])
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(out, f, indent=1, allow_nan=True)
        f.write('\n')
