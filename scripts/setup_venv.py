"""Install a pinned stack into the venv (run by ``scripts/setup_env.sh``
with the venv's python; the install order lives here, the pins in
``requirements/stack-<name>.txt``, read by :mod:`stacks`).

Every ``pip install`` runs with the stack's pins as constraints
(``.mmrm-constraints.txt`` in the venv), so no later step moves a pinned
package (numpy stays 1.x in the ``openmmlab`` stack).

Two stages, so that ``make demo`` trains before mmcv's ops are compiled:

- ``--quick`` (``make demo``): torch, mmcv-lite (mmcv's pure-Python
  wheel), the OpenMMLab libraries and mmrm; then the mmcv build of this
  machine (:mod:`mmcv_plan`) starts in the background (:mod:`mmcv_build`,
  niced, log in its cache folder) unless its wheel is cached. RM
  pretraining needs no compiled ops; det/seg runs refuse to start without
  them (:mod:`mmrm.apis.ops_guard`).
- full (default; ``make test``, the det/seg demos): as above, then the mmcv
  wheel (waiting for the background build, or building it now), swapped in
  for mmcv-lite, checked (:mod:`mmrm.utils.mmcv_ops`: nms / RoIAlign on the
  CPU, and on every GPU for a CUDA build).

No half-installed venv: every run takes an exclusive lock on the venv,
deletes both stamps before changing anything and writes a stamp only after
its checks pass; ``.mmrm-mmcv`` names the installed mmcv build and is
deleted before the swap, written after it. ``setup_env.sh`` returns at once
when the stamp it needs holds the current key.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
from typing import List, Optional

import mmcv_build
import mmcv_plan
import stacks
from mmcv_build import cached_wheel, locked, log

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(HERE)
# installed with the mmcv wheel (--no-deps): its runtime requirements
MMCV_DEPS = ['addict', 'packaging', 'Pillow', 'pyyaml', 'yapf',
             'opencv-python-headless']


class Venv:
    """The venv's files and the commands run in it (replaceable in tests)."""

    def __init__(self, path: str, cache_root: str, python: str = None,
                 stack: str = stacks.DEFAULT):
        self.path = path
        self.python = python or osp.join(path, 'bin', 'python')
        self.cache_root = cache_root
        self.stack = stack

    def file(self, name: str) -> str:
        return osp.join(self.path, name)

    def read(self, name: str) -> Optional[str]:
        try:
            with open(self.file(name)) as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    def write(self, name: str, text: str) -> None:
        with open(self.file(name), 'w') as f:
            f.write(text + '\n')

    def remove(self, *names: str) -> None:
        for name in names:
            if osp.lexists(self.file(name)):
                os.remove(self.file(name))

    def installed_mmcv(self) -> Optional[str]:
        """The cache key of the installed mmcv build (``.mmrm-mmcv``),
        ``'lite'``, ``'unknown'`` (an mmcv with ops that this script did not
        record, e.g. from an older set-up) or None."""
        mark = self.read(MMCV_MARK)
        if mark:
            return mark
        out = subprocess.run(
            [self.python, '-c', 'import importlib.metadata as m\n'
             'for d in ("mmcv", "mmcv-lite"):\n'
             '    try: m.version(d); print(d); break\n'
             '    except m.PackageNotFoundError: pass'],
            capture_output=True, text=True).stdout.strip()
        return {'mmcv': 'unknown', 'mmcv-lite': 'lite'}.get(out)

    def pip(self, args: List[str]) -> None:
        extra = []
        if args[0] == 'install' and osp.isfile(self.file(CONSTRAINTS)):
            extra = ['-c', self.file(CONSTRAINTS)]
        subprocess.run([self.python, '-m', 'pip', *args, *extra, '-q',
                        '--disable-pip-version-check'], check=True)

    def plan(self) -> dict:
        out = subprocess.run(
            [self.python, osp.join(HERE, 'mmcv_plan.py'), '--json'],
            capture_output=True, text=True,
            env=dict(os.environ, MMRM_STACK=self.stack))
        if out.returncode:
            raise SystemExit(out.stderr.strip())
        return json.loads(out.stdout)['plan']

    def check(self, args: List[str]) -> None:
        subprocess.run([self.python, *args], check=True)

    def toolchain(self, plan: dict) -> Optional[str]:
        return mmcv_build.prepare_toolchain(plan, self.path, self.pip)

    def build(self, plan: dict, folder: str, cuda_home) -> str:
        return mmcv_build.build(plan, folder, cuda_home, self.python)

    def start_build(self, plan: dict, folder: str, cuda_home) -> int:
        """The build in a detached, niced process; returns its pid."""
        os.makedirs(folder, exist_ok=True)
        request = osp.join(folder, 'plan-request.json')
        with open(request, 'w') as f:
            json.dump(plan, f, indent=1)
        cmd = ['nice', '-n', '10', self.python,
               osp.join(HERE, 'mmcv_build.py'), 'build', '--plan', request,
               '--cache', folder]
        if cuda_home:
            cmd += ['--cuda-home', cuda_home]
        with open(osp.join(folder, 'build.log'), 'w') as log_file:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                    stdout=log_file, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        return proc.pid


