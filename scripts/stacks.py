"""The two supported stacks and their pins, read from
``requirements/stack-<name>.txt`` (the one place each stack is pinned).

A stack file is a pip requirements file (``-r`` includes allowed) that the
set-up (:mod:`setup_venv`) reads into install groups:

- ``torch``: torch and torchvision (installed first);
- ``build``: numpy, setuptools, wheel, ninja (mmcv's build needs them);
- ``mmcv``: the version compiled by the set-up (:mod:`mmcv_build`);
- ``no_deps``: lines tagged ``# no-deps``;
- ``pins``: everything else;
- ``constraints``: every line but mmcv's, passed to each ``pip install``
  (``-c``) so that no later install moves a pinned package (e.g. OpenCV
  pulling numpy 2 into the numpy-1 stack).

Which stack a machine gets (:func:`choose_stack`) follows its NVIDIA driver
(:func:`machine_facts.driver_facts`: the CUDA version ``nvidia-smi``
reports).
"""
import os
import os.path as osp
import re
from typing import Dict, List, Tuple

from machine_facts import driver_facts

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
REQUIREMENTS = osp.join(ROOT, 'requirements')

#: per stack: the CUDA version of its torch build (pip's wheel), the oldest
#: NVIDIA driver branch that runs it, and whether mmcv 2.1.0's ``-std=c++17``
#: must become ``-std=c++20`` to compile against that torch's headers
STACKS = {
    'latest': dict(cuda='13.0', driver='580', cxx20=True),
    'openmmlab': dict(cuda='12.1', driver='530', cxx20=False),
}
DEFAULT = 'latest'
BUILD_TOOLS = ('numpy', 'setuptools', 'wheel', 'ninja')
_NAME = re.compile(r'^([A-Za-z0-9][A-Za-z0-9._-]*)')


def requirement_name(line: str) -> str:
    """``'opencv-python<4.11'`` -> ``'opencv-python'`` (normalised)."""
    m = _NAME.match(line.strip())
    if not m:
        raise ValueError(f'not a requirement: {line!r}')
    return re.sub(r'[-_.]+', '-', m.group(1)).lower()


def read_lines(path: str) -> List[tuple]:
    """``[(requirement, tags), ...]`` of a requirements file, following
    ``-r`` includes; ``tags`` are the words of a trailing ``# comment``."""
    out = []
    with open(path) as f:
        for raw in f:
            text, _, comment = raw.partition('#')
            text = text.strip()
            if not text:
                continue
            if text.startswith('-r'):
                out += read_lines(osp.join(osp.dirname(path),
                                           text[2:].strip()))
                continue
            out.append((text, comment.split()))
    return out


def read_stack(name: str, folder: str = REQUIREMENTS) -> Dict:
    """The install groups of stack ``name`` (see the module docstring)."""
    if name not in STACKS:
        raise ValueError(f'unknown stack {name!r}: choose one of '
                         f"{', '.join(STACKS)}")
    groups = dict(torch=[], build=[], pins=[], no_deps=[], constraints=[],
                  mmcv=None)
    for req, tags in read_lines(osp.join(folder, f'stack-{name}.txt')):
        key = requirement_name(req)
        if key == 'mmcv':
            groups['mmcv'] = req.partition('==')[2]
            continue
        groups['constraints'].append(req)
        if 'no-deps' in tags:
            groups['no_deps'].append(req)
        elif key in ('torch', 'torchvision'):
            groups['torch'].append(req)
        elif key in BUILD_TOOLS:
            groups['build'].append(req)
        else:
            groups['pins'].append(req)
    if not groups['mmcv'] or len(groups['torch']) != 2:
        raise ValueError(f'stack-{name}.txt must pin torch, torchvision and '
                         'mmcv (==)')
    return groups


