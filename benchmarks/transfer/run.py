"""Downstream transfer on two CPU cores: a small replica of paper Tables 7-9.

    python benchmarks/transfer/run.py [--jobs 2]     # the whole benchmark
    python benchmarks/transfer/run.py --smoke        # a few iterations, tiny data
    python benchmarks/transfer/run.py --report-only  # tables from finished cells

Stages (each through mmrm's entry points, so the preflight checks run):

1. data      scenes of Fashion-MNIST garments on photographs
             (tools/dataset_converters/make_fmnist_scenes.py);
2. pretrain  baseline, CutMix and RM on Fashion-MNIST, same budget
             (configs/pretrain/fashion_mnist/, ``mmrm.apis.train``);
3. convert   tools/model_converters/convert_checkpoint.py, strict;
4. finetune  ATSS, Mask R-CNN, UperNet (configs/transfer/) from each
             converted backbone and from random init, several seeds, then
             ``mmrm.apis.test`` (stock COCO metric / mIoU).

Everything lands under ``--work-root``; a stage or cell that finished left a
``result.json`` and is skipped next time (a different preset there is an
error), so the benchmark can be spread over several sittings. The outputs
(``results.json``, ``results.md``, ``results.png``, ``run_info.json``) go to
``--out-dir`` (benchmarks/transfer for the full run, the work root for
``--smoke``).
"""
import argparse
import importlib.util
import json
import os.path as osp
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

HERE = osp.dirname(osp.abspath(__file__))


