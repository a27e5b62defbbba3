"""The environment check (mmrm/utils/collect_env.py): it says "fits" for
the environment the tests run in (a set-up venv of either stack), names
each problem with its fix, and still reports when mmrm cannot import."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmrm.utils import collect_env as ce

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SCRIPT = osp.join(ROOT, 'mmrm', 'utils', 'collect_env.py')


def run_check(env=None):
    return subprocess.run([sys.executable, SCRIPT], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)


def test_this_environment_fits_with_ops_checked_on_every_device():
    out = run_check()
    assert out.returncode == 0, out.stdout + out.stderr
    lines = dict(line.split(': ', 1) for line in out.stdout.splitlines()
                 if ': ' in line and not line.startswith(' '))
    assert lines['Verdict'] == 'fits'
    assert lines['PyTorch'].startswith(torch.__version__.split('+')[0])
    assert 'NVIDIA driver' in lines and 'tested stack' in lines
    devices = ['cpu'] + [f'cuda:{i}' for i in range(
        torch.cuda.device_count() if torch.cuda.is_available() else 0)]
    for device in devices:
        assert lines[f'mmcv ops on {device}'] == 'ok'


def test_a_broken_mm_package_is_reported_not_raised(tmp_path):
    """An mmdet that does not import (planted first on the path): run as
    a file, the check still prints everything and names the failure."""
    fake = tmp_path / 'mmdet'
    fake.mkdir()
    (fake / '__init__.py').write_text(
        "raise ImportError('planted: mmdet is broken')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path), os.environ.get('PYTHONPATH', ''), ROOT]))
    out = run_check(env)
    assert out.returncode == 1, out.stderr
    assert 'Traceback' not in out.stderr
    assert 'Verdict: does not fit' in out.stdout
    assert 'import mmdet fails (ImportError: planted: mmdet is broken)' in \
        out.stdout
    assert 'PyTorch: ' in out.stdout


RANGES = ['torch>=2.1.0', 'mmcv>=2.0.0,<2.2.0', 'mmdet>=3.3.0,<4.0.0',
          'numpy']


@pytest.mark.parametrize('have,problem', [
    ({}, None),
    (dict(torch='2.0.1'), "torch 2.0.1 is outside mmrm's range >=2.1.0"),
    (dict(mmcv=None, **{'mmcv-lite': '2.1.0'}),
     'mmcv-lite 2.1.0 has no compiled ops'),
    (dict(mmcv='2.2.0'), "mmcv 2.2.0 is outside mmrm's range <2.2.0,>=2.0.0"),
    (dict(mmdet=None), "mmdet is not installed: pip install "
     "'mmdet>=3.3.0,<4.0.0'"),
])
def test_each_out_of_range_package_is_named_with_its_fix(monkeypatch, have,
                                                         problem):
    versions = {'torch': '2.1.2+cu121', 'mmcv': '2.1.0', 'mmcv-lite': None,
                'mmdet': '3.3.0', 'numpy': '1.26.4', **have}
    monkeypatch.setattr(ce, 'installed', versions.get)
    problems = ce.check_ranges(RANGES)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith(problem)
        if 'mmcv' in problem:
            assert 'mim install mmcv==2.1.0' in problems[0]


def test_gpus_that_torch_cannot_use_name_driver_torch_and_the_fix(
        monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(torch.version, 'cuda', '13.0')
    driver = dict(version='550.54.15', cuda='12.4', gpus=['NVIDIA A100'])
    _, problems = ce.check_torch(driver)
    assert len(problems) == 1
    assert 'needs CUDA 13.0, the driver 550.54.15 runs CUDA 12.4' in \
        problems[0]
    assert 'torch 2.1.2+cu121' in problems[0]
    monkeypatch.setattr(torch.version, 'cuda', None)
    _, problems = ce.check_torch(driver)
    assert 'is a CPU build but this machine has 1 NVIDIA GPU' in problems[0]
    _, problems = ce.check_torch(None)  # no GPU: nothing to say
    assert problems == []


def test_a_numpy_torch_cannot_use_asks_for_numpy_1(monkeypatch):
    def broken(_):
        raise RuntimeError('Numpy is not available')
    monkeypatch.setattr(torch, 'from_numpy', broken)
    _, problems = ce.check_torch(None)
    assert problems and "pip install 'numpy<2'" in problems[0]
