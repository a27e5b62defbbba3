"""Which stack and which mmcv build this machine gets: the stack by the
NVIDIA driver, then CPU ops or CUDA ops, for which GPUs, with which CUDA
compiler (used by ``scripts/setup_env.sh``).

:func:`probe` (:mod:`machine_facts`) gathers the machine's facts (the driver's CUDA version from
``nvidia-smi``, torch's CUDA version, the GPUs and their compute
capabilities, CUDA compilers found on the system, cores, memory);
:func:`choose_stack` and :func:`plan` are pure functions of those facts and
the environment:

- the stack (``requirements/stack-<name>.txt``): ``MMRM_STACK=latest|
  openmmlab`` if set; else, with an NVIDIA driver, ``latest`` (torch's CUDA
  13.0 build) when the driver runs CUDA 13.0 or newer, ``openmmlab`` (CUDA
  12.1) when it runs 12.1 to 12.x, and a clear stop when it runs neither;
  without a driver (or when ``nvidia-smi`` fails) ``latest``.

- ``MMRM_MMCV_CUDA=0``: CPU ops; ``=1``: CUDA ops even without a GPU (a
  build node); unset: CUDA ops when an NVIDIA GPU is present, else CPU ops.
- CUDA ops are built for ``TORCH_CUDA_ARCH_LIST`` if set, else for the
  detected GPUs' compute capabilities, else (forced, no GPU)
  :data:`DEFAULT_ARCHS`.
- The compiler must be of torch's CUDA version (``major.minor`` of
  ``torch.version.cuda``; torch's extension builder refuses another major,
  and another minor would mix its headers with torch's runtime): the first
  system ``nvcc`` of that version (``$CUDA_HOME``, ``PATH``,
  ``/usr/local/cuda``), otherwise NVIDIA's compiler packages from the
  package index, at the version torch itself depends on. The index has a
  complete compiler for CUDA 13 only: its CUDA 12 packages
  (``nvidia-cuda-nvcc-cu12``, ``cuda-toolkit`` 12.x) hold ``ptxas`` and
  libnvvm but no ``nvcc``, so the ``openmmlab`` stack's CUDA build needs a
  system CUDA 12.1 toolkit (:func:`preflight` says so before any download).
- ``MAX_JOBS``: ``$MAX_JOBS``, else the usable cores, at most one job per
  :data:`GB_PER_JOB` GB of available memory.
- The wheel cache key names the stack, torch, and ``cpu`` or the CUDA
  version and arch list, so a CPU wheel is never reused for a GPU machine
  (nor one GPU's for another, nor one stack's for the other). The ``latest``
  stack's keys from before the stack was named (``legacy_cache_keys``) are
  still read, so existing caches are reused.

    python scripts/mmcv_plan.py            # stack and plan, readable
    python scripts/mmcv_plan.py --json     # the facts and the plan
    python scripts/mmcv_plan.py --stack    # the stack's name (exit 2: none)
"""
import json
import os
import re
import sys
from typing import List

# the facts, gathered in machine_facts (re-exported: callers use mmcv_plan)
from machine_facts import (driver_facts, nvcc_version, probe,  # noqa: F401
                           smi_gpus, system_nvccs)
from stacks import DEFAULT, STACKS, PlanError, _version, choose_stack

MMCV_VERSION = '2.1.0'
# forced CUDA build without a GPU to detect: Turing (T4), Ampere (A100;
# its sm_80 code also runs on sm_86/89 cards), Hopper (H100/H200), and PTX
# for newer GPUs to compile at load time
DEFAULT_ARCHS = ('7.5', '8.0', '9.0+PTX')
# memory one compiler job may need (nvcc on mmcv's kernels; cc1plus on
# torch's headers), so that MAX_JOBS does not exhaust a small machine
GB_PER_JOB = {'cpu': 1.5, 'cuda': 3.0}


# ------------------------------------------------------------------- plan
def parse_arch_list(text: str) -> List[str]:
    """``'8.0;9.0+PTX'`` / ``'8.0 9.0'`` -> ``['8.0', '9.0+PTX']``."""
    archs = [a for a in re.split(r'[;,\s]+', text.strip()) if a]
    for a in archs:
        if not re.fullmatch(r'\d+\.\d+a?(\+PTX)?', a):
            raise PlanError(f'TORCH_CUDA_ARCH_LIST: {a!r} is not a compute '
                            'capability like 9.0 or 9.0+PTX')
    return sorted(set(archs), key=lambda a: float(re.match(r'\d+\.\d+',
                                                           a).group()))


