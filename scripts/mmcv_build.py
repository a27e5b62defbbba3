"""Build the mmcv wheel of a plan (:mod:`mmcv_plan`) once per cache key.

- :func:`fetch_source`: the venv's own pip downloads mmcv's source archive
  by name (``pip download --no-binary :all: --no-build-isolation``; needs
  torch, setuptools and wheel in the venv), checked against
  :data:`MMCV_SHA256`, unpacked; :func:`patch_cxx_standard` makes its
  ``-std=c++17`` ``-std=c++20`` (torch 2.14's headers need C++20; mmcv
  issue 3341, no release with the fix).
- :func:`assemble_cuda_home`: a CUDA_HOME made of symbolic links into the
  trees that NVIDIA's packages install (``site-packages/nvidia/cuXX``: the
  compiler packages put ``bin/``, ``nvvm/``, ``include/crt``,
  ``include/cccl`` there; torch's own dependencies put the runtime and
  library headers and libraries there), plus the unversioned
  ``libcudart.so`` the linker asks for.
- :func:`build`: under an exclusive lock on ``<cache>/.build.lock``, returns
  the cached wheel, or builds it in ``<cache>/.build-partial`` and renames
  it into place, so a wheel in the cache folder is always whole. A second
  builder waits for the first; a builder that dies releases the lock (the
  kernel drops it with the process) and leaves no wheel.
- Resumable: a build that fails or is killed leaves ``.build-partial``
  (the patched source and, under its ``build/``, the objects ninja has
  compiled); the next build of the same recipe (:func:`recipe`: plan's
  build variables, CUDA_HOME, source patches) resumes there, and ninja
  compiles only what is missing (an object whose command it has not logged
  as finished is compiled again). Another recipe starts afresh; a finished
  build removes the folder.

    python scripts/mmcv_build.py build --plan PLAN.json --cache DIR
"""
import contextlib
import fcntl
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tarfile
import time
from typing import Callable, Iterable, Optional

MMCV_VERSION = '2.1.0'
MMCV_SHA256 = 'd387bcab66b467479b6660310e23746cfc79c6e57acf04094680adb499a5cd3f'


class BuildError(RuntimeError):
    """The mmcv wheel could not be made."""


def log(msg: str) -> None:
    print(f'[setup_env] {msg}', file=sys.stderr, flush=True)


# ---------------------------------------------------------------- source
def fetch_source(dest: str, python: str = sys.executable) -> str:
    """Download, check and unpack mmcv's source archive; returns its folder."""
    subprocess.run([python, '-m', 'pip', 'download', '-q',
                    '--disable-pip-version-check', '--no-deps',
                    '--no-binary', ':all:', '--no-build-isolation',
                    f'mmcv=={MMCV_VERSION}', '-d', dest], check=True)
    (archive, ) = glob.glob(osp.join(dest, f'mmcv-{MMCV_VERSION}.tar.gz'))
    with open(archive, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != MMCV_SHA256:
        raise BuildError(f'{archive}: sha256 {digest}, expected '
                         f'{MMCV_SHA256}')
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter='data')
    return osp.join(dest, f'mmcv-{MMCV_VERSION}')


def patch_cxx_standard(src: str) -> None:
    path = osp.join(src, 'setup.py')
    with open(path) as f:
        text = f.read()
    if '-std=c++17' not in text:
        raise BuildError(f'{path}: no -std=c++17 flag to patch (mmcv '
                         'changed?)')
    with open(path, 'w') as f:
        f.write(text.replace('-std=c++17', '-std=c++20'))


# ------------------------------------------------------------- CUDA_HOME
def _link_entries(trees: Iterable[str], sub: str, dest: str) -> None:
    """``dest`` = a real folder with a link to every entry of
    ``tree/sub`` (the first tree that has a name wins)."""
    os.makedirs(dest, exist_ok=True)
    for tree in trees:
        for name in sorted(os.listdir(osp.join(tree, sub))) if osp.isdir(
                osp.join(tree, sub)) else []:
            link = osp.join(dest, name)
            if not osp.lexists(link):
                os.symlink(osp.join(tree, sub, name), link)


