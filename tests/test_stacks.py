"""The two stacks: their pins (requirements/stack-*.txt), the stack each
machine gets from its NVIDIA driver (faked ``nvidia-smi`` outputs), the
early stop for a driver too old for both, the compiler rule of the
``openmmlab`` stack's CUDA build, and the set-up's per-stack installs and
wheel cache (fake pip, fake builds)."""
import os
import os.path as osp
import subprocess
import sys

import pytest
from packaging.requirements import Requirement

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'scripts'))
import machine_facts  # noqa: E402
import mmcv_build  # noqa: E402
import mmcv_plan  # noqa: E402
import setup_venv  # noqa: E402
import stacks  # noqa: E402
from mmcv_plan import PlanError, choose_stack, plan, preflight  # noqa: E402

from helpers import GUARD_EXIT, guarded_python, setup_script_env  # noqa: E402,I100

H100 = dict(name='NVIDIA H100 80GB HBM3', capability='9.0')

# nvidia-smi's banner, as printed by the drivers named
SMI = '''+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI {v:<18} Driver Version: {v:<14} CUDA Version: {cuda:<9}|
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
|   0  NVIDIA H100 80GB HBM3          On  |   00000000:19:00.0 Off |                    0 |
+-----------------------------------------+------------------------+----------------------+'''
DRIVERS = {
    'cuda13': ('580.65.06', '13.0'),
    'cuda13.1': ('590.44.01', '13.1'),
    'cuda12.4': ('550.54.15', '12.4'),
    'cuda12.1': ('530.30.02', '12.1'),
    'cuda12.0': ('525.60.13', '12.0'),
    'cuda11.8': ('520.61.05', '11.8'),
}
FAILING = ("NVIDIA-SMI has failed because it couldn't communicate with the "
           'NVIDIA driver. Make sure that the latest NVIDIA driver is '
           'installed and running.')


def fake_smi(tmp_path, driver=None, fail=False):
    """A folder with an ``nvidia-smi`` that prints ``driver``'s banner (and
    one H100 for ``--query-gpu``), or fails as with no driver loaded."""
    folder = tmp_path / 'smi-bin'
    folder.mkdir(exist_ok=True)
    smi = folder / 'nvidia-smi'
    if fail:
        body = f'echo "{FAILING}"\nexit 9\n'
    else:
        v, cuda = DRIVERS[driver]
        body = ('case "$1" in --query-gpu*) echo "NVIDIA H100 80GB HBM3, '
                f'9.0"; exit 0;; esac\ncat <<"EOF"\n'
                f'{SMI.format(v=v, cuda=cuda)}\nEOF\n')
    smi.write_text('#!/bin/sh\n' + body)
    smi.chmod(0o755)
    return str(folder)


def env_with(path_first=None, **kw):
    """A clean environment (helpers.setup_script_env): none of the caller's
    MMRM_* / CUDA settings, ``PATH`` without any real nvidia-smi or nvcc
    (this machine's may have them), ``path_first`` first."""
    return setup_script_env(path_first, **kw)


def choose(tmp_path, driver=None, fail=False, **env):
    folder = fake_smi(tmp_path, driver, fail) if (driver or fail) else None
    e = env_with(folder, **env)
    return choose_stack(dict(driver=mmcv_plan.driver_facts(e)), e)


# ------------------------------------------------------- driver -> stack
def test_no_gpu_machine_gets_the_latest_stack(tmp_path):
    stack, reason, notes = choose(tmp_path)
    assert stack == 'latest' and 'nvidia-smi not found' in reason


@pytest.mark.parametrize('driver', ['cuda13', 'cuda13.1'])
def test_driver_running_cuda_13_gets_the_latest_stack(tmp_path, driver):
    stack, reason, _ = choose(tmp_path, driver)
    assert stack == 'latest'
    assert f'runs CUDA {DRIVERS[driver][1]}' in reason


@pytest.mark.parametrize('driver', ['cuda12.4', 'cuda12.1'])
def test_driver_running_cuda_12_gets_the_openmmlab_stack(tmp_path, driver):
    stack, reason, _ = choose(tmp_path, driver)
    assert stack == 'openmmlab'
    assert DRIVERS[driver][0] in reason and 'older than 13.0' in reason


