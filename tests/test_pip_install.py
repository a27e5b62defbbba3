"""``pip install -e .`` into a working OpenMMLab environment replaces none
of its packages: pip's own resolver in dry-run mode (``pip install
--dry-run --report``) against the environment this test runs in (a set-up
venv of either stack: a working OpenMMLab environment).

- Offline and honest: ``--no-index`` leaves pip only what is installed. pip
  keeps an installed version that fits a requirement (no ``--upgrade``), so
  with or without an index it installs nothing else when everything fits;
  where a requirement does not fit, it would fetch another version, which
  with ``--no-index`` is an error (the last test shows that the check
  catches such a range).
- The environment is seen through a throwaway venv whose site-packages
  lists the running interpreter's (a ``.pth`` file): pip never runs against
  the environment itself. mmrm is a metadata-only copy of the checkout
  (``setup.py``, ``requirements/``, ``mmrm/version.py``), so nothing is
  written into the checkout.
"""
import json
import re
import os.path as osp
import shutil
import site
import subprocess
import sys
from importlib.metadata import version

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def project_copy(tmp_path, extra_requirement=None):
    proj = tmp_path / 'mmrm-src'
    shutil.copytree(osp.join(ROOT, 'requirements'), proj / 'requirements')
    shutil.copy(osp.join(ROOT, 'setup.py'), proj / 'setup.py')
    (proj / 'mmrm').mkdir()
    shutil.copy(osp.join(ROOT, 'mmrm', 'version.py'),
                proj / 'mmrm' / 'version.py')
    (proj / 'mmrm' / '__init__.py').write_text('')
    if extra_requirement:
        with open(proj / 'requirements' / 'runtime.txt', 'a') as f:
            f.write(extra_requirement + '\n')
    return proj


@pytest.fixture(scope='module')
def viewer(tmp_path_factory):
    """A venv (no packages of its own) that sees this environment's."""
    path = tmp_path_factory.mktemp('viewer') / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip',
                    str(path)], check=True)
    purelib = subprocess.run(
        [str(path / 'bin' / 'python'), '-c',
         'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
        capture_output=True, text=True, check=True).stdout.strip()
    with open(osp.join(purelib, 'this-environment.pth'), 'w') as f:
        f.write('\n'.join(site.getsitepackages()) + '\n')
    return str(path / 'bin' / 'python')


def dry_run(python, tmp_path, target):
    report = tmp_path / 'report.json'
    out = subprocess.run(
        [python, '-m', 'pip', 'install', '--dry-run', '--report',
         str(report), '--no-index', '--no-build-isolation',
         '--disable-pip-version-check', '-e', target],
        capture_output=True, text=True, timeout=300)
    installs = None
    if out.returncode == 0:
        installs = sorted(item['metadata']['name'] for item in
                          json.loads(report.read_text())['install'])
    return out, installs


@pytest.mark.parametrize('extras', ['', '[torch,mim]'])
def test_editable_install_into_this_environment_replaces_nothing(
        viewer, tmp_path, extras):
    """Only mmrm itself would be installed: torch, torchvision, numpy, mmcv
    and the mm* packages of this environment (and everything they need)
    are kept, with the torch/mmcv ranges (extras) asked for too."""
    proj = project_copy(tmp_path)
    out, installs = dry_run(viewer, tmp_path, f'{proj}{extras}')
    assert out.returncode == 0, out.stderr[-2000:]
    assert installs == ['mmrm'], installs


def test_the_dry_run_catches_a_range_that_would_replace_a_package(
        viewer, tmp_path):
    """A range this environment's numpy does not fit (as ``numpy>=2``
    would be for the openmmlab stack): pip needs another numpy, which the
    check reports (offline: it cannot find one)."""
    have = version('numpy')
    proj = project_copy(tmp_path, f'numpy>{have}')
    out, installs = dry_run(viewer, tmp_path, str(proj))
    assert out.returncode != 0 and installs is None
    assert re.search(rf'mmrm \S+ depends on numpy>{re.escape(have)}',
                     out.stdout + out.stderr)
