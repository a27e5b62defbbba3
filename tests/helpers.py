"""Small builders shared by the tests."""
import importlib.util
import os
import os.path as osp
import re
import sys
import warnings

import pytest
import torch
from mmpretrain.structures import DataSample

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def cls_batch(labels, height, width, channels=3, seed=0, dtype=torch.uint8):
    """A data batch as a dataloader gives it: uint8 images + DataSamples."""
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, 256, (len(labels), channels, height, width),
                           generator=g).to(dtype)
    samples = [DataSample().set_gt_label(int(l)) for l in labels]
    return {'inputs': inputs, 'data_samples': samples}


def load_tool(path):
    """A command-line script of the repository as a module, in-process
    (``path`` relative to the root, e.g. ``'tools/train.py'``)."""
    name = 'mmrm_tool_' + osp.splitext(path)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FixedRng:
    """A stand-in for ``random.Random`` that makes ``sample_box`` draw a
    chosen box: ``uniform`` returns ``r``; ``randrange`` returns the column
    centre ``cx`` then the row centre ``cy`` (sample_box's order)."""

    def __init__(self, r, cx, cy):
        self.r, self.cx, self.cy = r, cx, cy
        self.calls = []

    def uniform(self, a, b):
        self.calls.append(('uniform', a, b))
        return self.r

    def randrange(self, n):
        self.calls.append(('randrange', n))
        return self.cx if len(self.calls) % 3 == 2 else self.cy


def _cpu_fp16_autocast() -> bool:
    try:
        with torch.autocast('cpu', dtype=torch.float16):
            pass
    except RuntimeError:  # torch 2.1: "AutocastCPU only support Bfloat16"
        return False
    return True


#: float16 autocast on the CPU (torch 2.1 has bfloat16 only)
CPU_FP16_AUTOCAST = _cpu_fp16_autocast()
needs_cpu_fp16_autocast = pytest.mark.skipif(
    not CPU_FP16_AUTOCAST, reason=f'torch {torch.__version__} has no '
    'float16 autocast on the CPU (bfloat16 only)')


class CpuGradScaler:
    """``torch.amp.GradScaler('cpu')``'s arithmetic for torch < 2.3, which
    has no CPU GradScaler (its CUDA one asserts CUDA tensors; its kernels
    have no CPU version): scale the loss; unscale the gradients once per
    step, noting any inf/nan; skip ``optimizer.step`` then; ``update``:
    back off after a skipped step, grow after ``growth_interval`` good
    ones (torch's defaults)."""

    def __init__(self, init_scale=2.0**16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000):
        self._scale, self._growth_tracker = float(init_scale), 0
        self._growth, self._backoff = growth_factor, backoff_factor
        self._interval = growth_interval
        self._unscaled = self._found_inf = False

    def is_enabled(self):
        return True

    def get_scale(self):
        return self._scale

    def scale(self, outputs):
        return outputs * self._scale

    def unscale_(self, optimizer):
        if self._unscaled:
            raise RuntimeError('unscale_() has already been called on this '
                               'optimizer since the last update().')
        found = False
        for group in optimizer.param_groups:
            for p in group['params']:
                if p.grad is not None:
                    p.grad.mul_(1.0 / self._scale)
                    found = found or not bool(torch.isfinite(p.grad).all())
        self._unscaled, self._found_inf = True, found

    def step(self, optimizer, *args, **kwargs):
        if not self._unscaled:
            self.unscale_(optimizer)
        return None if self._found_inf else optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        if new_scale is not None:
            self._scale = float(new_scale)
        elif self._found_inf:
            self._scale *= self._backoff
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._interval:
                self._scale *= self._growth
                self._growth_tracker = 0
        self._unscaled = self._found_inf = False

    def state_dict(self):
        return dict(scale=self._scale, growth_factor=self._growth,
                    backoff_factor=self._backoff,
                    growth_interval=self._interval,
                    _growth_tracker=self._growth_tracker)

    def load_state_dict(self, state):
        self._scale, self._growth = state['scale'], state['growth_factor']
        self._backoff = state['backoff_factor']
        self._interval = state['growth_interval']
        self._growth_tracker = state['_growth_tracker']


def cpu_grad_scaler():
    """torch's CPU GradScaler where it has one (torch >= 2.3), else
    :class:`CpuGradScaler`."""
    if hasattr(torch.amp, 'GradScaler'):
        return torch.amp.GradScaler('cpu')
    return CpuGradScaler()