def max_jobs(facts: dict, env, mode: str) -> int:
    if env.get('MAX_JOBS'):
        return int(env['MAX_JOBS'])
    jobs = facts['cpus']
    if facts.get('mem_gb'):
        jobs = min(jobs, int(facts['mem_gb'] // GB_PER_JOB[mode]))
    return max(1, jobs)


def cache_key(facts: dict, mode: str, archs=(), stack: str = DEFAULT,
              legacy: bool = False) -> str:
    """``mmcv-2.1.0-latest-torch2.14.1-cp311-x86_64-cpu`` or
    ``...-cu13.0-sm9.0`` (one folder of the wheel cache); ``legacy``: the
    same without the stack (the key before there were two stacks)."""
    base = (f"mmcv-{MMCV_VERSION}-{'' if legacy else stack + '-'}"
            f"torch{facts['torch']}-{facts['python']}-{facts['machine']}")
    if mode == 'cpu':
        return f'{base}-cpu'
    return f"{base}-cu{facts['torch_cuda']}-sm{'_'.join(archs)}"


def _want_cuda(facts: dict, env) -> tuple:
    flag = env.get('MMRM_MMCV_CUDA', '')
    if flag not in ('', '0', '1'):
        raise PlanError(f'MMRM_MMCV_CUDA must be 0, 1 or unset, got {flag!r}')
    if flag == '0':
        return False, 'MMRM_MMCV_CUDA=0: CPU ops forced'
    if flag == '1':
        return True, 'MMRM_MMCV_CUDA=1: CUDA ops forced'
    if facts['gpus']:
        names = ', '.join(sorted({g['name'] for g in facts['gpus']}))
        return True, f"NVIDIA GPU present ({len(facts['gpus'])}x {names})"
    return False, 'no NVIDIA GPU: CPU ops'


def _system_toolchain(want: str, system_nvcc: List[dict], notes: List[str]):
    """The CUDA_HOME of the first system nvcc of CUDA ``want`` with headers,
    else None (each skipped one gets a note)."""
    for cand in system_nvcc:
        if cand['version'] == want and cand['headers']:
            return cand['cuda_home']
        why = (f"CUDA {cand['version']}, torch has {want}"
               if cand['version'] != want else
               'no include/cuda_runtime.h beside it')
        notes.append(f"skipped system nvcc {cand['nvcc']} ({why})")
    return None


def _no_index_compiler(want: str, stack: str) -> PlanError:
    return PlanError(
        f'CUDA ops for the {stack} stack need a CUDA {want} compiler: none on '
        f'this system (CUDA_HOME, PATH, /usr/local/cuda), and the package '
        f"index has no CUDA {want.split('.')[0]} nvcc (NVIDIA's "
        f"nvidia-cuda-nvcc-cu{want.split('.')[0]} packages hold ptxas and "
        f'libnvvm only). Set CUDA_HOME to a CUDA {want} toolkit (e.g. '
        f'`module load cuda/{want}`), or MMRM_MMCV_CUDA=0 for CPU ops only '
        '(det/seg training on the GPU then stops: docs/gpu.md), or, with a '
        'driver that runs CUDA 13.0, MMRM_STACK=latest')


def preflight(facts: dict, env=None) -> dict:
    """What can be decided before torch is installed (``facts`` from
    ``probe(with_torch=False)`` suffice): the stack, and whether its mmcv
    build will find a compiler for the stack's torch. Returns ``{'stack', 'reason', 'notes',
    'cuda_ops'}``; raises :class:`PlanError` where set-up must stop before
    any download."""
    env = os.environ if env is None else env
    stack, reason, notes = choose_stack(facts, env)
    cuda, _ = _want_cuda(facts, env)
    want = STACKS[stack]['cuda']  # the torch the set-up installs
    if cuda and _version(want) < (13, ):
        if _system_toolchain(want, facts['system_nvcc'], []) is None:
            raise _no_index_compiler(want, stack)
    return dict(stack=stack, reason=reason, notes=notes, cuda_ops=cuda)


def plan(facts: dict, env=None) -> dict:
    """The build for ``facts`` (from :func:`probe`) under ``env``.

    Returns a dict: ``stack`` and ``stack_reason`` (:func:`choose_stack`),
    ``mode`` ('cpu' | 'cuda'), ``reason``, ``archs``, ``toolchain`` (None |
    'system' | 'index'), ``cuda_home`` (system toolchain),
    ``toolkit_requirement`` (index toolchain), ``max_jobs``, ``cache_key``,
    ``legacy_cache_keys`` (earlier keys of the same build), ``patch_cxx20``
    (mmcv's -std=c++17 -> c++20, for the stack's torch), ``build_env``
    (variables for mmcv's ``setup.py``), ``notes``.
    """
    env = os.environ if env is None else env
    if not facts.get('torch'):
        raise PlanError('torch is not installed: the mmcv build is planned '
                        "for the installed torch (the set-up installs the "
                        "stack's torch first)")
    stack, stack_reason, notes = choose_stack(facts, env)
    cuda, reason = _want_cuda(facts, env)
    common = dict(stack=stack, stack_reason=stack_reason, reason=reason,
                  patch_cxx20=STACKS[stack]['cxx20'])
    if cuda and not facts['torch_cuda']:
        raise PlanError(f"{reason}, but torch {facts['torch']} is a CPU "
                        'build (torch.version.cuda is None)')
    if cuda and facts['gpus'] and not facts.get('torch_sees_gpu', True):
        notes.append('nvidia-smi lists GPUs that torch cannot use (is the '
                     f"driver older than CUDA {facts['torch_cuda']}?)")
    legacy = lambda *a: ([cache_key(facts, *a, legacy=True)]  # noqa: E731
                         if stack == 'latest' else [])
    if not cuda:
        mode = 'cpu'
        jobs = max_jobs(facts, env, mode)
        # mmcv's setup.py compiles CUDA whenever torch sees a GPU: hide them
        build_env = dict(MMCV_WITH_OPS='1', FORCE_CUDA='0', MAX_JOBS=str(jobs),
                         CUDA_VISIBLE_DEVICES='')
        return dict(common, mode=mode, archs=[], toolchain=None,
                    cuda_home=None, toolkit_requirement=None, max_jobs=jobs,
                    cache_key=cache_key(facts, mode, stack=stack),
                    legacy_cache_keys=legacy(mode), build_env=build_env,
                    notes=notes)
    mode = 'cuda'
    if env.get('TORCH_CUDA_ARCH_LIST'):
        archs = parse_arch_list(env['TORCH_CUDA_ARCH_LIST'])
        notes.append('arch list from TORCH_CUDA_ARCH_LIST')
    elif facts['gpus']:
        archs = parse_arch_list(' '.join(g['capability']
                                         for g in facts['gpus']))
    else:
        archs = list(DEFAULT_ARCHS)
        notes.append('no GPU to detect: default arch list '
                     f"{';'.join(DEFAULT_ARCHS)} (set TORCH_CUDA_ARCH_LIST "
                     'for other GPUs)')
    want = facts['torch_cuda']
    cuda_home = _system_toolchain(want, facts['system_nvcc'], notes)
    toolchain, requirement = ('system', None) if cuda_home else ('index', None)
    if toolchain == 'index':
        if _version(want) < (13, ):
            raise _no_index_compiler(want, stack)
        if not facts.get('cuda_toolkit'):
            raise PlanError(
                f'no CUDA {want} compiler on the system and torch does not '
                'depend on the cuda-toolkit package, so its version on the '
                f'package index is unknown: set CUDA_HOME to a CUDA {want} '
                'toolkit')
        requirement = f"cuda-toolkit[nvcc,cccl]=={facts['cuda_toolkit']}"
    jobs = max_jobs(facts, env, mode)
    build_env = dict(MMCV_WITH_OPS='1', FORCE_CUDA='1', MAX_JOBS=str(jobs),
                     TORCH_CUDA_ARCH_LIST=';'.join(archs))
    if cuda_home:
        build_env['CUDA_HOME'] = cuda_home
    return dict(common, mode=mode, archs=archs, toolchain=toolchain,
                cuda_home=cuda_home, toolkit_requirement=requirement,
                max_jobs=jobs, cache_key=cache_key(facts, mode, archs, stack),
                legacy_cache_keys=legacy(mode, archs), build_env=build_env,
                notes=notes)


def describe(p: dict) -> str:
    """The plan in a few lines, for the set-up log."""
    lines = [f"stack {p['stack']} ({p['stack_reason']})",
             f"mmcv {MMCV_VERSION}: {p['mode'].upper()} ops ({p['reason']})"]
    if p['mode'] == 'cuda':
        tool = (f"system CUDA at {p['cuda_home']}" if p['toolchain'] ==
                'system' else f"{p['toolkit_requirement']} from the package "
                'index, into the venv')
        lines.append(f"  archs {';'.join(p['archs'])}, compiler: {tool}")
    lines.append(f"  MAX_JOBS={p['max_jobs']}, cache key {p['cache_key']}")
    lines += [f'  note: {n}' for n in p['notes']]
    return '\n'.join(lines)


def main(argv=None) -> int:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--json', action='store_true',
                        help='print the facts and the plan as JSON')
    parser.add_argument('--stack', action='store_true',
                        help="print only the stack's name (no torch needed; "
                        'exit 2 where set-up must stop)')
    args = parser.parse_args(argv)
    facts = probe(with_torch=not args.stack)
    try:
        stack, reason, _ = choose_stack(facts)
        if not args.stack and not args.json:
            print(f'stack {stack} ({reason})')
        pre = preflight(facts)
        if args.stack:  # the name for set-up, the reason for its log
            print(pre['stack'])
            print(f'[setup_env] stack {stack}: {reason}'
                  + ''.join(f'\n  note: {n}' for n in pre['notes']),
                  file=sys.stderr)
            return 0
        p = plan(facts) if facts['torch'] else None
    except PlanError as e:
        print(f'mmrm set-up: {e}', file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(dict(facts=facts, preflight=pre, plan=p), indent=1))
    elif p is None:
        print(f"  torch is not installed here: the mmcv build is planned once "
              f"the set-up has installed the {stack} stack's torch")
        print(''.join(f'  note: {n}\n' for n in pre['notes']), end='')
    else:
        if facts['torch_cuda'] != STACKS[stack]['cuda']:
            print(f"  note: the installed torch {facts['torch']} (CUDA "
                  f"{facts['torch_cuda']}) is not the {stack} stack's (CUDA "
                  f"{STACKS[stack]['cuda']}): the mmcv plan below is for the "
                  'installed torch')
        print(describe(p).split('\n', 1)[1])
    return 0


if __name__ == '__main__':
    sys.exit(main())