def _load(name: str):
    """benchmarks/transfer/NAME.py as a module (run.py is also loaded by
    file path, from the tests, so the folder is not on sys.path)."""
    spec = importlib.util.spec_from_file_location(
        f'mmrm_transfer_{name}', osp.join(HERE, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stages = _load('stages')
REPO, METHODS, INITS = stages.REPO, stages.METHODS, stages.INITS
TASKS = stages.TASKS
log = stages.log

PRESETS = {
    # the committed results: see docs/transfer.md for the budget
    'full': dict(
        scenes=dict(train=1000, val=300, size=128, seed=0),
        methods=METHODS,
        pretrain=dict(train_size=10000, epochs=10, val_size=None),
        finetune={},
        seeds={'random': [0, 1], 'baseline': [0, 1, 2], 'cutmix': [0, 1],
               'rm': [0, 1, 2]}),
    # the test suite's run: every stage, RM pretraining only, the cells of
    # random init and RM, a few iterations each
    'smoke': dict(
        scenes=dict(train=8, val=2, size=128, seed=0),
        methods=('rm', ),
        pretrain=dict(train_size=256, epochs=2, val_size=128),
        finetune={  # (scores stay near the prior: keep them all)
            'atss': {'train_cfg.max_iters': 2, 'model.test_cfg.score_thr': 0,
                     'train_dataloader.batch_size': 2},
            'mask_rcnn': {'train_cfg.max_iters': 2,
                          'model.test_cfg.rcnn.score_thr': 0,
                          'train_dataloader.batch_size': 2},
            'upernet': {'train_cfg.max_iters': 2, 'param_scheduler.0.end': 2,
                        'train_dataloader.batch_size': 2},
        },
        seeds={'random': [0], 'rm': [0]}),
}


# -------------------------------------------------------------- the driver
def _job(kind: str, args: tuple, threads: int):
    """One pretraining or one cell (in this process or a pool worker)."""
    if kind == 'pretrain':
        return stages.pretrain(*args, threads=threads)
    return stages.finetune(*args, threads=threads)


def run_all(jobs, n_jobs: int, threads: int, describe) -> list:
    """Run ``jobs`` (``(kind, args)``) ``n_jobs`` at a time (spawned worker
    processes when > 1); print a progress line as each finishes."""
    results = []

    def report(i, result):
        results.append(result)
        log(f'{len(results)}/{len(jobs)} {describe(result)}')

    if n_jobs <= 1:
        for i, (kind, args) in enumerate(jobs):
            report(i, _job(kind, args, threads))
        return results
    with ProcessPoolExecutor(n_jobs, mp_context=get_context('spawn')) as pool:
        futures = [pool.submit(_job, kind, args, threads)
                   for kind, args in jobs]
        for future in as_completed(futures):
            report(futures.index(future), future.result())
    return results


def _minutes(r: dict) -> str:
    if r.get('skipped'):
        return 'done earlier, skipped'
    return (f'{r["seconds"] / 60:.1f} min wall, '
            f'{r["cpu_seconds"] / 60:.1f} min CPU')


def describe_pretrain(r):
    return (f'pretrain {r["method"]}: Fashion-MNIST test top-1 '
            f'{r["top1"]:.2f} ({_minutes(r)})')


def describe_cell(r):
    values = ', '.join(f'{k} {v:.2f}' for k, v in r['metrics'].items())
    return (f'{r["task"]} {r["init"]} seed {r["seed"]}: {values} '
            f'({_minutes(r)})')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--smoke', action='store_true',
                        help='tiny data, a few iterations per cell')
    parser.add_argument('--work-root', help='default: work_dirs/transfer '
                        '(work_dirs/transfer_smoke with --smoke)')
    parser.add_argument('--out-dir', help='default: benchmarks/transfer '
                        '(the work root with --smoke)')
    parser.add_argument('--data-root', help='the scenes; default: '
                        'data/fmnist_scenes (WORK_ROOT/fmnist_scenes with '
                        '--smoke)')
    parser.add_argument('--fmnist-root',
                        default=osp.join(REPO, 'data', 'fashion_mnist'))
    parser.add_argument('--jobs', type=int, default=1,
                        help='pretrainings / cells run at once')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch CPU threads per job (0: torch default)')
    parser.add_argument('--stages', default='data,pretrain,finetune',
                        help='comma-separated stages to run (default: all)')
    parser.add_argument('--report-only', action='store_true',
                        help='no training: report the finished cells')
    args = parser.parse_args(argv)
    name = 'smoke' if args.smoke else 'full'
    args.preset = name
    args.work_root = osp.abspath(args.work_root or osp.join(
        REPO, 'work_dirs', 'transfer' + ('_smoke' if args.smoke else '')))
    args.out_dir = osp.abspath(args.out_dir or (
        args.work_root if args.smoke else HERE))
    args.data_root = osp.abspath(args.data_root or (
        osp.join(args.work_root, 'fmnist_scenes') if args.smoke else
        osp.join(REPO, 'data', 'fmnist_scenes')))
    return args


def cells(p: dict) -> list:
    """``(task, init, seed)`` of every cell; seeds outermost, so that an
    interrupted benchmark has all inits of its first seeds."""
    seeds = p['seeds']
    top = max(len(s) for s in seeds.values())
    return [(task, init, seeds[init][k]) for k in range(top)
            for task in TASKS for init in INITS
            if k < len(seeds.get(init, []))]


def budget(p: dict, args) -> str:
    """One sentence: the data, pretraining and fine-tuning budget."""
    q, d = p['pretrain'], p['scenes']
    seeds = ', '.join(f'{k} {len(v)}' for k, v in p['seeds'].items())
    return (f'Preset `{args.preset}`: {d["train"]} training / {d["val"]} '
            f'validation scenes of {d["size"]}x{d["size"]} px (seed '
            f'{d["seed"]}); pretraining on the first {q["train_size"]} '
            f'Fashion-MNIST training images for {q["epochs"]} epochs (seed 0, '
            'one run per method), top-1 on '
            f'{q["val_size"] or 10000} test images; fine-tuning with the '
            'schedules of configs/transfer/'
            + (f' shortened to {p["finetune"]}' if p['finetune'] else '')
            + f'; fine-tuning seeds per init: {seeds}.')


def main(argv=None) -> dict:
    report = stages.load_script('benchmarks/transfer/report.py')
    args = parse_args(argv)
    p = PRESETS[args.preset]
    plan = cells(p)
    todo = [] if args.report_only else args.stages.split(',')
    if 'data' in todo:
        log(f'data: {p["scenes"]} -> {args.data_root}')
        stages.make_data(p, args.data_root, args.fmnist_root, args.work_root)
    if 'pretrain' in todo:
        jobs = [('pretrain', (m, p, args.work_root, args.fmnist_root))
                for m in p['methods']]
        run_all(jobs, args.jobs, args.threads, describe_pretrain)
    if 'finetune' in todo:
        jobs = [('finetune', (t, i, s, p, args.work_root, args.data_root))
                for t, i, s in plan]
        run_all(jobs, args.jobs, args.threads, describe_cell)
    jobs, threads = args.jobs, args.threads
    previous = osp.join(args.out_dir, 'run_info.json')
    if args.report_only and osp.isfile(previous):  # how the cells were run
        with open(previous) as f:
            old = json.load(f)
        jobs, threads = old.get('jobs', jobs), old.get('threads', threads)
    info = dict(preset=args.preset, jobs=jobs, threads=threads,
                budget=budget(p, args),
                chart_title=f'Fashion-MNIST scenes, preset {args.preset}: '
                'mean over fine-tuning seeds (dots), whiskers = std')
    info = report.write_outputs(args.work_root, args.out_dir, plan, TASKS,
                                INITS, info)
    log(f'{info["cells_done"]}/{info["cells_planned"]} cells; outputs in '
        f'{args.out_dir}')
    return info


if __name__ == '__main__':
    main()
