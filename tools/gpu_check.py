"""One command for a GPU machine after set-up (``tools/gpu_check.sh``):
does mmrm run there? Prints one table and writes
``<out>/gpu_check.json`` (default ``work_dirs/gpu_check``).

Steps (``--steps`` picks some):

- ``ops``: mmcv's compiled ops (``nms``, ``RoIAlign``, and on CUDA
  ``sigmoid_focal_loss``) on every device against the CPU / a torch
  reference (:mod:`mmrm.utils.mmcv_ops`);
- ``table10``: paper Table 10 with ``benchmarks/bench_train_step.py``
  (ResNet-50, batch 64, 224x224, AMP, baseline / Mixup / CutMix / RM in one
  run after warm-up): RM's step time and peak memory over CutMix's (goal
  <= 1.02; paper: memory 1.009x, same time) and the parameter counts;
- ``atss``, ``mask_rcnn``, ``upernet``: one training iteration and one
  evaluation of the ResNet-50 RM config on the COCO / ADE fixture, from a
  converted RM checkpoint (``StrictPretrained``; the weights the first step
  starts from are compared with the converted ones), on the run's device;
- ``dist``: ``tools/dist_train.sh`` with 2 GPUs, 4 iterations of the ATSS
  fixture run (skipped unless 2 GPUs are visible).

``--dry-run`` lists the steps and commands without running anything;
``--cpu`` runs them on the CPU with a small benchmark (what the tests do).
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
import traceback

import gpu_check_steps as steps

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
STEPS = ('ops', 'table10', 'atss', 'mask_rcnn', 'upernet', 'dist')


def environment() -> dict:
    import torch
    from mmrm.utils.mmcv_ops import ops_build
    gpus = [torch.cuda.get_device_name(i)
            for i in range(torch.cuda.device_count())]
    return dict(python=sys.executable, torch=torch.__version__,
                torch_cuda=torch.version.cuda, gpus=gpus,
                mmcv_ops=ops_build(), host=os.uname().nodename)


def _is_local(module: str) -> bool:
    """A module of this repository (tools/, tests/, benchmarks/, mmrm/ as
    a checkout), by its file or, for a subprocess's, by its name."""
    mod = sys.modules.get(module)
    path = getattr(mod, '__file__', None) or next(
        iter(getattr(mod, '__path__', None) or []), None)
    if path:
        path = osp.realpath(path)
        return path.startswith(ROOT + os.sep) and 'site-packages' not in path
    return any(osp.exists(osp.join(ROOT, d, module + ext))
               for d in ('tools', 'benchmarks', 'tests')
               for ext in ('', '.py'))


def imported(extra=()) -> dict:
    """Top-level modules this process and ``extra`` (modules a step's
    subprocess imported) used, outside the standard library and this
    repository: module -> the distributions that provide it here (what
    an offline node must have: tests/test_bundle_manifest.py)."""
    import importlib.metadata as md
    provides = md.packages_distributions()
    names = {m.split('.')[0] for m in list(sys.modules) + list(extra)}
    out = {}
    for name in sorted(names):
        if (name in sys.stdlib_module_names or name.startswith('__')
                or _is_local(name)):
            continue
        out[name] = sorted(set(provides.get(name, [])))
    return out


def run_step(name: str, args) -> dict:
    t0 = time.time()
    try:
        result = steps.STEP_FUNCS[name](args)
        status = result.pop('status', 'ok')
    except Exception as e:  # one failing step must not hide the others
        result = dict(summary=f'{type(e).__name__}: {e}'.splitlines()[0],
                      error=traceback.format_exc())
        status = 'FAIL'
    return dict(step=name, status=status, seconds=round(time.time() - t0, 1),
                **result)


def table(rows) -> str:
    lines = ['| step | status | s | result |', '|---|---|---|---|']
    lines += [f"| {r['step']} | {r['status']} | {r['seconds']} | "
              f"{r['summary']} |" for r in rows]
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', nargs='+', choices=STEPS,
                        default=list(STEPS))
    parser.add_argument('--out', default=osp.join('work_dirs', 'gpu_check'))
    parser.add_argument('--dry-run', action='store_true',
                        help='list steps and commands, run nothing')
    parser.add_argument('--cpu', action='store_true',
                        help='hide the GPUs; small benchmark')
    parser.add_argument('--python', default=sys.executable,
                        help='python for the benchmark and torchrun')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.cpu:
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
    os.makedirs(args.out, exist_ok=True)
    if args.dry_run:
        rows = [dict(step=s, status='planned', seconds=0,
                     summary=steps.describe(s, args)) for s in args.steps]
        env = dict(dry_run=True)
    else:
        env = environment()
        print(f'# gpu_check: {json.dumps(env)}', flush=True)
        rows = []
        for name in args.steps:
            print(f'# {name} ...', flush=True)
            rows.append(run_step(name, args))
            print(f"# {name}: {rows[-1]['status']} "
                  f"({rows[-1]['seconds']} s) {rows[-1]['summary']}",
                  flush=True)
    report = dict(environment=env, steps=rows)
    if not args.dry_run:
        report['imports'] = imported(m for r in rows
                                     for m in r.pop('imports', ()))
    path = osp.join(args.out, 'gpu_check.json')
    with open(path, 'w') as f:
        json.dump(report, f, indent=1)
    print(table(rows))
    print(f'\nJSON: {path}')
    return 1 if any(r['status'] == 'FAIL' for r in rows) else 0


if __name__ == '__main__':
    sys.exit(main())
