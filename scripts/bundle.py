"""Wheels for an offline GPU node with a site-provided PyTorch: everything
mmrm's stack needs there that the node lacks, in one folder to copy over.

    python scripts/bundle.py --python 3.12 --torch 2.11.0 --cuda 13.0 \\
        --arch 9.0 --out bundle/

1. a build venv (``--work``): that Python, ``torch==--torch`` from the
   package index (its CUDA must be ``--cuda``: the node's torch build) and
   the build tools;
2. mmcv compiled against that torch with CUDA kernels for ``--arch`` only
   (no PTX) by :mod:`mmcv_build` with NVIDIA's compiler packages at torch's
   CUDA version: cached under ``$MMRM_CACHE`` (the key names Python, torch,
   CUDA and arch) and resumable; its debug symbols stripped for the bundle
   (``strip --strip-debug``; the CUDA code is kept, and checked);
3. pip resolves the stack's pins (:func:`stack_requirements`, one place) in
   the build venv; what the node has (``--node``, default
   ``scripts/bundle_node.txt``) is left out, the rest become wheels
   (``pip wheel --no-deps``), mmrm's own included;
4. ``mmrm-src.tar.gz`` (``git archive HEAD``: tools/, configs/,
   benchmarks/, tests/ that ``tools/gpu_check.sh`` runs), ``manifest.json``
   (:mod:`bundle_manifest`) and ``INSTALL.txt`` with the one command for
   the node. It fails if a bundled wheel needs a package that neither the
   bundle nor the node has, or if the folder is over ``--max-mib``.

On the node (no index, no compile):

    mkdir -p ~/mmrm && tar xzf bundle/mmrm-src.tar.gz -C ~/mmrm && \\
    python3 -m pip install --no-index --no-deps --target ~/mmrm/site \\
        bundle/*.whl && cd ~/mmrm && PYTHONPATH=~/mmrm/site tools/gpu_check.sh
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import bundle_manifest
import mmcv_build
from check_cuda_toolchain import fatbin_entries

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(HERE)
BUILD_TOOLS = ['setuptools>=77,<82', 'wheel', 'ninja']


def stack_requirements(stack: str = 'latest') -> list:
    """What the bundle resolves: the stack's pins from its requirements file
    (``scripts/stacks.py``) without torch / torchvision and numpy, which the
    node provides, plus mmcv's runtime dependencies."""
    import setup_venv
    import stacks
    pins = stacks.read_stack(stack)['pins']
    return [p for p in pins if stacks.requirement_name(p) != 'numpy'] + \
        list(setup_venv.MMCV_DEPS)


