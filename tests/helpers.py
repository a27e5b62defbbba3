"""Small builders shared by the tests."""
import importlib.util
import os.path as osp
import warnings

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


def amp_optim_wrapper(params, dtype, monkeypatch, lr=0.01):
    """mmengine's ``AmpOptimWrapper`` (the ImageNet configs' wrapper) on the
    CPU. Its constructor asserts a GPU (patched for the call) and the CUDA
    GradScaler it makes disables itself without CUDA, so it gets torch's CPU
    GradScaler: same scaling, same skip of a step with inf/nan gradients.
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
    wrapper.loss_scaler = torch.amp.GradScaler('cpu')
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