@pytest.mark.parametrize('driver', ['cuda12.0', 'cuda11.8'])
def test_driver_too_old_for_both_stops_naming_versions_and_fix(tmp_path,
                                                               driver):
    with pytest.raises(PlanError) as e:
        choose(tmp_path, driver)
    msg = str(e.value)
    assert f'runs CUDA {DRIVERS[driver][1]}, too old for both stacks' in msg
    assert 'driver >= 580' in msg and 'driver >= 530' in msg
    assert 'MMRM_STACK' in msg


def test_failing_nvidia_smi_means_no_usable_gpu_and_says_so(tmp_path):
    stack, reason, notes = choose(tmp_path, fail=True)
    assert stack == 'latest'
    assert "exit 9: NVIDIA-SMI has failed" in reason
    assert 'fix its driver' in notes[0]


def test_mmrm_stack_overrides_the_driver_and_warns_when_it_cannot_run(
        tmp_path):
    assert choose(tmp_path, 'cuda13', MMRM_STACK='openmmlab')[:2] == (
        'openmmlab', 'MMRM_STACK=openmmlab')
    stack, _, notes = choose(tmp_path, 'cuda12.4', MMRM_STACK='latest')
    assert stack == 'latest' and 'will not use its GPUs' in notes[0]
    # a too-old driver does not stop a forced stack (e.g. a build node)
    assert choose(tmp_path, 'cuda11.8', MMRM_STACK='openmmlab')[0] == \
        'openmmlab'
    with pytest.raises(PlanError, match="got 'newest'"):
        choose(tmp_path, 'cuda13', MMRM_STACK='newest')


def fake_cuda_home(tmp_path, release):
    """A CUDA toolkit folder whose nvcc reports ``release``."""
    home = tmp_path / f'cuda-{release}'
    (home / 'bin').mkdir(parents=True)
    (home / 'include').mkdir()
    (home / 'include' / 'cuda_runtime.h').write_text('')
    nvcc = home / 'bin' / 'nvcc'
    nvcc.write_text('#!/bin/sh\necho "Cuda compilation tools, release '
                    f'{release}, V{release}.105"\n')
    nvcc.chmod(0o755)
    return str(home)


def _mmcv_plan_cli(tmp_path, *args, driver=None, fail=False, **env):
    folder = fake_smi(tmp_path, driver, fail) if (driver or fail) else None
    return subprocess.run(
        [sys.executable, osp.join(ROOT, 'scripts', 'mmcv_plan.py'), *args],
        capture_output=True, text=True, env=env_with(folder, **env))


@pytest.mark.parametrize('driver,want', [(None, 'latest'),
                                         ('cuda13', 'latest'),
                                         ('cuda12.4', 'openmmlab')])
def test_mmcv_plan_cli_prints_the_stack_and_the_reason(tmp_path, driver,
                                                       want):
    # a CUDA 12.1 toolkit for the openmmlab stack's CUDA build
    env = dict(CUDA_HOME=fake_cuda_home(tmp_path, '12.1'))
    out = _mmcv_plan_cli(tmp_path, '--stack', driver=driver, **env)
    assert out.returncode == 0 and out.stdout.strip() == want, out.stderr
    out = _mmcv_plan_cli(tmp_path, driver=driver, **env)
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith(f'stack {want} (')
    assert ('nvidia-smi not found' if driver is None else
            f'runs CUDA {DRIVERS[driver][1]}') in first


@pytest.mark.skipif(
    machine_facts.nvcc_version('/usr/local/cuda/bin/nvcc') == '12.1',
    reason='this machine has a CUDA 12.1 compiler in /usr/local/cuda')
def test_mmcv_plan_cli_stops_a_cuda_12_machine_without_a_12_1_compiler(
        tmp_path):
    out = _mmcv_plan_cli(tmp_path, '--stack', driver='cuda12.4')
    assert out.returncode == 2 and 'CUDA 12.1 compiler' in out.stderr
    out = _mmcv_plan_cli(tmp_path, driver='cuda12.4')
    assert out.returncode == 2
    assert out.stdout.startswith('stack openmmlab (')


