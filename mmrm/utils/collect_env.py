"""The environment check: what mmrm runs on here, and whether it fits.

In the OpenMMLab style (``mmdet.utils.collect_env``): mmengine's
``collect_env`` (Python, torch and its CUDA build, GPUs, compilers, OpenCV)
plus what mmrm depends on -- the NVIDIA driver and the CUDA version it runs,
numpy, mmcv and whether its compiled ops run on the CPU and on every GPU
(:mod:`mmrm.utils.mmcv_ops`), the mm* versions -- and a verdict: ``fits``,
or each problem with the change that fixes it.

Each installed version is checked against mmrm's ranges (``requirements/``
``runtime.txt``, ``torch.txt``, ``mminstall.txt`` in a source checkout, else
mmrm's installed metadata); the stacks the set-up pins and tests
(``requirements/stack-*.txt``) are named when the environment matches one.

    python mmrm/utils/collect_env.py     # exit 1 when it does not fit
    python mmrm/utils/collect_env.py --json
    python -m mmrm.utils.collect_env     # the same, where mmrm imports

Run as a file (as mmdet's docs run theirs), it needs neither mmrm nor
mmcv to import: an environment where ``import mmrm`` fails gets the reason
as a problem, not a traceback.
"""
import os.path as osp
import sys

if __name__ == '__main__':  # run as a file: its folder off sys.path, or
    _HERE = osp.dirname(osp.abspath(__file__))  # markdown.py shadows a package
    sys.path[:] = [p for p in sys.path if osp.abspath(p or '.') != _HERE]

import argparse  # noqa: E402
import importlib.metadata as md  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from collections import OrderedDict  # noqa: E402
from typing import Dict, List, Optional, Tuple  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RANGE_FILES = ('runtime.txt', 'torch.txt', 'mminstall.txt')
STACK_PACKAGES = ('torch', 'torchvision', 'numpy', 'mmcv', 'mmengine',
                  'mmpretrain', 'mmdet', 'mmsegmentation')
# what the verdict's fixes point to
INSTALL_DOC = 'docs/install.md'
MMCV_FIX = ('install mmcv 2.1.0 with its ops built for this torch: `mim '
            'install mmcv==2.1.0` (OpenMMLab\'s wheel for your torch/CUDA) '
            f'or the set-up\'s build ({INSTALL_DOC})')


def _requirement(line: str):
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover (pip's copy)
        from pip._vendor.packaging.requirements import Requirement
    return Requirement(line)


def mmrm_ranges() -> List[str]:
    """mmrm's requirement lines: the source checkout's ``requirements/``
    files (current even when the installed metadata is older), else the
    installed metadata (extras ``torch`` and ``mim`` included)."""
    folder = osp.join(ROOT, 'requirements')
    if all(osp.isfile(osp.join(folder, f)) for f in RANGE_FILES):
        lines = []
        for name in RANGE_FILES:
            with open(osp.join(folder, name)) as f:
                lines += [ln.partition('#')[0].strip() for ln in f]
        return [ln for ln in lines if ln]
    lines = []
    for req in md.requires('mmrm') or []:
        text, _, marker = req.partition(';')
        extra = re.search(r'extra\s*==\s*"(\w+)"', marker)
        if extra is None or extra.group(1) in ('torch', 'mim'):
            lines.append(text.strip())
    return lines


def tested_stacks() -> Dict[str, Dict[str, str]]:
    """``{stack: {package: version}}`` of ``requirements/stack-*.txt``
    (empty outside a source checkout)."""
    stacks, folder = {}, osp.join(ROOT, 'requirements')
    for name in ('latest', 'openmmlab'):
        pins, todo = {}, [f'stack-{name}.txt']
        while todo:
            path = osp.join(folder, todo.pop())
            if not osp.isfile(path):
                break
            with open(path) as f:
                for line in f:
                    line = line.partition('#')[0].strip()
                    if line.startswith('-r'):
                        todo.append(line[2:].strip())
                    elif '==' in line:
                        pkg, _, ver = line.partition('==')
                        pins[pkg.strip().lower()] = ver.strip()
        if pins:
            stacks[name] = pins
    return stacks


def installed(package: str) -> Optional[str]:
    try:
        return md.version(package)
    except md.PackageNotFoundError:
        return None


def driver_info() -> Optional[dict]:
    """The NVIDIA driver (``nvidia-smi``): None without it, ``{'error'}``
    when it fails, else its version, the CUDA version it runs and the GPUs.
    (scripts/stacks.py reads the same before mmrm is installed.)"""
    smi = shutil.which('nvidia-smi')
    if smi is None:
        return None
    try:
        head = subprocess.run([smi], capture_output=True, text=True,
                              timeout=30)
        gpus = subprocess.run([smi, '--query-gpu=name', '--format=csv,'
                               'noheader'], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return dict(error=f'{type(e).__name__}: {e}')
    if head.returncode:
        said = (head.stdout + head.stderr).strip().splitlines()
        return dict(error=said[0] if said else f'exit {head.returncode}')
    version = re.search(r'Driver Version:\s*([\d.]+)', head.stdout)
    cuda = re.search(r'CUDA Version:\s*(\d+\.\d+)', head.stdout)
    return dict(version=version and version.group(1),
                cuda=cuda and cuda.group(1),
                gpus=[g.strip() for g in gpus.stdout.splitlines() if g.strip()])


def _ver(text: str) -> Tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r'\d+', text or '')[:2])


