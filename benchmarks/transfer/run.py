"""Downstream transfer on two CPU cores: a small replica of paper Tables 7-9
that can tell pretrainings apart (docs/transfer.md).

    python -m benchmarks.transfer.run [--jobs 2]         # the whole benchmark
    python -m benchmarks.transfer.run --preset pilot     # pretraining budget
    python -m benchmarks.transfer.run --smoke            # tiny, every stage
    python -m benchmarks.transfer.run --report-only      # tables from cells

Stages (each through mmrm's entry points, so the preflight checks run):

1. data      scenes of Fashion-MNIST garments on photographs
             (:mod:`mmrm.datasets.fmnist_scenes`);
2. pretrain  baseline, CutMix and RM on Fashion-MNIST, one run per
             (method, pretraining seed), same budget
             (configs/pretrain/fashion_mnist/, ``mmrm.apis.train``);
3. convert   tools/model_converters/convert_checkpoint.py, strict;
4. finetune  ATSS, GFL, Mask R-CNN, HTC, PSPNet, UperNet (configs/transfer/)
             from each converted backbone and from random init, then
             ``mmrm.apis.test`` (stock COCO metric / mIoU).

The design pairs by seed: for each seed ``s`` of the preset, every method
is pretrained with seed ``s`` (same initial weights and data order) and
every init is fine-tuned with fine-tuning seed ``s`` (same head init, data
order and augmentation); random init takes fine-tuning seed ``s`` too. A
cell is (task, init, pretraining seed, fine-tuning seed).

Everything lands under ``--work-root``; a stage or cell that finished left a
``result.json`` and is skipped next time (a different preset there is an
error), so the benchmark can be spread over several sittings. Seed rows run
in order (the pretrainings of seed ``s+1`` beside the cells of seed ``s``),
so an interrupted run holds whole rows. The outputs go to ``--out-dir``
(benchmarks/transfer for the full run and the pilot, the work root for
``--smoke``).
"""
import argparse
import json
import os.path as osp
from benchmarks.transfer import pilot, records, report, stages
from benchmarks.transfer.pool import run_in_pool
from benchmarks.transfer.stages import METHODS, REPO, TASKS, log, seed_rows

CHEAP = ('atss', 'gfl', 'pspnet', 'upernet')  # a few CPU-minutes per cell
_SMOKE_ITERS = {'train_cfg.max_iters': 2, 'train_dataloader.batch_size': 2}
PRESETS = {
    # the committed results: docs/transfer.md says how the budget was chosen
    'full': dict(
        scenes=dict(train=1000, val=500, size=128, seed=0),
        methods=METHODS,
        pretrain=dict(train_size=10000, epochs=40, val_size=None),
        # seeds per task: five for the cheap tasks, three for Mask R-CNN
        # and HTC (a cell of HTC costs as much as five of ATSS)
        seeds={t: [0, 1, 2, 3, 4] if t in CHEAP else [0, 1, 2]
               for t in TASKS},
        # the fine-tuning spread with the pretraining held fixed
        replicates=[dict(init='baseline', pretrain_seed=0,
                         finetune_seeds=[100, 101], tasks=CHEAP)],
        finetune={}),
    # the pretraining budget: top-1 against epochs, three methods, one seed
    'pilot': dict(
        methods=METHODS,
        pretrain=dict(train_size=10000, val_size=None),
        epochs=[10, 20, 40],
        seeds=[0]),
    # the test suite's run: every stage, RM pretraining only, random and RM
    # cells of every task, a few iterations each (scores stay near the
    # prior: keep them all)
    'smoke': dict(
        scenes=dict(train=8, val=2, size=128, seed=0),
        methods=('rm', ),
        pretrain=dict(train_size=256, epochs=2, val_size=128),
        seeds={t: [0] for t in TASKS},
        finetune={
            'atss': dict(_SMOKE_ITERS, **{'model.test_cfg.score_thr': 0}),
            'gfl': dict(_SMOKE_ITERS, **{'model.test_cfg.score_thr': 0}),
            'mask_rcnn': dict(_SMOKE_ITERS,
                              **{'model.test_cfg.rcnn.score_thr': 0}),
            'htc': dict(_SMOKE_ITERS, **{'model.test_cfg.rcnn.score_thr': 0}),
            'pspnet': dict(_SMOKE_ITERS, **{'param_scheduler.0.end': 2}),
            'upernet': dict(_SMOKE_ITERS, **{'param_scheduler.0.end': 2}),
        }),
}