def amp_optim_wrapper(params, dtype, monkeypatch, lr=0.01):
    """mmengine's ``AmpOptimWrapper`` (the ImageNet configs' wrapper) on the
    CPU. Its constructor asserts a GPU (patched for the call) and the CUDA
    GradScaler it makes disables itself without CUDA, so it gets a CPU
    GradScaler (:func:`cpu_grad_scaler`): same scaling, same skip of a step
    with inf/nan gradients.
    mmengine's ``autocast`` allows only bf16 on the CPU; for
    ``dtype='float16'`` it is replaced by ``torch.autocast('cpu', float16)``
    (on CUDA it calls ``torch.autocast('cuda', float16)``)."""
    from mmengine.optim import AmpOptimWrapper
    from mmengine.optim.optimizer import amp_optimizer_wrapper
    from mmengine.runner import amp
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available', lambda: True)
    if dtype == 'float16':
        monkeypatch.setattr(amp, 'autocast', lambda dtype=None, cache_enabled=None:
                            torch.autocast('cpu', dtype=dtype, cache_enabled=cache_enabled))
    with warnings.catch_warnings():  # "CUDA is not available. Disabling."
        warnings.simplefilter('ignore')
        wrapper = AmpOptimWrapper(optimizer=torch.optim.SGD(params, lr=lr),
                                  dtype=dtype)
    wrapper.loss_scaler = cpu_grad_scaler()
    return wrapper


#: libraries whose import takes seconds; argument handling must not need them
HEAVY_MODULES = ('torch', 'mmengine', 'mmcv', 'mmdet', 'mmseg', 'mmpretrain',
                 'mmrm')
_RUN_SCRIPT = '''
import os, runpy, sys
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
try:
    runpy.run_path(sys.argv[0], run_name='__main__')
finally:
    print('HEAVY-IMPORTS', sorted(m for m in {heavy!r} if m in sys.modules),
          file=sys.stderr)
'''


def run_script(path, *argv, timeout=120):
    """Run a repository script as ``python path argv...`` does, in the
    repository root; returns ``(returncode, stdout, stderr, heavy)`` where
    ``heavy`` lists the :data:`HEAVY_MODULES` it imported."""
    import subprocess
    import sys
    code = _RUN_SCRIPT.format(heavy=HEAVY_MODULES)
    proc = subprocess.run(
        [sys.executable, '-c', code, osp.join(ROOT, path), *argv], cwd=ROOT,
        capture_output=True, text=True, timeout=timeout)
    err, _, tail = proc.stderr.rpartition('HEAVY-IMPORTS ')
    heavy = eval(tail.strip()) if tail.strip().startswith('[') else None
    return proc.returncode, proc.stdout, err, heavy


# ------------------------------------------------- set-up scripts, sandboxed
# What a set-up script may take from the caller's environment. Everything
# else (MMRM_STACK, MMRM_MMCV_CUDA, MMRM_CACHE, MMRM_PYTHON, CUDA_HOME,
# TORCH_CUDA_ARCH_LIST, PIP_* ...) is the caller's choice, not the test's.
_KEEP = ('LANG', 'LC_ALL', 'TMPDIR')


def setup_script_env(path_first=None, home=None, **kw):
    """A clean environment for a set-up script or its deciders: only
    ``_KEEP`` of this process's, ``PATH`` without any real ``nvidia-smi``
    or ``nvcc`` (this machine's may have them), ``path_first`` first,
    ``HOME`` (pip's and mmrm's caches) at ``home``, then ``kw``."""
    env = {k: os.environ[k] for k in _KEEP if k in os.environ}
    dirs = [d for d in os.environ.get('PATH', '').split(os.pathsep)
            if d and not any(osp.exists(osp.join(d, tool))
                             for tool in ('nvidia-smi', 'nvcc'))]
    env['PATH'] = os.pathsep.join(([path_first] if path_first else []) + dirs)
    env['HOME'] = str(home) if home else os.environ.get('HOME', '/')
    env.update(kw)
    return env


GUARD_EXIT = 97


def guarded_python(folder):
    """A ``python`` for ``MMRM_PYTHON`` that runs only the deciders
    (``scripts/mmcv_plan.py``, ``scripts/stacks.py``) and fails at once,
    exit ``GUARD_EXIT``, on anything else setup_env.sh would run next
    (``-m venv``, then pip and the mmcv build): a test of a stop can then
    never download or build, even when the stop is broken."""
    path = osp.join(str(folder), 'guarded-python')
    with open(path, 'w') as f:
        f.write('#!/bin/sh\ncase "$1" in\n'
                '  */scripts/mmcv_plan.py|*/scripts/stacks.py) '
                f'exec "{sys.executable}" "$@";;\nesac\n'
                'echo "test guard: set-up went on past the stop: python $*" '
                f'>&2\nexit {GUARD_EXIT}\n')
    os.chmod(path, 0o755)
    return path


