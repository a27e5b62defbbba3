"""Baseline vs CutMix vs RecursiveMix on real Fashion-MNIST, several seeds.

Every run is one of the fmnist configs (``configs/pretrain/fashion_mnist/``)
trained by mmengine's Runner with the same budget; only the seed, the work
dir, the number of training images and the epochs are overridden:

    work_dirs/compare_fmnist/<method>_seed<k>/

Accuracy is top-1 on the full 10,000-image Fashion-MNIST test set, evaluated
after every epoch (the learning curve). A finished run leaves ``result.json``
in its work dir and is not trained again, so an interrupted comparison can
be rerun; ``--report-only`` only collects the finished runs.

Outputs: ``docs/figures/compare_fmnist.png`` (test top-1 per epoch, mean and
range over seeds), ``docs/figures/compare_fmnist.md`` (the table), and the
same table between the ``compare_fmnist`` markers of ``docs/analysis.md``.

    python benchmarks/compare_fmnist.py                       # defaults below
    python benchmarks/compare_fmnist.py --train-size 60000 --epochs 30
"""
import argparse
import json
import os
import os.path as osp
import time
from typing import Dict, List

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

CONFIGS = {
    m: osp.join(ROOT, 'configs', 'pretrain', 'fashion_mnist',
                'resnet18-w16_1xb128-3e{}_fmnist-64px.py'.format(
                    '' if m == 'baseline' else '-' + m))
    for m in ('baseline', 'mixup', 'cutmix', 'rm')
}
NAMES = {
    'baseline': 'baseline',
    'mixup': 'Mixup',
    'cutmix': 'CutMix',
    'rm': 'RM'
}
BEGIN, END = '<!-- compare_fmnist:begin -->', '<!-- compare_fmnist:end -->'


def build_config(method: str, seed: int, work_dir: str, train_size: int,
                 epochs: int, num_workers: int):
    """The method's fmnist config with the comparison's overrides.

    The schedule keeps the config's shape for any ``epochs``: one linear
    warm-up epoch, then cosine annealing to the end.
    """
    from mmengine.config import Config
    if epochs < 2:
        raise ValueError('the comparison needs at least 2 epochs '
                         '(1 warm-up epoch + cosine)')
    cfg = Config.fromfile(CONFIGS[method])
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.train_dataloader.dataset.indices = train_size
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        loader.num_workers = num_workers
        loader.persistent_workers = False
    cfg.train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=1)
    cfg.param_scheduler = [
        dict(type='LinearLR',
             start_factor=0.1,
             by_epoch=True,
             begin=0,
             end=1,
             convert_to_iter_based=True),
        dict(type='CosineAnnealingLR',
             by_epoch=True,
             begin=1,
             end=epochs,
             T_max=epochs - 1),
    ]
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=50)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        interval=epochs,
                                        max_keep_ckpts=1)
    return cfg


def read_curve(work_dir: str) -> Dict[str, list]:
    """Test top-1 per epoch, from the run's logs (mmrm.report's reader).

    Returns:
        ``{'epoch': [...], 'top1': [...]}``.
    """
    from mmrm.report import read_run_evaluations, read_scalars
    if not read_scalars(work_dir):
        raise FileNotFoundError(f'no scalars.json under {work_dir}')
    evals = [e for e in read_run_evaluations(work_dir)
             if 'accuracy/top1' in e.metrics]
    if not evals:
        raise KeyError(f'accuracy/top1 never logged under {work_dir}')
    return {'epoch': [e.step for e in evals],
            'top1': [e.metrics['accuracy/top1'] for e in evals]}


def train_one(method: str, seed: int, args) -> dict:
    """Train one run (unless its result.json exists) and return its result."""
    work_dir = osp.join(args.work_root, f'{method}_seed{seed}')
    result_file = osp.join(work_dir, 'result.json')
    if osp.isfile(result_file):
        with open(result_file) as f:
            done = json.load(f)
        if (done['train_size'], done['epochs']) != (args.train_size,
                                                    args.epochs):
            raise ValueError(
                f"{result_file} was trained with {done['train_size']} images "
                f"x {done['epochs']} epochs, not {args.train_size} x "
                f'{args.epochs}: use another --work-root')
        return done
    import torch

    from mmrm import apis
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = build_config(method, seed, work_dir, args.train_size, args.epochs,
                       args.num_workers)
    start, cpu_start = time.time(), time.process_time()
    apis.train(cfg)  # the entry point of tools/train.py, preflight included
    seconds, cpu_seconds = time.time() - start, time.process_time() - cpu_start
    curve = read_curve(work_dir)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    result = dict(method=method,
                  seed=seed,
                  top1=curve['top1'][-1],
                  curve=curve,
                  seconds=seconds,
                  cpu_seconds=cpu_seconds,
                  checkpoint=checkpoint,
                  config=CONFIGS[method],
                  train_size=args.train_size,
                  epochs=args.epochs)
    with open(result_file, 'w') as f:
        json.dump(result, f, indent=1)
    return result


def collect(args) -> List[dict]:
    """Results of all finished runs of the requested methods and seeds."""
    out = []
    for method in args.methods:
        for seed in args.seeds:
            path = osp.join(args.work_root, f'{method}_seed{seed}',
                            'result.json')
            if osp.isfile(path):
                with open(path) as f:
                    out.append(json.load(f))
    return out