def log(msg: str) -> None:
    print(f'[bundle] {msg}', file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def find_python(version: str) -> str:
    """An interpreter of ``version`` ('3.12' or a path): ``python3.12`` on
    PATH, else pyenv's."""
    if osp.sep in version:
        return version
    candidates = [shutil.which(f'python{version}')]
    root = os.environ.get('PYENV_ROOT', osp.expanduser('~/.pyenv'))
    candidates += sorted(glob.glob(osp.join(root, 'versions', f'{version}.*',
                                            'bin', f'python{version}')))
    for path in filter(None, candidates):
        out = subprocess.run([path, '-c', 'import sys; print("%d.%d" % '
                              'sys.version_info[:2])'], capture_output=True,
                             text=True)
        if out.returncode == 0 and out.stdout.strip() == version:
            return path
    raise SystemExit(f'bundle: no Python {version} found (python{version} '
                     'on PATH or pyenv): install it, or pass --python PATH')


class BuildVenv:
    """The venv the node's wheels are built in."""

    def __init__(self, path: str, python: str):
        self.path, self.python = path, osp.join(path, 'bin', 'python')
        if not osp.isfile(self.python):
            log(f'creating {path} with {python}')
            run([python, '-m', 'venv', path])

    def pip(self, args, **kw):
        return run([self.python, '-m', 'pip', *args, '-q',
                    '--disable-pip-version-check'], **kw)

    def py(self, code: str) -> str:
        return run([self.python, '-c', code], capture_output=True,
                   text=True).stdout.strip()


def prepare_venv(args) -> BuildVenv:
    venv = BuildVenv(osp.join(args.work, 'venv'), find_python(args.python))
    log(f'installing torch=={args.torch} and the build tools')
    venv.pip(['install', f'torch=={args.torch}', *BUILD_TOOLS])
    got = venv.py('import torch; print(torch.__version__, torch.version.cuda)')
    version, cuda = got.split()
    if version.split('+')[0] != args.torch or cuda != args.cuda:
        raise SystemExit(f'bundle: torch {version} (CUDA {cuda}) from the '
                         f'index, the node has {args.torch} for CUDA '
                         f'{args.cuda}: the index offers no such build here')
    return venv


def build_mmcv(args, venv: BuildVenv) -> str:
    """The CUDA mmcv wheel for the node (cached, resumable)."""
    env = dict(os.environ, MMRM_MMCV_CUDA='1', TORCH_CUDA_ARCH_LIST=args.arch)
    if args.jobs:
        env['MAX_JOBS'] = str(args.jobs)
    out = run([venv.python, osp.join(HERE, 'mmcv_plan.py'), '--json'],
              env=env, capture_output=True, text=True).stdout
    plan = json.loads(out)['plan']
    log(f"mmcv plan: {plan['cache_key']}, MAX_JOBS={plan['max_jobs']}")
    cuda_home = mmcv_build.prepare_toolchain(plan, venv.path, venv.pip)
    folder = osp.join(args.cache, plan['cache_key'])
    return mmcv_build.build(plan, folder, cuda_home, venv.python)


def strip_wheel(venv: BuildVenv, wheel: str, out: str, arch: str) -> dict:
    """``wheel`` with its shared objects' debug symbols stripped, into
    ``out``; checks each CUDA extension still holds ``sm_<arch>`` code."""
    sm = int(arch.replace('.', '').replace('+PTX', ''))
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        run([venv.python, '-m', 'wheel', 'unpack', '-d', tmp, wheel],
            stdout=subprocess.DEVNULL)
        (tree, ) = glob.glob(osp.join(tmp, '*'))
        code = []
        for so in glob.glob(osp.join(tree, '**', '*.so'), recursive=True):
            run(['strip', '--strip-debug', so])
            entries = fatbin_entries(so, tmp) if _has_fatbin(so) else []
            code += [f"{'cubin' if k == 2 else 'ptx'} sm_{a}"
                     for k, a in entries]
        if f'cubin sm_{sm}' not in code:
            raise SystemExit(f'bundle: {wheel} holds no sm_{sm} code '
                             f'({code}): a CPU build?')
        run([venv.python, '-m', 'wheel', 'pack', '-d', out, tree],
            stdout=subprocess.DEVNULL)
    return dict(stripped_from=os.path.getsize(wheel),
                cuda_code=sorted(set(code)))


def _has_fatbin(path: str) -> bool:
    out = run(['objdump', '-h', path], capture_output=True, text=True)
    return '.nv_fatbin' in out.stdout


def resolve(venv: BuildVenv, work: str) -> list:
    """``[(name, version), ...]`` pip picks for the stack (in the build
    venv: the node's Python and platform); mmcv itself is built apart,
    its requirements are among the stack's (the manifest's requirement
    check reads the built wheel's own)."""
    report = osp.join(work, 'resolve.json')
    venv.pip(['install', '--dry-run', '--ignore-installed', '--report',
              report, *stack_requirements()])
    with open(report) as f:
        items = json.load(f)['install']
    return [(bundle_manifest.canonicalize_name(i['metadata']['name']),
             i['metadata']['version']) for i in items]


def split_node(resolved, node: dict):
    """(to bundle, provided by the node) of the resolved packages."""
    bundle, provided = [], []
    for name, version in resolved:
        on_node = [n for n in (name, *bundle_manifest.PROVIDED_BY.get(
            name, ())) if n in node]
        if on_node:  # under the node's name (opencv-python-headless)
            provided.append((on_node[0], version))
        else:
            bundle.append((name, version))
    return bundle, provided


def source_archive(out: str) -> dict:
    head = run(['git', '-C', ROOT, 'rev-parse', 'HEAD'], capture_output=True,
               text=True).stdout.strip()
    dirty = run(['git', '-C', ROOT, 'status', '--porcelain',
                 '--untracked-files=no'], capture_output=True,
                text=True).stdout.strip()
    if dirty:
        log(f'note: mmrm-src.tar.gz holds commit {head[:10]}, not the '
            'uncommitted changes')
    path = osp.join(out, 'mmrm-src.tar.gz')
    run(['git', '-C', ROOT, 'archive', '--format=tar.gz', '-o',
         osp.abspath(path), 'HEAD'])
    return dict(file=osp.basename(path), commit=head,
                bytes=os.path.getsize(path))


INSTALL = ('mkdir -p ~/mmrm && tar xzf bundle/mmrm-src.tar.gz -C ~/mmrm && '
           'python3 -m pip install --no-index --no-deps --target ~/mmrm/site '
           'bundle/*.whl && cd ~/mmrm && PYTHONPATH=~/mmrm/site '
           'tools/gpu_check.sh')


def make_bundle(args) -> dict:
    t0 = time.time()
    node = bundle_manifest.read_node(args.node)
    os.makedirs(args.work, exist_ok=True)
    venv = prepare_venv(args)
    if osp.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    # the quick part first: a resolver problem shows before the long build
    to_bundle, provided = split_node(resolve(venv, args.work), node)
    names = [f'{n}=={v}' for n, v in to_bundle]
    log(f"wheels for {', '.join(names)} and mmrm; the node provides "
        f"{', '.join(n for n, _ in provided)}")
    source = source_archive(args.out)
    # mmrm's wheel from the archived commit (a build in the checkout would
    # leave build/ there)
    src = osp.join(args.work, 'mmrm-src')
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    run(['tar', 'xzf', osp.join(args.out, source['file']), '-C', src])
    venv.pip(['wheel', '--no-deps', '-w', args.out, *names, src])
    mmcv_wheel = build_mmcv(args, venv)
    slim = strip_wheel(venv, mmcv_wheel, args.out, args.arch)
    target = dict(python=args.python, torch=args.torch, cuda=args.cuda,
                  arch=args.arch, platform='linux_x86_64')
    manifest = bundle_manifest.collect(
        args.out, target, dict(provided), source, {'mmcv': slim},
        args.max_mib * 2**20, INSTALL, node_list=osp.relpath(args.node, ROOT),
        built=dict(date=time.strftime('%Y-%m-%d'),
                   seconds=round(time.time() - t0),
                   machine=f'{platform.machine()}, {os.cpu_count()} cores'))
    problems = bundle_manifest.problems(manifest, node)
    if problems:
        raise SystemExit('bundle: ' + '\n  '.join(problems))
    return manifest


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--python', required=True, help="the node's Python, "
                   'e.g. 3.12 (or a path to such an interpreter)')
    p.add_argument('--torch', required=True, help="the node's torch, e.g. "
                   '2.11.0')
    p.add_argument('--cuda', required=True, help="its CUDA, e.g. 13.0")
    p.add_argument('--arch', required=True, help="the node GPUs' compute "
                   'capability, e.g. 9.0 (H100/H200)')
    p.add_argument('--out', required=True, help='bundle folder (replaced)')
    p.add_argument('--node', default=osp.join(HERE, 'bundle_node.txt'),
                   help="the node's packages, one per line")
    p.add_argument('--work', default=None, help='build venv and scratch '
                   '(default ~/.cache/mmrm/bundle-<python>-torch<torch>)')
    p.add_argument('--cache', default=os.environ.get('MMRM_CACHE', osp.join(
        osp.expanduser('~'), '.cache', 'mmrm')), help='mmcv wheel cache')
    p.add_argument('--jobs', type=int, default=None, help='MAX_JOBS')
    p.add_argument('--max-mib', type=int, default=64)
    args = p.parse_args(argv)
    if args.work is None:
        args.work = osp.join(args.cache, f'bundle-py{args.python}-torch'
                             f'{args.torch}')
    if '+PTX' in args.arch or ';' in args.arch:
        p.error('--arch: one compute capability, machine code only (e.g. '
                '9.0): PTX and more archs would not fit the size')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    m = make_bundle(args)
    print(f"bundle {args.out}: {len(m['wheels'])} wheels + source, "
          f"{m['total_bytes'] / 2**20:.1f} MiB of {args.max_mib} MiB "
          f"({m['built']['seconds']} s)")
    for w in sorted(m['wheels'], key=lambda w: -w['bytes']):
        print(f"  {w['bytes'] / 2**20:7.2f} MiB  {w['file']}")
    print(f'on the node:\n  {INSTALL}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
