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


def _module_path(name: str):
    """The file or folder a top-level module was (or would be) loaded from;
    None for one this venv cannot import (a failed optional import) or an
    extension's in-memory helper (e.g. Cython's ``_cython_3_0_11``)."""
    import importlib.util
    mod = sys.modules.get(name)
    if mod is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        path = spec.origin if spec.has_location else None
        path = path or next(iter(spec.submodule_search_locations or []), None)
    else:
        path = getattr(mod, '__file__', None) or next(
            iter(getattr(mod, '__path__', None) or []), None)
    return osp.realpath(path) if path else None


#: modules a package writes from a template at run time (not installed
#: files): name prefix -> the distribution that writes them. torch 2.1
#: (the openmmlab stack) writes ``_remote_module_non_scriptable`` into a
#: temporary folder when ``torch.distributed.nn`` is imported.
GENERATED = {'_remote_module_': 'torch'}


def imported(extra=()) -> dict:
    """Top-level modules this process and ``extra`` (those a step's
    subprocess imported) used, outside the standard library and this
    repository: module -> the distributions that provide it here, found
    by the folder it was loaded from (a package vendored inside another
    counts as that one's); what an offline node must have
    (tests/test_bundle_manifest.py). '?' marks a module whose distribution
    is unknown."""
    import importlib.metadata as md
    import sysconfig
    provides = md.packages_distributions()
    base = sysconfig.get_paths(vars=dict(base=sys.base_prefix,
                                         platbase=sys.base_exec_prefix))
    stdlib = {osp.realpath(base[k]) for k in ('stdlib', 'platstdlib')}
    # (not the checkout itself: a venv inside it is not a repository module)
    entries = sorted({osp.realpath(p) for p in sys.path if p and osp.isdir(p)}
                     - {osp.realpath(ROOT)}, key=len)
    names = {m.split('.')[0] for m in list(sys.modules) + list(extra)}
    out = {}
    for name in sorted(names):
        if name in sys.stdlib_module_names or name.startswith('__'):
            continue
        local = osp.exists(osp.join(ROOT, 'benchmarks', name)) or \
            osp.exists(osp.join(ROOT, 'benchmarks', name + '.py'))
        path = _module_path(name)
        # the repository's own modules; not a venv that lives in the checkout
        in_repo = path is not None and path.startswith(ROOT + os.sep) and \
            'site-packages' not in path
        if local or path is None or in_repo or (
                any(path.startswith(d + os.sep) for d in stdlib) and
                'site-packages' not in path):
            continue
        # the shortest sys.path entry holding it: site-packages, not a
        # vendored folder some package put on sys.path
        entry = next((e for e in entries if path.startswith(e + os.sep)),
                     None)
        top = (osp.relpath(path, entry).split(os.sep)[0].split('.')[0]
               if entry else name)
        out[name] = sorted(set(provides.get(top, []))) or [next(
            (d for p, d in GENERATED.items() if name.startswith(p)), '?')]
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
    if not args.dry_run:
        print(f"\nsteps: {sum(r['seconds'] for r in rows):.0f} s in all")
    print(f'\nJSON: {path}')
    return 1 if any(r['status'] == 'FAIL' for r in rows) else 0


if __name__ == '__main__':
    sys.exit(main())