def check_ranges(lines: List[str]) -> List[str]:
    """A problem (with its fix) per requirement that is missing or out of
    range."""
    problems = []
    for line in lines:
        req = _requirement(line)
        have = installed(req.name)
        if req.name == 'mmcv' and have is None and installed('mmcv-lite'):
            problems.append(f"mmcv-lite {installed('mmcv-lite')} has no "
                            f'compiled ops (mmdet needs them): {MMCV_FIX}')
        elif have is None:
            problems.append(f'{req.name} is not installed: '
                            + (MMCV_FIX if req.name == 'mmcv' else
                               f"pip install '{line}'"))
        elif not req.specifier.contains(have, prereleases=True):
            fix = MMCV_FIX if req.name == 'mmcv' else (
                f"pip install '{line}'" if req.name not in
                ('torch', 'torchvision') else
                f'install a torch of the supported stacks ({INSTALL_DOC})')
            problems.append(f'{req.name} {have} is outside mmrm\'s range '
                            f'{req.specifier}: {fix}')
    return problems


def check_torch(driver: Optional[dict]) -> Tuple[dict, List[str]]:
    """torch's CUDA build against the driver, and numpy inside torch."""
    import numpy as np
    import torch
    info, problems = {}, []
    built = torch.version.cuda
    gpus = (driver or {}).get('gpus') or []
    info['torch sees GPUs'] = (torch.cuda.device_count()
                               if torch.cuda.is_available() else 0)
    if gpus and not torch.cuda.is_available():
        if built is None:
            problems.append(f'torch {torch.__version__} is a CPU build but '
                            f'this machine has {len(gpus)} NVIDIA GPU(s): '
                            f'install a CUDA build ({INSTALL_DOC})')
        else:
            problems.append(
                f"torch {torch.__version__} needs CUDA {built}, the driver "
                f"{driver.get('version')} runs CUDA {driver.get('cuda')}: "
                'its GPUs are unusable. Install the stack for this driver '
                '(the set-up picks it: `bash scripts/setup_env.sh`; CUDA 12.x '
                'driver: torch 2.1.2+cu121) or update the driver '
                f'({INSTALL_DOC})')
    try:  # torch compiled against numpy 1 cannot exchange arrays with 2
        torch.from_numpy(np.zeros(2, dtype=np.float32))
    except Exception as e:  # noqa: BLE001
        problems.append(f'torch {torch.__version__} cannot use numpy '
                        f"{np.__version__} ({str(e).splitlines()[0]}): pip "
                        "install 'numpy<2'")
    return info, problems