# ------------------------------------------------------------------- plan
def cells(p: dict) -> list:
    """``(task, init, pretraining seed, fine-tuning seed)`` of every cell,
    seed rows outermost (random init: no pretraining seed), then the
    replicates (more fine-tuning seeds of one pretraining)."""
    inits = ('random', ) + tuple(p['methods'])
    out = [(task, init, None if init == 'random' else s, s)
           for s in seed_rows(p) for task in p['seeds']
           if s in p['seeds'][task] for init in inits]
    for rep in p.get('replicates', ()):
        out += [(task, rep['init'], rep['pretrain_seed'], f)
                for f in rep['finetune_seeds'] for task in rep['tasks']]
    return out


def phases(p: dict, work_root: str, fmnist: str, data_root: str,
           tasks=None, seeds=None, recorded=frozenset()) -> list:
    """Lists of independent jobs ``(kind, args)``, run one list after the
    other: the pretrainings of seed row k beside the cells of row k-1; the
    replicates with the last row. ``tasks`` / ``seeds`` (None: all) keep
    the cells of those tasks and seed rows (a replicate's row is its
    pretraining seed) and the pretrainings they need: a sitting can finish
    the cheap tasks over several seeds before the expensive ones. Cells in
    ``recorded`` (the committed record) are not run again."""
    rows_all = seed_rows(p)

    def kept(c):
        row = c[3] if c[2] in (None, c[3]) else c[2]
        return ((tasks is None or c[0] in tasks)
                and (seeds is None or row in seeds))

    plan = [c for c in cells(p) if kept(c) and c not in recorded]
    rows = [[c for c in plan if c[3] == s and c[2] in (None, s)]
            for s in rows_all]
    rows[-1] += [c for c in plan if c[2] not in (None, c[3])]
    needed = {c[2] for c in plan if c[2] is not None}
    out = []
    for k in range(len(rows_all) + 1):
        jobs = []
        if k < len(rows_all) and rows_all[k] in needed:
            jobs += [('pretrain', (m, rows_all[k], p['pretrain'], work_root,
                                   fmnist)) for m in p['methods']]
        if k > 0:
            jobs += [('finetune', (*c, p, work_root, data_root))
                     for c in rows[k - 1]]
        if jobs:
            out.append(jobs)
    return out


# -------------------------------------------------------------- the driver
def _job(kind: str, args: tuple, threads: int):
    """One pretraining or one cell (in this process or a pool worker)."""
    if kind == 'pretrain':
        return stages.pretrain(*args, threads=threads)
    return stages.finetune(*args, threads=threads)


def run_all(jobs, n_jobs: int, threads: int, counter: list) -> list:
    """Run ``jobs`` (``(kind, args)``) ``n_jobs`` at a time (spawned worker
    processes when > 1, stopped with the driver: :mod:`.pool`); print a
    progress line as each finishes."""
    results = []

    def report_one(kind, result):
        results.append(result)
        counter[0] += 1
        log(f'{counter[0]}/{counter[1]} {describe(kind, result)}')

    if n_jobs <= 1:
        for kind, args in jobs:
            report_one(kind, _job(kind, args, threads))
        return results
    run_in_pool(_job, [(kind, args, threads) for kind, args in jobs], n_jobs,
                lambda call, result: report_one(call[0], result),
                name=lambda call: job_name(call[0], call[1]), log=log)
    return results


def job_name(kind: str, args: tuple) -> str:
    if kind == 'pretrain':
        return 'pretrain ' + stages.pretrain_name(*args[:3])
    return stages.cell_name(*args[:4])


