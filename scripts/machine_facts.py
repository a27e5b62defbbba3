"""The machine's facts that the stack and the mmcv build are decided on:
the NVIDIA driver (``nvidia-smi``: its version and the CUDA version it
runs), the GPUs and their compute capabilities, the CUDA compilers on the
system, cores, memory, and the installed torch (:func:`probe`). Gathering
only: the decisions are pure functions of these facts
(:func:`stacks.choose_stack`, :func:`mmcv_plan.plan`).
"""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
from typing import List, Optional


def _smi(env) -> Optional[str]:
    return shutil.which('nvidia-smi', path=env.get('PATH'))


def parse_smi_header(text: str) -> dict:
    """``{'version': '535.104.05', 'cuda': '12.2'}`` from ``nvidia-smi``'s
    banner ("Driver Version: 535.104.05   CUDA Version: 12.2"); ``cuda`` is
    None for drivers that do not print it (older than CUDA 10)."""
    version = re.search(r'Driver Version:\s*([\d.]+)', text)
    cuda = re.search(r'CUDA Version:\s*(\d+\.\d+)', text)
    return dict(version=version.group(1) if version else None,
                cuda=cuda.group(1) if cuda else None)


def driver_facts(env=None) -> Optional[dict]:
    """The NVIDIA driver as ``nvidia-smi`` reports it: None without
    ``nvidia-smi``; ``{'error': ...}`` when it fails (no driver loaded, a
    driver/library mismatch); else :func:`parse_smi_header`."""
    env = os.environ if env is None else env
    smi = _smi(env)
    if smi is None:
        return None
    try:
        out = subprocess.run([smi], capture_output=True, text=True,
                             timeout=60, env=dict(env))
    except (OSError, subprocess.SubprocessError) as e:
        return dict(error=f'{type(e).__name__}: {e}')
    if out.returncode != 0:
        said = (out.stdout + out.stderr).strip().splitlines()
        return dict(error=f"exit {out.returncode}: "
                    f"{said[0] if said else 'no output'}")
    return parse_smi_header(out.stdout)


def nvcc_version(nvcc: str) -> Optional[str]:
    """``'13.0'`` from ``nvcc --version`` ("... release 13.0, V13.0.88")."""
    try:
        out = subprocess.run([nvcc, '--version'], capture_output=True,
                             text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'release (\d+\.\d+)', out)
    return m.group(1) if m else None


def system_nvccs(env) -> List[dict]:
    """The CUDA compilers the system offers, in the order torch looks:
    ``$CUDA_HOME/bin/nvcc``, ``nvcc`` on ``PATH``, ``/usr/local/cuda``.
    A usable one sits in a toolkit with ``include/cuda_runtime.h``."""
    paths = []
    if env.get('CUDA_HOME'):
        paths.append(osp.join(env['CUDA_HOME'], 'bin', 'nvcc'))
    which = shutil.which('nvcc', path=env.get('PATH'))
    if which:
        paths.append(which)
    paths.append('/usr/local/cuda/bin/nvcc')
    found, seen = [], set()
    for path in paths:
        real = osp.realpath(path)
        if real in seen or not os.access(real, os.X_OK):
            continue
        seen.add(real)
        home = osp.dirname(osp.dirname(real))
        found.append(dict(nvcc=path, version=nvcc_version(path),
                          cuda_home=home, headers=osp.isfile(
                              osp.join(home, 'include', 'cuda_runtime.h'))))
    return found


def smi_gpus(env=None) -> List[dict]:
    """GPUs as ``nvidia-smi`` lists them (seen even when torch cannot use
    them, e.g. a driver older than torch's CUDA)."""
    env = os.environ if env is None else env
    if _smi(env) is None:
        return []
    try:
        out = subprocess.run(
            [_smi(env), '--query-gpu=name,compute_cap',
             '--format=csv,noheader'], capture_output=True, text=True,
            timeout=60)
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = []
    for line in out.stdout.splitlines() if out.returncode == 0 else []:
        name, _, cap = line.rpartition(',')
        if re.fullmatch(r'\d+\.\d+', cap.strip()):
            gpus.append(dict(name=name.strip(), capability=cap.strip()))
    return gpus


def probe(env=None, with_torch: bool = True) -> dict:
    """The facts :func:`plan` decides on. Imports torch unless
    ``with_torch`` is False or torch is not installed (then ``torch`` and
    ``torch_cuda`` are None: enough for :func:`preflight`)."""
    import importlib.metadata as md
    import platform
    env = os.environ if env is None else env
    try:
        if not with_torch:
            raise ImportError
        import torch
    except ImportError:
        torch = None
    gpus = []
    torch_sees_gpu = bool(torch and torch.cuda.is_available())
    for i in range(torch.cuda.device_count() if torch_sees_gpu else 0):
        major, minor = torch.cuda.get_device_capability(i)
        gpus.append(dict(name=torch.cuda.get_device_name(i),
                         capability=f'{major}.{minor}'))
    if not gpus:
        gpus = smi_gpus(env)
    try:
        toolkit = md.version('cuda-toolkit')
    except md.PackageNotFoundError:
        toolkit = None
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (macOS)
        cpus = os.cpu_count() or 1
    mem_gb = None
    if osp.isfile('/proc/meminfo'):
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    mem_gb = int(line.split()[1]) / 2**20
    return dict(torch=torch.__version__.split('+')[0] if torch else None,
                torch_cuda=torch.version.cuda if torch else None,
                cuda_toolkit=toolkit, driver=driver_facts(env),
                gpus=gpus, torch_sees_gpu=torch_sees_gpu,
                system_nvcc=system_nvccs(env), cpus=cpus, mem_gb=mem_gb,
                python=f'cp{sys.version_info[0]}{sys.version_info[1]}',
                machine=platform.machine())