def check_mmcv_ops() -> Tuple[dict, List[str]]:
    """mmcv's ops on the CPU and on every GPU torch sees."""
    import torch
    devices = ['cpu'] + [f'cuda:{i}' for i in range(
        torch.cuda.device_count() if torch.cuda.is_available() else 0)]
    results, problems = {}, []
    try:
        from mmrm.utils.mmcv_ops import MmcvOpsError, check_ops, ops_build
    except Exception as e:  # noqa: BLE001 (check_imports names the cause)
        return {'mmcv ops': f'not checked (import mmrm fails: '
                f'{type(e).__name__})'}, []
    try:
        build = ops_build()
    except Exception as e:  # noqa: BLE001 (an mmcv that does not import)
        return {'mmcv ops': 'unusable'}, [
            f'mmcv does not import ({type(e).__name__}: {e}): {MMCV_FIX}']
    results['mmcv ops build'] = build
    if build == 'missing':
        return results, []  # check_ranges names mmcv-lite / no mmcv
    for device in devices:
        try:
            check_ops(device)
            results[f'mmcv ops on {device}'] = 'ok'
        except MmcvOpsError as e:
            results[f'mmcv ops on {device}'] = 'FAIL'
            problems.append(str(e))
    return results, problems


def check_imports() -> List[str]:
    problems = []
    for module in ('mmengine', 'mmpretrain', 'mmdet', 'mmseg', 'mmrm'):
        try:
            __import__(module)
        except Exception as e:  # noqa: BLE001
            problems.append(f'import {module} fails ({type(e).__name__}: '
                            f'{e}): fix what it names')
    return problems


def matching_stack(versions: Dict[str, Optional[str]]) -> str:
    """The tested stack the installed versions are, if any."""
    for name, pins in tested_stacks().items():
        if all((versions.get(p) or '').split('+')[0] == pins.get(p)
               for p in STACK_PACKAGES if p in pins):
            return name
    return 'none (versions within the ranges, combination not tested)'


def collect_env() -> Tuple['OrderedDict', List[str]]:
    """``(environment, problems)``; no problems = fits."""
    env = OrderedDict()
    try:
        from mmengine.utils.dl_utils import collect_env as collect_base_env
        base = collect_base_env()
    except Exception as e:  # noqa: BLE001 (check_ranges / imports say why)
        import torch
        base = OrderedDict([('Python', sys.version.replace('\n', '')),
                            ('PyTorch', torch.__version__),
                            ('mmengine collect_env', f'failed: {e}')])
    for key, value in base.items():
        if key == 'PyTorch compiling details':
            continue  # pages of build flags; torch's CUDA build instead:
        env[key] = value
    import torch
    env['PyTorch CUDA build'] = torch.version.cuda or 'none (CPU build)'
    driver = driver_info()
    env['NVIDIA driver'] = ('none (nvidia-smi not found)' if driver is None
                            else f"nvidia-smi failed: {driver['error']}"
                            if 'error' in driver else
                            f"{driver['version']}, runs CUDA {driver['cuda']}"
                            f", {len(driver['gpus'])} GPU(s)")
    problems = check_ranges(mmrm_ranges())
    info, more = check_torch(driver)
    env.update(info)
    problems += more
    versions = {p: installed(p) for p in STACK_PACKAGES}
    env['numpy'] = versions['numpy']
    env['mmcv'] = versions['mmcv'] or (
        f"mmcv-lite {installed('mmcv-lite')}" if installed('mmcv-lite')
        else 'not installed')
    if versions['mmcv']:
        info, more = check_mmcv_ops()
        env.update(info)
        problems += more
    for pkg in ('mmengine', 'mmpretrain', 'mmdet', 'mmsegmentation'):
        env[pkg] = versions[pkg] or 'not installed'
    env['mmrm'] = installed('mmrm') or 'not installed (source tree)'
    problems += check_imports()
    env['tested stack'] = matching_stack(versions)
    return env, problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args(argv)
    env, problems = collect_env()
    if args.json:
        print(json.dumps(dict(env=env, problems=problems,
                              verdict='fits' if not problems else
                              'does not fit'), indent=1, default=str))
    else:
        for key, value in env.items():
            print(f'{key}: {value}')
        if problems:
            print(f'Verdict: does not fit ({len(problems)} to change)')
            for i, p in enumerate(problems, 1):
                print(f'  {i}. {p}')
        else:
            print('Verdict: fits')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