def assemble_cuda_home(trees, dest: str) -> str:
    """A CUDA toolkit folder at ``dest`` built from package trees (each like
    ``site-packages/nvidia/cu13``); nvcc finds ``include/`` and
    ``include/cccl`` relative to its ``bin/``. Returns ``dest``."""
    trees = [osp.abspath(t) for t in trees]
    if osp.lexists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    for sub in ('bin', 'nvvm'):
        src = next((osp.join(t, sub) for t in trees
                    if osp.isdir(osp.join(t, sub))), None)
        if src is None:
            raise BuildError(f'no {sub}/ in {trees}: is the CUDA compiler '
                             'package installed?')
        os.symlink(src, osp.join(dest, sub))
    _link_entries(trees, 'include', osp.join(dest, 'include'))
    lib = osp.join(dest, 'lib64')
    _link_entries(trees, 'lib', lib)
    for name in os.listdir(lib):  # libcudart.so.13 -> libcudart.so
        stem = name.split('.so.')[0] + '.so'
        if '.so.' in name and not osp.lexists(osp.join(lib, stem)):
            os.symlink(name, osp.join(lib, stem))
    return dest


def venv_cuda_trees(torch_cuda: str, python: str = sys.executable):
    """``site-packages/nvidia/cu<major>`` of ``python``'s environment."""
    purelib = subprocess.run(
        [python, '-c', 'import sysconfig; print(sysconfig.get_paths()'
         "['purelib'])"], capture_output=True, text=True,
        check=True).stdout.strip()
    return [osp.join(purelib, 'nvidia', f"cu{torch_cuda.split('.')[0]}")]


def torch_cuda_includes(python: str = sys.executable):
    """The header folders of the NVIDIA packages torch depends on
    (``site-packages/nvidia/cuXX/include``) in ``python``'s environment."""
    purelib = subprocess.run(
        [python, '-c', 'import sysconfig; print(sysconfig.get_paths()'
         "['purelib'])"], capture_output=True, text=True,
        check=True).stdout.strip()
    return sorted(glob.glob(osp.join(purelib, 'nvidia', 'cu*', 'include')))


def nvcc_output(cuda_home: str) -> str:
    """``nvcc --version`` of a toolkit folder ('' if it has none)."""
    try:
        return subprocess.run([osp.join(cuda_home, 'bin', 'nvcc'),
                               '--version'], capture_output=True,
                              text=True).stdout
    except OSError:
        return ''


def prepare_toolchain(plan: dict, venv: str, pip: Callable) -> Optional[str]:
    """CUDA_HOME for the plan: the system one, or NVIDIA's compiler packages
    installed into the venv with ``pip`` and assembled under
    ``venv/cuda``; None for a CPU build."""
    if plan['mode'] == 'cpu':
        return None
    if plan['toolchain'] == 'system':
        return plan['cuda_home']
    log(f"installing {plan['toolkit_requirement']} (CUDA compiler) into the "
        'venv')
    pip(['install', plan['toolkit_requirement']])
    python = osp.join(venv, 'bin', 'python')
    torch_cuda = subprocess.run(
        [python, '-c', 'import torch; print(torch.version.cuda)'],
        capture_output=True, text=True, check=True).stdout.strip()
    home = osp.join(venv, 'cuda')
    want = f'release {torch_cuda},'
    # assembled before: keep it (a background build may be using it)
    if want not in nvcc_output(home):
        assemble_cuda_home(venv_cuda_trees(torch_cuda, python), home)
        if want not in nvcc_output(home):
            raise BuildError(f'{home}/bin/nvcc is not CUDA {torch_cuda}: '
                             f'{nvcc_output(home)}')
    return home


# ------------------------------------------------------------------ build
def cached_wheel(folder: str) -> Optional[str]:
    wheels = sorted(glob.glob(osp.join(folder, 'mmcv-*.whl')))
    return wheels[-1] if wheels else None