def pinned_version(name: str, package: str,
                   folder: str = REQUIREMENTS) -> str:
    """The ``==`` version of ``package`` in stack ``name``."""
    for req, _ in read_lines(osp.join(folder, f'stack-{name}.txt')):
        if requirement_name(req) == package and '==' in req:
            return req.partition('==')[2].strip()
    raise KeyError(f'stack-{name}.txt pins no {package}')


# ---------------------------------------------------------------- choice
class PlanError(ValueError):
    """The environment asks for a stack or an mmcv build this machine
    cannot have; set-up stops with this message."""


def _version(text: str) -> Tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r'\d+', text))


def choose_stack(facts: dict, env=None) -> Tuple[str, str, List[str]]:
    """``(stack, reason, notes)`` for the machine (``facts['driver']``, from
    :func:`machine_facts.driver_facts`) under ``env`` (``MMRM_STACK`` overrides).

    Raises:
        PlanError: an unknown ``MMRM_STACK``, or a driver too old for every
            stack (before anything is downloaded).
    """
    env = os.environ if env is None else env
    drv = facts.get('driver')
    forced = env.get('MMRM_STACK', '')
    if forced:
        if forced not in STACKS:
            raise PlanError(f"MMRM_STACK must be {' or '.join(STACKS)} (or "
                            f'unset), got {forced!r}')
        notes = []
        need = STACKS[forced]['cuda']
        if drv and drv.get('cuda') and _version(drv['cuda']) < _version(need):
            notes.append(f"the NVIDIA driver runs CUDA {drv['cuda']}: the "
                         f'{forced} stack\'s torch (CUDA {need}) will not use '
                         'its GPUs')
        return forced, f'MMRM_STACK={forced}', notes
    if drv is None:
        return DEFAULT, 'no NVIDIA driver (nvidia-smi not found)', []
    if drv.get('error'):
        return DEFAULT, f"nvidia-smi failed ({drv['error']})", [
            'no usable GPU; if this machine has one, fix its driver '
            '(nvidia-smi must work) and set up again, or set MMRM_STACK']
    cuda = drv.get('cuda')
    by_cuda = sorted(STACKS, key=lambda n: _version(STACKS[n]['cuda']),
                     reverse=True)
    for i, name in enumerate(by_cuda):
        need = STACKS[name]['cuda']
        if cuda and _version(cuda) >= _version(need):
            newer = ''.join(f", older than {STACKS[n]['cuda']} ({n})"
                            for n in by_cuda[:i])
            return name, (f"NVIDIA driver {drv['version']} runs CUDA {cuda}"
                          f'{newer}: the {name} stack (CUDA {need})'), []
    needs = ', '.join(f"{n}: CUDA {STACKS[n]['cuda']}, driver >= "
                      f"{STACKS[n]['driver']}" for n in by_cuda)
    raise PlanError(
        f"NVIDIA driver {drv.get('version') or '(unknown version)'} runs "
        f"CUDA {cuda or '(not reported: a very old driver)'}, too old for "
        f'both stacks ({needs}). Update the driver; or set MMRM_STACK=<stack> '
        'to install one anyway (its torch will not use the GPU)')


def venv_path(stack: str, env=None, root: str = ROOT) -> str:
    """``.venv`` for the machine's own stack (what :func:`choose_stack`
    gives without ``MMRM_STACK``), ``.venv-<stack>`` for another one, so
    that trying the other stack leaves the machine's venv as it is."""
    env = dict(os.environ if env is None else env)
    env.pop('MMRM_STACK', None)
    try:
        own, _, _ = choose_stack(dict(driver=driver_facts(env)), env)
    except PlanError:  # a driver too old for both: no stack of its own
        own = stack
    return osp.join(root, '.venv' if stack == own else f'.venv-{stack}')


if __name__ == '__main__':
    import sys
    if sys.argv[1:2] != ['venv'] or len(sys.argv) != 3:
        sys.exit('usage: python scripts/stacks.py venv STACK  (prints the '
                 'default venv path of STACK)')
    print(venv_path(sys.argv[2]))