def results_table(results: List[dict]) -> str:
    """Markdown: method, runs, top-1 mean ± std, per-seed values, minutes."""
    from mmrm.utils.markdown import markdown_table, mean_std
    by_method: Dict[str, List[dict]] = {}
    for r in results:
        by_method.setdefault(r['method'], []).append(r)
    baseline = None
    if 'baseline' in by_method:
        baseline = mean_std([r['top1'] for r in by_method['baseline']])[0]
    rows = []
    for method, runs in by_method.items():
        runs = sorted(runs, key=lambda r: r['seed'])
        mean, std = mean_std([r['top1'] for r in runs])
        delta = f'{mean - baseline:+.2f}' if baseline is not None else '—'
        rows.append([
            NAMES.get(method, method),
            len(runs), f'{mean:.2f} ± {std:.2f}', delta,
            ', '.join(f"{r['top1']:.2f}" for r in runs),
            f"{sum(r['seconds'] for r in runs) / len(runs) / 60:.1f}"
        ])
    return markdown_table([
        'method', 'seeds', 'test top-1 % (mean ± std)', 'vs baseline',
        'per seed', 'wall min / run'
    ], rows)


def plot_curves(results: List[dict], out_file: str) -> None:
    """Test top-1 per epoch: mean over seeds (line) and min-max (band)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    by_method: Dict[str, List[dict]] = {}
    for r in results:
        by_method.setdefault(r['method'], []).append(r)
    for method, runs in by_method.items():
        length = min(len(r['curve']['top1']) for r in runs)
        values = np.array([r['curve']['top1'][:length] for r in runs])
        epochs = runs[0]['curve']['epoch'][:length]
        line, = ax.plot(
            epochs,
            values.mean(0),
            marker='o',
            markersize=3,
            label=f'{NAMES.get(method, method)} ({len(runs)} seeds)')
        ax.fill_between(epochs,
                        values.min(0),
                        values.max(0),
                        alpha=0.2,
                        color=line.get_color())
    ax.set_xticks(sorted({e for r in results for e in r['curve']['epoch']}))
    ax.set_xlabel('epoch')
    ax.set_ylabel('Fashion-MNIST test top-1 (%)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file, dpi=120)
    plt.close(fig)


def replace_between_markers(text: str, body: str) -> str:
    """Put ``body`` between the compare_fmnist markers of ``text`` (appended
    with the markers when they are missing)."""
    block = f'{BEGIN}\n{body}\n{END}'
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        return head + block + rest.split(END, 1)[1]
    return text.rstrip('\n') + '\n\n' + block + '\n'


def budget_line(args, results: List[dict]) -> str:
    wall = sum(r['seconds'] for r in results) / 60
    cpu = [r['cpu_seconds'] for r in results if 'cpu_seconds' in r]
    cpu_text = (f', {sum(cpu) / 60:.1f} min of CPU time'
                if len(cpu) == len(results) else '')
    return (
        f'Budget per run: {args.train_size} training images (the first '
        f'{args.train_size} of the 60,000), {args.epochs} epochs, batch 128, '
        f'ResNet-18 with 16 base channels at 64x64; test top-1 on all 10,000 '
        f'test images after the last epoch. {len(results)} runs: '
        f'{wall:.1f} min wall-clock in total{cpu_text}.')


def write_outputs(args, results: List[dict]) -> str:
    table = results_table(results)
    body = budget_line(args, results) + '\n\n' + table
    plot_curves(results, osp.join(args.out_dir, 'compare_fmnist.png'))
    with open(osp.join(args.out_dir, 'compare_fmnist.md'), 'w') as f:
        f.write(body + '\n')
    if args.doc:
        text = open(args.doc).read() if osp.isfile(args.doc) else ''
        with open(args.doc, 'w') as f:
            f.write(replace_between_markers(text, body))
    return body


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--methods',
                        nargs='+',
                        default=['baseline', 'cutmix', 'rm'],
                        choices=sorted(CONFIGS))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--train-size',
                        type=int,
                        default=4000,
                        help='first N training images (of 60,000)')
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument('--threads',
                        type=int,
                        default=0,
                        help='torch CPU threads (0: torch default)')
    parser.add_argument('--work-root',
                        default=osp.join(ROOT, 'work_dirs', 'compare_fmnist'))
    parser.add_argument('--out-dir', default=osp.join(ROOT, 'docs', 'figures'))
    parser.add_argument('--doc',
                        default=osp.join(ROOT, 'docs', 'analysis.md'),
                        help="markdown file to update ('' to skip)")
    parser.add_argument('--report-only',
                        action='store_true',
                        help='do not train; collect the finished runs')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not args.report_only:
        # seeds outermost: an interrupted comparison stays balanced
        for seed in args.seeds:
            for method in args.methods:
                r = train_one(method, seed, args)
                print(
                    f"[compare_fmnist] {method} seed {seed}: top-1 "
                    f"{r['top1']:.2f} ({r['seconds'] / 60:.1f} min)",
                    flush=True)
    results = collect(args)
    if not results:
        raise SystemExit(f'no finished runs under {args.work_root}')
    print(write_outputs(args, results))


if __name__ == '__main__':
    main()