STAMP, QUICK_STAMP, MMCV_MARK = ('.mmrm-setup-stamp',
                                 '.mmrm-setup-stamp-quick', '.mmrm-mmcv')
CONSTRAINTS = '.mmrm-constraints.txt'


def build_running(folder: str) -> bool:
    """True when a builder holds the cache folder's build lock."""
    import fcntl
    path = osp.join(folder, '.build.lock')
    if not osp.exists(path):
        return False
    with open(path) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


def adopt_legacy_wheel(cache_root: str, plan: dict) -> Optional[str]:
    """The wheel of ``plan`` under one of its ``legacy_cache_keys`` (the
    ``latest`` stack's folder before keys named the stack), copied into the
    folder of its current key (the old folder stays, for older set-ups)."""
    folder = osp.join(cache_root, plan['cache_key'])
    for old in plan.get('legacy_cache_keys', ()):
        wheel = cached_wheel(osp.join(cache_root, old))
        if wheel:
            os.makedirs(folder, exist_ok=True)
            dest = osp.join(folder, osp.basename(wheel))
            tmp = osp.join(folder, f'.adopt-{os.getpid()}')
            shutil.copyfile(wheel, tmp)
            os.replace(tmp, dest)  # whole or absent, like a build
            log(f'reusing the mmcv wheel cached under {old}')
            return dest
    return None


def install_mmcv(venv: Venv, wheel: str, key: str) -> None:
    """Swap the venv's mmcv (lite or another build) for ``wheel``."""
    venv.remove(MMCV_MARK)
    venv.pip(['uninstall', '-y', 'mmcv-lite', 'mmcv'])
    venv.pip(['install', '--no-deps', '--force-reinstall', wheel])
    venv.pip(['install', *MMCV_DEPS])
    venv.write(MMCV_MARK, key)


def setup(venv: Venv, key: str, quick: bool = False) -> str:
    """Bring ``venv`` to the stage asked for; returns what was done
    ('ready', 'quick', 'full')."""
    with locked(venv.file('.mmrm-setup.lock'),
                'waiting for another set-up of this venv'):
        if venv.read(STAMP) == key:
            return 'ready'  # finished by the run we waited for
        if quick and venv.read(QUICK_STAMP) == key:
            return 'quick'
        venv.remove(STAMP, QUICK_STAMP)
        pins = stacks.read_stack(venv.stack)
        venv.write(CONSTRAINTS, '\n'.join(pins['constraints']))
        log(f'stack {venv.stack}: installing {" / ".join(pins["torch"])} '
            'and the build tools')
        venv.pip(['install', *pins['torch'], *pins['build']])
        plan = venv.plan()
        log(mmcv_plan.describe(plan))
        folder = mmcv_build.cache_folder(venv.cache_root, plan)
        wheel = cached_wheel(folder) or adopt_legacy_wheel(venv.cache_root,
                                                           plan)
        installed = venv.installed_mmcv()
        if installed in plan.get('legacy_cache_keys', ()):
            installed = plan['cache_key']  # the same build, renamed
            venv.write(MMCV_MARK, installed)
        # quick: leave the ops build to the background (any mmcv serves RM
        # pretraining; without one, mmcv-lite)
        later = quick and installed != plan['cache_key'] and not wheel
        cuda_home = None
        if installed != plan['cache_key'] and not wheel:
            cuda_home = venv.toolchain(plan)
        if later and installed is None:
            venv.pip(['install', f"mmcv-lite=={pins['mmcv']}"])
            venv.write(MMCV_MARK, 'lite')
        log('installing the OpenMMLab libraries and mmrm')
        venv.pip(['install', *pins['torch'], *pins['pins']])
        venv.pip(['install', '--no-deps', *pins['no_deps']])
        venv.pip(['install', '--no-deps', '--no-build-isolation', '-e', ROOT])
        if later:
            venv.check(['-c', 'import mmrm, mmpretrain'])
            venv.write(QUICK_STAMP, key)
            if not build_running(folder):
                pid = venv.start_build(plan, folder, cuda_home)
                log(f'mmcv ops build started in the background (pid {pid}, '
                    f"log {osp.join(folder, 'build.log')}); det/seg runs and "
                    'the tests need it: `bash scripts/setup_env.sh` waits for '
                    'it and installs it')
            return 'quick'
        if installed != plan['cache_key']:
            wheel = venv.build(plan, folder, cuda_home)
            log(f'installing {wheel}')
            install_mmcv(venv, wheel, plan['cache_key'])
        venv.check(['-c', 'import mmcv, mmdet, mmseg, mmpretrain, mmrm'])
        venv.check(['-m', 'mmrm.utils.mmcv_ops', '--expect', plan['mode']])
        venv.write(STAMP, key)
        venv.write(QUICK_STAMP, key)
        return 'full'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--venv', required=True)
    parser.add_argument('--key', required=True, help='stamp key')
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--stack', default=stacks.DEFAULT,
                        choices=sorted(stacks.STACKS))
    parser.add_argument('--cache', default=osp.join(
        osp.expanduser('~'), '.cache', 'mmrm'))
    args = parser.parse_args(argv)
    done = setup(Venv(args.venv, args.cache, stack=args.stack), args.key,
                 args.quick)
    log(f'venv {args.venv}: {done}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
