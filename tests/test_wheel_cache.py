"""The mmcv wheel cache shared between machines ("build once on a login
node, reuse on the compute nodes", docs/gpu.md) and the resumable build:
a CUDA wheel built by one venv on a machine without a GPU is found and
installed by another venv on a GPU node, with no compiler and no build;
a wheel that lacks the node's architecture is not; a failed build resumes
from the objects it compiled. Real plans (scripts/mmcv_plan.py) and the
real set-up (scripts/setup_venv.py); pip and the compiler are fakes."""
import json
import os
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'scripts'))
import mmcv_build  # noqa: E402
import mmcv_plan  # noqa: E402
import setup_venv  # noqa: E402

H100 = dict(name='NVIDIA H100 80GB HBM3', capability='9.0')
A100 = dict(name='NVIDIA A100-SXM4-80GB', capability='8.0')


def facts(gpus=()):
    """torch 2.14.1+cu130 on Python 3.11, no system CUDA compiler."""
    return dict(torch='2.14.1', torch_cuda='13.0', cuda_toolkit='13.0.3',
                gpus=list(gpus), torch_sees_gpu=bool(gpus), system_nvcc=[],
                cpus=16, mem_gb=128.0, python='cp311', machine='x86_64')


def fake_wheel(count_file, objects=()):
    """A builder that records each build and writes a wheel."""
    def make(scratch, out, env):
        with open(count_file, 'a') as f:
            f.write(f"{env.get('TORCH_CUDA_ARCH_LIST', 'cpu')}\n")
        os.makedirs(out)
        with open(osp.join(out, 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl'),
                  'w') as f:
            f.write(env.get('TORCH_CUDA_ARCH_LIST', 'cpu'))
    return make


class NodeVenv(setup_venv.Venv):
    """A venv on a machine described by ``facts`` and ``env``: pip, the
    checks and the compiler install are recorded, the build is fake."""

    def __init__(self, path, cache, machine, env):
        os.makedirs(path)
        super().__init__(path, cache)
        self.machine, self.env, self.calls = machine, env, []

    def installed_mmcv(self):
        return self.read(setup_venv.MMCV_MARK)

    def pip(self, args):
        self.calls.append(' '.join(args))

    def plan(self):
        return mmcv_plan.plan(self.machine, self.env)

    def check(self, args):
        self.calls.append('check ' + ' '.join(args))

    def toolchain(self, plan):
        self.calls.append('toolchain ' + str(plan['toolkit_requirement']))
        return '/fake/cuda'

    def build(self, plan, folder, cuda_home):
        return mmcv_build.build(plan, folder, cuda_home, make_wheel=fake_wheel(
            osp.join(self.cache_root, 'builds')))


def builds(cache):
    path = osp.join(cache, 'builds')
    return open(path).read().split() if osp.exists(path) else []


def installed_wheel(venv):
    (line, ) = [c for c in venv.calls if c.startswith('install --no-deps '
                                                       '--force-reinstall')]
    return line.split()[-1]


def build_node_then_gpu_node(tmp_path, build_env, gpu_env=None):
    cache = str(tmp_path / 'shared-cache')
    login = NodeVenv(str(tmp_path / 'login-venv'), cache, facts(),
                     dict(build_env, MMRM_MMCV_CUDA='1'))
    assert setup_venv.setup(login, 'k') == 'full'
    built = installed_wheel(login)
    node = NodeVenv(str(tmp_path / 'node-venv'), cache, facts([H100] * 8),
                    gpu_env or {})
    assert setup_venv.setup(node, 'k') == 'full'
    return login, node, built, cache


def test_cuda_wheel_of_a_build_node_is_installed_by_a_gpu_node_venv(
        tmp_path):
    login, node, built, cache = build_node_then_gpu_node(
        tmp_path, {'TORCH_CUDA_ARCH_LIST': '9.0'})
    assert builds(cache) == ['9.0']  # built once, on the login node
    assert 'toolchain cuda-toolkit[nvcc,cccl]==13.0.3' in login.calls
    # the GPU node: no compiler install, no build, the same wheel
    assert not any(c.startswith('toolchain') for c in node.calls)
    assert installed_wheel(node) == built
    assert 'check -m mmrm.utils.mmcv_ops --expect cuda' in node.calls
    assert node.read(setup_venv.STAMP) == 'k'


def test_default_arch_list_of_a_build_node_serves_an_h100_node(tmp_path):
    """No TORCH_CUDA_ARCH_LIST on either side: the login node builds
    7.5;8.0;9.0+PTX, the H100 node asks for 9.0 -- another cache key, but
    the wheel holds sm_90 code, so it is used."""
    login, node, built, cache = build_node_then_gpu_node(tmp_path, {})
    assert builds(cache) == ['7.5;8.0;9.0+PTX']
    assert installed_wheel(node) == built
    assert not any(c.startswith('toolchain') for c in node.calls)


def test_wheel_without_the_nodes_arch_is_not_used(tmp_path):
    """An A100 wheel (sm_80) must not be installed on an H100 node: it
    builds its own, for 9.0."""
    login, node, built, cache = build_node_then_gpu_node(
        tmp_path, {'TORCH_CUDA_ARCH_LIST': '8.0'})
    assert builds(cache) == ['8.0', '9.0']
    assert installed_wheel(node) != built
    assert 'toolchain cuda-toolkit[nvcc,cccl]==13.0.3' in node.calls


@pytest.mark.parametrize('built,wanted,ok', [
    (['9.0'], ['9.0'], True), (['8.0', '9.0+PTX'], ['9.0'], True),
    (['9.0'], ['9.0+PTX'], False), (['8.0'], ['8.6'], False),
    (['7.5', '8.0', '9.0+PTX'], ['8.0', '9.0'], True)])
def test_arch_cover_needs_machine_code_for_each_arch_and_the_ptx_asked(
        built, wanted, ok):
    assert mmcv_build._arch_covers(built, wanted) is ok


def test_cpu_wheel_never_serves_a_cuda_plan(tmp_path):
    cache = str(tmp_path)
    cpu = mmcv_plan.plan(facts(), {})
    mmcv_build.build(cpu, osp.join(cache, cpu['cache_key']),
                     make_wheel=fake_wheel(osp.join(cache, 'builds')))
    cuda = mmcv_plan.plan(facts([H100]), {})
    assert mmcv_build.cache_folder(cache, cuda) == osp.join(
        cache, cuda['cache_key'])
    assert mmcv_build.cached_wheel(osp.join(cache, cuda['cache_key'])) is None


# ------------------------------------------------------------- resuming
def compiling_builder(fail_after=None, seen=None):
    """Compiles objects a.o, b.o, c.o under scratch/src/build/temp.x
    (skipping those present, as ninja does); crashes after ``fail_after``
    objects; ``seen`` collects the objects found at its start."""
    def make(scratch, out, env):
        temp = osp.join(scratch, 'src', 'build', 'temp.x')
        os.makedirs(temp, exist_ok=True)
        if seen is not None:
            seen.extend(sorted(os.listdir(temp)))
        for i, name in enumerate(('a.o', 'b.o', 'c.o')):
            if fail_after is not None and i == fail_after:
                raise RuntimeError('nvcc crashed')
            if not osp.exists(osp.join(temp, name)):
                open(osp.join(temp, name), 'w').close()
        os.makedirs(out)
        open(osp.join(out, 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl'),
             'w').close()
    return make


def test_failed_build_resumes_from_its_compiled_objects(tmp_path, capsys):
    plan = mmcv_plan.plan(facts(), {'MMRM_MMCV_CUDA': '1',
                                    'TORCH_CUDA_ARCH_LIST': '9.0'})
    folder = str(tmp_path / plan['cache_key'])
    with pytest.raises(RuntimeError, match='nvcc crashed'):
        mmcv_build.build(plan, folder, '/cuda',
                         make_wheel=compiling_builder(fail_after=2))
    assert mmcv_build.cached_wheel(folder) is None
    seen = []
    # another job count resumes too
    plan = dict(plan, build_env=dict(plan['build_env'], MAX_JOBS='1'))
    wheel = mmcv_build.build(plan, folder, '/cuda',
                             make_wheel=compiling_builder(seen=seen))
    assert seen == ['a.o', 'b.o']
    assert osp.isfile(wheel)
    assert '2 objects compiled before' in capsys.readouterr().err
    assert not osp.exists(osp.join(folder, mmcv_build.PARTIAL))


def test_partial_build_under_the_pre_stack_key_is_finished_there(
        tmp_path, capsys):
    """A build stopped before keys named the stack resumes in its own
    folder (ninja's commands hold its paths); the wheel lands in both."""
    plan = mmcv_plan.plan(facts(), {'MMRM_MMCV_CUDA': '1',
                                    'TORCH_CUDA_ARCH_LIST': '9.0'})
    (old_key, ) = plan['legacy_cache_keys']
    old = str(tmp_path / old_key)
    with pytest.raises(RuntimeError, match='nvcc crashed'):
        mmcv_build.build(dict(plan, cache_key=old_key), old, '/cuda',
                         make_wheel=compiling_builder(fail_after=2))
    seen = []
    folder = str(tmp_path / plan['cache_key'])
    wheel = mmcv_build.build(plan, folder, '/cuda',
                             make_wheel=compiling_builder(seen=seen))
    assert seen == ['a.o', 'b.o']
    assert osp.dirname(wheel) == folder and osp.isfile(wheel)
    assert mmcv_build.cached_wheel(old)
    assert f'partial build kept under {old}' in capsys.readouterr().err


@pytest.mark.parametrize('change', ['arch', 'cuda_home', 'patches'])
def test_partial_build_of_another_recipe_starts_afresh(tmp_path, monkeypatch,
                                                       change):
    plan = mmcv_plan.plan(facts(), {'MMRM_MMCV_CUDA': '1',
                                    'TORCH_CUDA_ARCH_LIST': '9.0'})
    folder = str(tmp_path / 'key')
    with pytest.raises(RuntimeError):
        mmcv_build.build(plan, folder, '/cuda',
                         make_wheel=compiling_builder(fail_after=2))
    home = '/cuda'
    if change == 'arch':
        plan = dict(plan, build_env=dict(plan['build_env'],
                                         TORCH_CUDA_ARCH_LIST='8.0'))
    elif change == 'cuda_home':
        home = '/other/cuda'
    else:
        monkeypatch.setattr(mmcv_build, 'PATCHES', ('another patch', ))
    seen = []
    mmcv_build.build(plan, folder, home, make_wheel=compiling_builder(
        seen=seen))
    assert seen == []
    with open(osp.join(folder, 'plan.json')) as f:
        assert json.load(f)['build_env'] == plan['build_env']


# ------------------------------------------ the set-up check of a build node
@pytest.mark.parametrize('build,smi_gpus,code', [
    ('cuda 13.0', False, 0),  # a login node: kernels there, none to run on
    ('cpu', False, 1),        # CUDA asked for, a CPU build installed
    ('cuda 13.0', True, 1)])  # GPUs torch cannot use (driver too old)
def test_expect_cuda_without_a_gpu_passes_only_for_a_cuda_build_node(
        monkeypatch, capsys, build, smi_gpus, code):
    """set-up ends with `python -m mmrm.utils.mmcv_ops --expect cuda`; on a
    machine without a GPU (MMRM_MMCV_CUDA=1) it must accept a CUDA build
    after checking its CPU kernels, and refuse a CPU build."""
    from mmrm.utils import mmcv_ops
    checked = []
    monkeypatch.setattr(mmcv_ops.torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(mmcv_ops, 'ops_build', lambda: build)
    monkeypatch.setattr(mmcv_ops, '_smi_lists_gpus', lambda: smi_gpus)
    monkeypatch.setattr(mmcv_ops, 'check_ops',
                        lambda d: checked.append(d) or {'nms': 0.0})
    assert mmcv_ops.main(['--expect', 'cuda']) == code
    out = capsys.readouterr()
    if code == 0:
        assert checked == ['cpu'] and 'not run (no GPU here' in out.out
    else:
        assert checked == [] and 'CUDA ops expected' in out.err