def _minutes(r: dict) -> str:
    if r.get('skipped'):
        return 'done earlier, skipped'
    return (f'{r["seconds"] / 60:.1f} min wall, '
            f'{r["cpu_seconds"] / 60:.1f} min CPU')


def describe(kind: str, r: dict) -> str:
    if kind == 'pretrain':
        return (f'pretrain {r["method"]} seed {r["seed"]} '
                f'({r["preset"]["epochs"]} epochs): Fashion-MNIST test top-1 '
                f'{r["top1"]:.2f} ({_minutes(r)})')
    values = ', '.join(f'{k} {v:.2f}' for k, v in r['metrics'].items())
    return (f'{stages.cell_name(r["task"], r["init"], r["pretrain_seed"], r["finetune_seed"])}'
            f': {values} ({_minutes(r)})')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--preset', choices=sorted(PRESETS), default='full')
    parser.add_argument('--smoke', dest='preset', action='store_const',
                        const='smoke', help='= --preset smoke')
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
    parser.add_argument('--tasks', nargs='+', choices=sorted(stages.TASKS),
                        help='run only the cells of these tasks now (the '
                        'report covers the whole preset)')
    parser.add_argument('--seeds', nargs='+', type=int,
                        help='run only these seed rows now')
    parser.add_argument('--report-only', action='store_true',
                        help='no training: report the finished cells')
    args = parser.parse_args(argv)
    smoke = args.preset == 'smoke'
    args.work_root = osp.abspath(args.work_root or osp.join(
        REPO, 'work_dirs', 'transfer' + ('_smoke' if smoke else '')))
    args.out_dir = osp.abspath(args.out_dir or (
        args.work_root if smoke else osp.join(REPO, 'benchmarks',
                                              'transfer')))
    args.data_root = osp.abspath(args.data_root or (
        osp.join(args.work_root, 'fmnist_scenes') if smoke else
        osp.join(REPO, 'data', 'fmnist_scenes')))
    return args


def run_pilot(p: dict, args) -> dict:
    """The pretraining-budget pilot: every method at every epoch count."""
    jobs = [('pretrain', (m, s, dict(p['pretrain'], epochs=e),
                          args.work_root, args.fmnist_root))
            for e in p['epochs'] for s in p['seeds'] for m in p['methods']]
    if not args.report_only:
        run_all(jobs, args.jobs, args.threads, [0, len(jobs)])
    return pilot.write_pilot(args.work_root, args.out_dir, p)


def main(argv=None) -> dict:
    args = parse_args(argv)
    p = PRESETS[args.preset]
    if args.preset == 'pilot':
        return run_pilot(p, args)
    plan = cells(p)
    if not args.report_only:
        log(f'data: {p["scenes"]} -> {args.data_root}')
        stages.make_data(p, args.data_root, args.fmnist_root, args.work_root)
        recorded = {records.cell_key(c) for c in records.load(
            args.out_dir, args.preset, p)['cells']}
        if recorded:
            log(f'{len(recorded)} cells recorded in {args.out_dir}: not run '
                'again')
        todo = phases(p, args.work_root, args.fmnist_root, args.data_root,
                      args.tasks, args.seeds, recorded)
        counter = [0, sum(len(jobs) for jobs in todo)]
        for jobs in todo:
            run_all(jobs, args.jobs, args.threads, counter)
    jobs, threads = args.jobs, args.threads
    previous = osp.join(args.out_dir, 'run_info.json')
    if args.report_only and osp.isfile(previous):  # how the cells were run
        with open(previous) as f:
            old = json.load(f)
        jobs, threads = old.get('jobs', jobs), old.get('threads', threads)
    info = dict(preset=args.preset, jobs=jobs, threads=threads,
                budget=report.budget(p, args.preset))
    info = report.write_outputs(args.work_root, args.out_dir, p, plan, info)
    log(f'{info["cells_done"]}/{info["cells_planned"]} cells; outputs in '
        f'{args.out_dir}')
    return info


if __name__ == '__main__':
    main()