def _arch_covers(built, wanted) -> bool:
    """True when a wheel built for ``built`` (e.g. ``['8.0', '9.0+PTX']``)
    has machine code for every arch of ``wanted`` (and the PTX asked for)."""
    codes = {a.replace('+PTX', '') for a in built}
    return all(w.replace('+PTX', '') in codes and
               (not w.endswith('+PTX') or w in built) for w in wanted)


def cache_folder(cache_root: str, plan: dict) -> str:
    """The cache folder whose wheel serves ``plan``: its own key's, or one
    with a CUDA wheel for the same mmcv / torch / Python / CUDA whose arch
    list covers the plan's (a build node's default ``7.5;8.0;9.0+PTX``
    wheel serves an H100 node that asks for ``9.0``); the own key's folder
    when none has a wheel (the build goes there)."""
    own = osp.join(cache_root, plan['cache_key'])
    if plan['mode'] == 'cpu' or cached_wheel(own):
        return own
    base = plan['cache_key'].rpartition('-sm')[0]
    for folder in sorted(glob.glob(osp.join(glob.escape(cache_root),
                                            glob.escape(base) + '-sm*'))):
        built = folder.rpartition('-sm')[2].split('_')
        if _arch_covers(built, plan['archs']) and cached_wheel(folder):
            return folder
    return own


@contextlib.contextmanager
def locked(path: str, waiting_msg: str = ''):
    """Exclusive ``flock`` on ``path`` (waits; says so if it has to)."""
    with open(path, 'a+') as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip()
            log(f'{waiting_msg} (held by {holder or "another process"})')
            fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        f.truncate()
        f.write(f'pid {os.getpid()} since {time.strftime("%H:%M:%S")}')
        f.flush()
        yield


def pip_wheel(src: str, out: str, env: dict, python: str) -> None:
    """mmcv's own ``setup.py`` builds the wheel (ops as ``env`` says)."""
    subprocess.run([python, '-m', 'pip', 'wheel', '-q', '--no-deps',
                    '--no-build-isolation', '--disable-pip-version-check',
                    '-w', out, '.'], cwd=src, env=env, check=True)


PARTIAL = '.build-partial'
# bump when the source patches change: a partial build of another recipe is
# not resumed
PATCHES = ('-std=c++17 -> -std=c++20', )


def recipe(plan: dict, cuda_home: Optional[str]) -> dict:
    """What a partial build must share with this one to be resumed."""
    variables = {k: v for k, v in plan['build_env'].items()
                 if k != 'MAX_JOBS'}  # ninja resumes with any job count
    return dict(mmcv=MMCV_VERSION, build_env=variables, cuda_home=cuda_home,
                patches=list(PATCHES))


def _resumable(scratch: str, want: dict) -> bool:
    try:
        with open(osp.join(scratch, 'recipe.json')) as f:
            return json.load(f) == want
    except (OSError, ValueError):
        return False


def _compiled_objects(scratch: str) -> int:
    return len(glob.glob(osp.join(scratch, '**', 'build', 'temp.*', '**',
                                  '*.o'), recursive=True))


def _partial_under_legacy_key(folder: str, plan: dict,
                              cuda_home: Optional[str]) -> Optional[str]:
    """The folder of one of ``plan``'s ``legacy_cache_keys`` (the same
    build before keys named the stack) holding a partial build of this
    recipe, if any."""
    want = recipe(plan, cuda_home)
    for key in plan.get('legacy_cache_keys', ()):
        old = osp.join(osp.dirname(folder), key)
        if _resumable(osp.join(old, PARTIAL), want):
            return old
    return None