def safe_globals_restored():
    """Generator for a module fixture: torch's weights-only allow-list as it
    was before the module (``tools/train.py`` and training allow-list
    mmengine's checkpoint types process-wide; other tests must see torch's
    default). torch < 2.4 has no allow-list: nothing to undo."""
    if not hasattr(torch.serialization, 'get_safe_globals'):
        yield
        return
    saved = torch.serialization.get_safe_globals()
    yield
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(saved)


# --------------------------------------------- launched multi-process runs
# A rank killed by a signal inside C++ (gloo's TCP transport under a loaded
# 2-core machine, seen once in CI: SIGABRT, no Python traceback) is not an
# error mmrm's Python code can raise; such a run is retried once and the
# first crash is shown as a warning. Any other failure fails at once.
_CRASH = re.compile(r'Signal (6|7|11) \((SIGABRT|SIGBUS|SIGSEGV)\) received')


def rank_crashed_in_native_code(out: str) -> bool:
    """Whether torchrun's failure report names a rank killed by SIGABRT,
    SIGBUS or SIGSEGV (not a Python exception, not a timeout)."""
    return bool(_CRASH.search(out))


def failure_excerpt(out: str, head: int = 4000, tail: int = 4000) -> str:
    """What to show of a failed launch: from the first native-crash marker
    (``Fatal Python error``, ``terminate called``) or Python traceback on,
    then the end; without Python's one-line list of loaded extension
    modules, which alone can fill a tail."""
    lines = [ln for ln in out.splitlines()
             if not ln.lstrip().startswith('Extension modules:')]
    text = '\n'.join(lines)
    starts = [text.find(m) for m in
              ('Fatal Python error', 'terminate called', 'Traceback')]
    starts = [s for s in starts if s >= 0]
    if not starts or len(text) <= head + tail:
        return text[-(head + tail):]
    first = min(starts)
    if first >= len(text) - tail:
        return text[-(head + tail):]
    return text[first:first + head] + '\n[...]\n' + text[-tail:]


def free_port() -> int:
    """A TCP port free on loopback now (for torchrun's rendezvous)."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_launches(cmds, cwd, envs, timeout):
    """Run launches (torchrun, or the nodes of one multi-node run) at once,
    stdout and stderr together; all are retried once (on a new ``PORT``
    where one was given) after one of them reports
    :func:`rank_crashed_in_native_code`, with a warning that shows the
    crash. Returns ``[(returncode, output), ...]``."""
    import subprocess
    envs = [dict(env) for env in envs]
    for attempt in (1, 2):
        procs = [subprocess.Popen(cmd, cwd=cwd, env=env, text=True,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
                 for cmd, env in zip(cmds, envs)]
        results = []
        for proc in procs:
            out = proc.communicate(timeout=timeout)[0]
            results.append((proc.returncode, out))
        crashed = [out for rc, out in results
                   if rc != 0 and rank_crashed_in_native_code(out)]
        if attempt == 2 or not crashed:
            return results
        warnings.warn(f'{cmds[0][:3]}: a rank crashed in native code; '
                      f'retrying once. The crash:\n'
                      f'{failure_excerpt(crashed[0])}')
        port = str(free_port())
        for env in envs:
            if 'PORT' in env:
                env['PORT'] = port


def run_launch(cmd, cwd, env, timeout):
    """:func:`run_launches` of one command: ``(returncode, output)``."""
    (result, ) = run_launches([cmd], cwd, [env], timeout)
    return result


# ------------------------------------------------------------ Slurm stand-in
# What srun does for the tasks of a job on one machine (the launch tests):
FAKE_SRUN = r'''#!/usr/bin/env bash
# stand-in for srun: read --ntasks / --ntasks-per-node, skip the other
# options, start every task at once with the Slurm variables, wait for all;
# with MARKER set, first write the arguments there
[[ -z "${MARKER:-}" ]] || echo "$@" > "$MARKER"
ntasks=1; per_node=1
while [[ $# -gt 0 && $1 == -* ]]; do
  case $1 in
    --ntasks=*) ntasks=${1#*=};; --ntasks-per-node=*) per_node=${1#*=};;
    -p) shift;;
  esac
  shift
done
pids=()
for ((i = 0; i < ntasks; i++)); do
  SLURM_PROCID=$i SLURM_NTASKS=$ntasks SLURM_LOCALID=$((i % per_node)) \
  SLURM_NODEID=$((i / per_node)) SLURM_NODELIST=localhost "$@" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
exit $status
'''


def write_fake_srun(bin_dir) -> str:
    """:data:`FAKE_SRUN` as ``bin_dir/srun``, executable; returns its path."""
    path = osp.join(str(bin_dir), 'srun')
    with open(path, 'w') as f:
        f.write(FAKE_SRUN)
    os.chmod(path, 0o755)
    return path