def test_setup_env_stops_before_creating_or_downloading_anything(tmp_path):
    """A driver too old for both stacks: setup_env.sh exits 2 with the
    reason, and no venv was even created. Sandboxed so that a broken stop
    fails this test in a second instead of setting up for real (a faked H100
    would get a CUDA build of mmcv): a clean environment (the caller's
    MMRM_STACK / MMRM_MMCV_CUDA / MMRM_CACHE / CUDA_HOME do not reach the
    script), HOME and the cache in tmp_path, and a python that runs only the
    deciders (anything after the stop exits at once: helpers.guarded_python),
    with a time limit besides."""
    folder = fake_smi(tmp_path, 'cuda11.8')
    venv, cache = tmp_path / 'venv', tmp_path / 'cache'
    env = env_with(folder, home=tmp_path / 'home', MMRM_VENV=str(venv),
                   MMRM_CACHE=str(cache),
                   MMRM_PYTHON=guarded_python(folder))
    out = subprocess.run(['bash', osp.join(ROOT, 'scripts', 'setup_env.sh')],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode != GUARD_EXIT, (
        'setup_env.sh went on past the stop: ' + out.stderr[-2000:])
    assert out.returncode == 2, out.stderr[-2000:]
    assert 'too old for both stacks' in out.stderr
    assert not venv.exists() and not cache.exists()
    assert not (tmp_path / 'home').exists()


def test_the_sandbox_of_the_setup_env_test_holds_against_the_callers_env(
        tmp_path, monkeypatch):
    """What the test above relies on: the caller's overrides never reach
    the script (MMRM_STACK would turn the stop off, MMRM_MMCV_CUDA=1 force
    a CUDA build), and the guarded python stops anything but the deciders."""
    for k, v in dict(MMRM_STACK='latest', MMRM_MMCV_CUDA='1',
                     MMRM_CACHE='/nowhere', MMRM_PYTHON='/nowhere/python',
                     CUDA_HOME='/nowhere', PIP_INDEX_URL='file:///nowhere',
                     TORCH_CUDA_ARCH_LIST='9.0').items():
        monkeypatch.setenv(k, v)
    env = env_with(str(tmp_path), home=tmp_path)
    assert not any(k.startswith(('MMRM_', 'CUDA', 'PIP_', 'TORCH_'))
                   for k in env)
    py = guarded_python(tmp_path)
    ok = subprocess.run([py, osp.join(ROOT, 'scripts', 'stacks.py'), 'venv',
                         'latest'], capture_output=True, text=True, env=env,
                        timeout=120)
    assert ok.returncode == 0, ok.stderr
    made = tmp_path / 'made'
    out = subprocess.run([py, '-m', 'venv', str(made)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == GUARD_EXIT and not made.exists()


# ------------------------------------------- the openmmlab stack's builds
def facts(stack='latest', gpus=(), nvcc=(), driver=None):
    torch, cuda = {'latest': ('2.14.1', '13.0'),
                   'openmmlab': ('2.1.2', '12.1')}[stack]
    return dict(torch=torch, torch_cuda=cuda,
                cuda_toolkit='13.0.3' if stack == 'latest' else None,
                gpus=list(gpus), torch_sees_gpu=bool(gpus),
                system_nvcc=list(nvcc), cpus=16, mem_gb=128.0,
                python='cp311', machine='x86_64', driver=driver)


def nvcc(version, home):
    return dict(nvcc=f'{home}/bin/nvcc', version=version, cuda_home=home,
                headers=True)


CUDA12 = dict(version='550.54.15', cuda='12.4')


def test_openmmlab_cuda_build_uses_a_system_cuda_12_1_compiler():
    f = facts('openmmlab', gpus=[H100], driver=CUDA12, nvcc=[
        nvcc('13.0', '/usr/local/cuda-13.0'),
        nvcc('12.1', '/opt/cuda-12.1')])
    p = plan(f, {})
    assert p['stack'] == 'openmmlab' and p['mode'] == 'cuda'
    assert p['toolchain'] == 'system' and p['cuda_home'] == '/opt/cuda-12.1'
    assert p['patch_cxx20'] is False  # mmcv's own -std=c++17
    assert p['cache_key'] == ('mmcv-2.1.0-openmmlab-torch2.1.2-cp311-x86_64-'
                              'cu12.1-sm9.0')
    assert preflight(f, {})['stack'] == 'openmmlab'


def test_openmmlab_cuda_build_without_a_12_1_compiler_stops_early():
    """The index's CUDA 12 compiler packages hold no nvcc: no system CUDA
    12.1 -> a stop that names the ways out, before torch is installed
    (preflight) and in the plan."""
    f = facts('openmmlab', gpus=[H100], driver=CUDA12,
              nvcc=[nvcc('13.0', '/usr/local/cuda-13.0')])
    for decide in (plan, preflight):
        with pytest.raises(PlanError) as e:
            decide(f, {})
        msg = str(e.value)
        assert 'CUDA 12.1 compiler' in msg and 'ptxas and libnvvm' in msg
        assert 'CUDA_HOME' in msg and 'MMRM_MMCV_CUDA=0' in msg
    # before torch: preflight takes the stack's CUDA version
    early = dict(f, torch=None, torch_cuda=None)
    with pytest.raises(PlanError, match='CUDA 12.1'):
        preflight(early, {})
    # CPU ops need no compiler of CUDA's
    assert plan(f, {'MMRM_MMCV_CUDA': '0'})['mode'] == 'cpu'


def test_cache_keys_name_the_stack_and_latest_keeps_its_old_key():
    latest = plan(facts('latest'), {})
    omm = plan(facts('openmmlab'), {'MMRM_STACK': 'openmmlab'})
    assert latest['cache_key'] == \
        'mmcv-2.1.0-latest-torch2.14.1-cp311-x86_64-cpu'
    assert latest['legacy_cache_keys'] == [
        'mmcv-2.1.0-torch2.14.1-cp311-x86_64-cpu']
    assert omm['cache_key'] == \
        'mmcv-2.1.0-openmmlab-torch2.1.2-cp311-x86_64-cpu'
    assert omm['legacy_cache_keys'] == []
    assert latest['patch_cxx20'] is True


# ------------------------------------------------------------ the pins
def ranges():
    lines = []
    for name in ('runtime.txt', 'torch.txt', 'mminstall.txt'):
        lines += [r for r, _ in stacks.read_lines(
            osp.join(ROOT, 'requirements', name))]
    return [Requirement(r) for r in lines]


@pytest.mark.parametrize('stack', sorted(stacks.STACKS))
def test_each_stack_pins_versions_inside_mmrms_ranges(stack):
    for req in ranges():
        pin = stacks.pinned_version(stack, req.name) if req.specifier else \
            None
        if pin:
            assert req.specifier.contains(pin), (stack, str(req), pin)
    groups = stacks.read_stack(stack)
    assert groups['mmcv'] == mmcv_build.MMCV_VERSION == mmcv_plan.MMCV_VERSION
    assert [r.split('==')[0] for r in groups['torch']] == ['torch',
                                                           'torchvision']


def test_openmmlab_stack_keeps_numpy_1_and_caps_opencv():
    pins = stacks.read_stack('openmmlab')
    assert 'numpy==1.26.4' in pins['build']
    assert {'opencv-python<4.11', 'opencv-python-headless<4.11'} <= set(
        pins['pins'])
    assert stacks.pinned_version('openmmlab', 'torch') == '2.1.2'
    assert stacks.pinned_version('latest', 'torch') == '2.14.1'


# ------------------------------------------------- set-up, per stack
class RecordingVenv(setup_venv.Venv):
    """pip records its arguments; the plan is the real plan() of the
    stack's facts; the build is a fake wheel."""

    def __init__(self, path, cache, stack):
        os.makedirs(path, exist_ok=True)
        super().__init__(path, cache, stack=stack)
        self.calls = []

    def installed_mmcv(self):
        return self.read('.mmrm-mmcv')

    def pip(self, args):
        self.calls.append(' '.join(args))

    def plan(self):
        return plan(facts(self.stack), {'MMRM_STACK': self.stack})

    def check(self, args):
        self.calls.append('check ' + ' '.join(args))

    def build(self, plan, folder, cuda_home):
        def make(scratch, out, env):
            os.makedirs(out)
            open(osp.join(out, 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl'),
                 'w').write(plan['cache_key'])
        self.calls.append('build ' + plan['cache_key'])
        return mmcv_build.build(plan, folder, make_wheel=make)


def test_openmmlab_setup_installs_its_pins_under_its_constraints(tmp_path):
    venv = RecordingVenv(str(tmp_path / 'v'), str(tmp_path / 'c'),
                         'openmmlab')
    assert setup_venv.setup(venv, 'k') == 'full'
    assert venv.calls[0].startswith('install torch==2.1.2 '
                                    'torchvision==0.16.2 numpy==1.26.4')
    assert 'build mmcv-2.1.0-openmmlab-torch2.1.2-cp311-x86_64-cpu' in \
        venv.calls
    constraints = venv.read(setup_venv.CONSTRAINTS).splitlines()
    assert 'numpy==1.26.4' in constraints and 'torch==2.1.2' in constraints
    assert 'opencv-python-headless<4.11' in constraints


def test_real_pip_calls_carry_the_stack_constraints(tmp_path):
    """Venv.pip hands the constraints file to every install (so that e.g.
    mmcv's unpinned OpenCV cannot pull numpy 2), not to uninstall."""
    log = tmp_path / 'argv'
    fake = tmp_path / 'python'
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    fake.chmod(0o755)
    venv = setup_venv.Venv(str(tmp_path), str(tmp_path), str(fake),
                           stack='openmmlab')
    venv.write(setup_venv.CONSTRAINTS, 'numpy==1.26.4')
    venv.pip(['install', 'opencv-python-headless'])
    venv.pip(['uninstall', '-y', 'mmcv'])
    install, uninstall = log.read_text().splitlines()
    assert f'-c {tmp_path}/{setup_venv.CONSTRAINTS}' in install
    assert '-c' not in uninstall.split()


def test_latest_setup_adopts_the_wheel_cached_before_keys_named_the_stack(
        tmp_path):
    cache = tmp_path / 'cache'
    old = cache / 'mmcv-2.1.0-torch2.14.1-cp311-x86_64-cpu'
    old.mkdir(parents=True)
    (old / 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl').write_text('old')
    venv = RecordingVenv(str(tmp_path / 'v'), str(cache), 'latest')
    venv.write('.mmrm-mmcv', old.name)  # installed by the older set-up
    assert setup_venv.setup(venv, 'k') == 'full'
    new = cache / 'mmcv-2.1.0-latest-torch2.14.1-cp311-x86_64-cpu'
    assert (new / 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl').read_text() == \
        'old'
    assert (old / 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl').exists()
    assert not any(c.startswith(('build', 'uninstall')) for c in venv.calls)
    assert venv.read('.mmrm-mmcv') == new.name
    # the openmmlab stack never takes the latest stack's wheel
    venv2 = RecordingVenv(str(tmp_path / 'v2'), str(cache), 'openmmlab')
    setup_venv.setup(venv2, 'k')
    assert 'build mmcv-2.1.0-openmmlab-torch2.1.2-cp311-x86_64-cpu' in \
        venv2.calls


def test_a_second_stack_gets_its_own_venv_unless_it_is_the_machines(
        tmp_path):
    env = env_with()  # no nvidia-smi: the machine's stack is latest
    assert stacks.venv_path('latest', env, '/r') == '/r/.venv'
    assert stacks.venv_path('openmmlab', env, '/r') == '/r/.venv-openmmlab'
    env = env_with(fake_smi(tmp_path, 'cuda12.4'))
    assert stacks.venv_path('openmmlab', env, '/r') == '/r/.venv'
    assert stacks.venv_path('latest', env, '/r') == '/r/.venv-latest'