def build(plan: dict, folder: str, cuda_home: Optional[str] = None,
          python: str = sys.executable, make_wheel: Callable = None) -> str:
    """The wheel of ``plan`` in ``folder`` (the cache folder of its key),
    built now unless present, resuming a partial build of the same recipe.
    ``make_wheel(scratch, out, env)`` may replace the real fetch + build
    (tests)."""
    os.makedirs(folder, exist_ok=True)
    with locked(osp.join(folder, '.build.lock'),
                'waiting for the mmcv build running in the background '
                f"(log: {osp.join(folder, 'build.log')})"):
        wheel = cached_wheel(folder)
        if wheel:
            return wheel
        old = _partial_under_legacy_key(folder, plan, cuda_home)
        if old and not _resumable(osp.join(folder, PARTIAL),
                                  recipe(plan, cuda_home)):
            # ninja resumes only where the objects were compiled (its
            # commands hold the absolute paths): finish there, copy here
            log(f'finishing the partial build kept under {old}')
            built = build(dict(plan, legacy_cache_keys=[]), old, cuda_home,
                          python, make_wheel)
            wheel = osp.join(folder, osp.basename(built))
            shutil.copyfile(built, wheel + '.part')
            os.replace(wheel + '.part', wheel)
            shutil.copyfile(osp.join(old, 'plan.json'),
                            osp.join(folder, 'plan.json'))
            return wheel
        env = dict(os.environ, **plan['build_env'])
        if cuda_home:
            env['CUDA_HOME'] = cuda_home
        if plan['mode'] == 'cuda':
            # torch's CUDA headers include cusparse.h, cublas_v2.h, ...,
            # which a system toolkit of only the compiler parts lacks: after
            # the toolkit's include/ (CPATH comes after -I), torch's own
            env['CPATH'] = os.pathsep.join(filter(None, [
                env.get('CPATH'), *torch_cuda_includes(python)]))
        scratch, want = osp.join(folder, PARTIAL), recipe(plan, cuda_home)
        if _resumable(scratch, want):
            log(f'resuming the partial build in {scratch} '
                f'({_compiled_objects(scratch)} objects compiled before)')
        else:
            shutil.rmtree(scratch, ignore_errors=True)
            os.makedirs(scratch)
            with open(osp.join(scratch, 'recipe.json'), 'w') as f:
                json.dump(want, f, indent=1)
        log(f"building mmcv {MMCV_VERSION} with {plan['mode'].upper()} ops "
            f"(MAX_JOBS={plan['max_jobs']}); cold: ~12 min on 2 cores for "
            'CPU ops, far longer with CUDA kernels')
        out = osp.join(scratch, 'dist')
        shutil.rmtree(out, ignore_errors=True)  # a killed pip's leftovers
        if make_wheel is not None:
            make_wheel(scratch, out, env)
        else:
            src = osp.join(scratch, f'mmcv-{MMCV_VERSION}')
            if not osp.isfile(osp.join(src, '.mmrm-patched')):
                shutil.rmtree(src, ignore_errors=True)
                src = fetch_source(scratch, python)
                if plan.get('patch_cxx20', True):  # the stack's torch
                    patch_cxx_standard(src)
                open(osp.join(src, '.mmrm-patched'), 'w').close()
            pip_wheel(src, out, env, python)
        (built, ) = glob.glob(osp.join(out, 'mmcv-*.whl'))
        wheel = osp.join(folder, osp.basename(built))
        os.replace(built, wheel)  # atomic: same file system
        with open(osp.join(folder, 'plan.json'), 'w') as f:
            json.dump(plan, f, indent=1)
        shutil.rmtree(scratch, ignore_errors=True)
        return wheel


def main(argv=None) -> int:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('command', choices=['build'])
    parser.add_argument('--plan', required=True, help='plan JSON file')
    parser.add_argument('--cache', required=True, help='cache folder of '
                        "the plan's key")
    parser.add_argument('--cuda-home', default=None)
    args = parser.parse_args(argv)
    with open(args.plan) as f:
        plan = json.load(f)
    t0 = time.time()
    wheel = build(plan, args.cache, args.cuda_home)
    log(f'mmcv wheel ready: {wheel} ({time.time() - t0:.0f} s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
