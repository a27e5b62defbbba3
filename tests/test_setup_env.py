"""Set-up: the mmcv build each machine gets (scripts/mmcv_plan.py), the
build lock and atomic wheel cache (scripts/mmcv_build.py), the two set-up
stages and their stamps (scripts/setup_venv.py) and setup_env.sh's warm
path -- all on the CPU, with fake GPUs, fake compilers and a fake builder
(no real 30-minute build)."""
import multiprocessing as mp
import os
import os.path as osp
import stat
import subprocess
import sys
import time

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'scripts'))
import mmcv_build  # noqa: E402
import mmcv_plan  # noqa: E402
import setup_venv  # noqa: E402
from mmcv_plan import PlanError, plan  # noqa: E402

from helpers import setup_script_env  # noqa: E402,I100

H200 = dict(name='NVIDIA H200', capability='9.0')
A100 = dict(name='NVIDIA A100-SXM4-80GB', capability='8.0')


def facts(gpus=(), nvcc=(), torch_cuda='13.0', cpus=16, mem_gb=128.0):
    return dict(torch='2.14.1', torch_cuda=torch_cuda, cuda_toolkit='13.0.3',
                gpus=list(gpus), torch_sees_gpu=bool(gpus),
                system_nvcc=list(nvcc), cpus=cpus, mem_gb=mem_gb,
                python='cp311', machine='x86_64')


def nvcc(version, home='/usr/local/cuda-13.0', headers=True):
    return dict(nvcc=f'{home}/bin/nvcc', version=version, cuda_home=home,
                headers=headers)


# ------------------------------------------------------------------ plan
def test_no_gpu_builds_cpu_ops_with_gpus_hidden_from_mmcv_setup():
    p = plan(facts(nvcc=[nvcc('13.0')]), {})
    assert p['mode'] == 'cpu' and p['toolchain'] is None
    assert p['cache_key'] == 'mmcv-2.1.0-latest-torch2.14.1-cp311-x86_64-cpu'
    # mmcv's setup.py compiles CUDA whenever torch sees a GPU
    assert p['build_env']['FORCE_CUDA'] == '0'
    assert p['build_env']['CUDA_VISIBLE_DEVICES'] == ''


def test_gpu_with_matching_system_nvcc_uses_it_for_the_gpus_arch():
    p = plan(facts(gpus=[H200] * 8, nvcc=[nvcc('13.0')]), {})
    assert p['mode'] == 'cuda' and p['toolchain'] == 'system'
    assert p['archs'] == ['9.0']
    assert p['build_env']['TORCH_CUDA_ARCH_LIST'] == '9.0'
    assert p['build_env']['FORCE_CUDA'] == '1'
    assert p['build_env']['CUDA_HOME'] == '/usr/local/cuda-13.0'
    assert p['toolkit_requirement'] is None
    assert p['cache_key'].endswith('-cu13.0-sm9.0')


def test_gpu_with_mismatching_system_nvcc_takes_the_index_compiler():
    p = plan(facts(gpus=[H200], nvcc=[nvcc('12.4', '/usr/local/cuda-12.4')]),
             {})
    assert p['toolchain'] == 'index' and p['cuda_home'] is None
    # the version torch itself depends on: torch's CUDA minor, not the newest
    assert p['toolkit_requirement'] == 'cuda-toolkit[nvcc,cccl]==13.0.3'
    assert 'CUDA_HOME' not in p['build_env']
    assert any('12.4' in n for n in p['notes'])


def test_system_nvcc_of_another_minor_version_is_not_used():
    # torch would accept 13.1 (same major), but its headers would meet
    # torch's 13.0 runtime
    p = plan(facts(gpus=[H200], nvcc=[nvcc('13.1', '/usr/local/cuda-13.1')]),
             {})
    assert p['toolchain'] == 'index'


def test_same_version_nvcc_without_headers_is_skipped_for_the_next():
    # e.g. a /usr/local/bin/nvcc wrapper script: its "toolkit" is /usr/local
    wrapper = nvcc('13.0', '/usr/local', headers=False)
    p = plan(facts(gpus=[H200], nvcc=[wrapper, nvcc('13.0')]), {})
    assert p['cuda_home'] == '/usr/local/cuda-13.0'


def test_forced_cuda_without_gpu_uses_default_or_given_archs():
    p = plan(facts(), {'MMRM_MMCV_CUDA': '1'})
    assert p['mode'] == 'cuda' and p['toolchain'] == 'index'
    assert p['archs'] == list(mmcv_plan.DEFAULT_ARCHS)
    p = plan(facts(), {'MMRM_MMCV_CUDA': '1',
                       'TORCH_CUDA_ARCH_LIST': '9.0 8.0;8.0'})
    assert p['archs'] == ['8.0', '9.0']
    assert p['cache_key'].endswith('-cu13.0-sm8.0_9.0')


def test_arch_list_override_beats_the_detected_gpus():
    p = plan(facts(gpus=[A100]), {'TORCH_CUDA_ARCH_LIST': '8.0;9.0+PTX'})
    assert p['archs'] == ['8.0', '9.0+PTX']


def test_mixed_gpus_get_every_capability():
    p = plan(facts(gpus=[H200, A100, H200]), {})
    assert p['archs'] == ['8.0', '9.0']


def test_forced_cpu_on_a_gpu_machine():
    p = plan(facts(gpus=[H200], nvcc=[nvcc('13.0')]), {'MMRM_MMCV_CUDA': '0'})
    assert p['mode'] == 'cpu'
    assert p['build_env']['CUDA_VISIBLE_DEVICES'] == ''


def test_cache_key_never_shares_a_cpu_wheel_with_a_gpu_machine():
    keys = {plan(facts(), {})['cache_key'],
            plan(facts(gpus=[H200]), {})['cache_key'],
            plan(facts(gpus=[A100]), {})['cache_key'],
            plan(facts(gpus=[H200], torch_cuda='12.8', nvcc=[
                nvcc('12.8', '/usr/local/cuda-12.8')]), {})['cache_key']}
    assert len(keys) == 4


def test_max_jobs_from_cores_memory_and_env():
    assert plan(facts(cpus=16, mem_gb=128), {})['max_jobs'] == 16
    # one CUDA compile job per 3 GB of available memory
    assert plan(facts(gpus=[H200], cpus=16, mem_gb=20), {})['max_jobs'] == 6
    assert plan(facts(cpus=2, mem_gb=0.5), {})['max_jobs'] == 1
    assert plan(facts(), {'MAX_JOBS': '3'})['build_env']['MAX_JOBS'] == '3'


@pytest.mark.parametrize('env,facts_kw,match', [
    ({'MMRM_MMCV_CUDA': 'yes'}, {}, 'MMRM_MMCV_CUDA must be 0, 1'),
    ({'MMRM_MMCV_CUDA': '1'}, dict(torch_cuda=None), 'CPU build'),
    ({'TORCH_CUDA_ARCH_LIST': 'sm_90'}, dict(gpus=[H200]), "'sm_90'"),
])
def test_impossible_requests_are_refused(env, facts_kw, match):
    with pytest.raises(PlanError, match=match):
        plan(facts(**facts_kw), env)


def _fake_nvcc(folder, release, headers):
    os.makedirs(osp.join(folder, 'bin'))
    path = osp.join(folder, 'bin', 'nvcc')
    with open(path, 'w') as f:
        f.write('#!/bin/sh\necho "Cuda compilation tools, release '
                f'{release}, V{release}.1"\n')
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    if headers:
        os.makedirs(osp.join(folder, 'include'))
        open(osp.join(folder, 'include', 'cuda_runtime.h'), 'w').close()
    return path


def test_probe_reads_system_nvcc_version_and_toolkit(tmp_path):
    home = str(tmp_path / 'cuda-12.4')
    _fake_nvcc(home, '12.4', headers=True)
    other = str(tmp_path / 'other')
    _fake_nvcc(other, '13.0', headers=False)
    found = mmcv_plan.system_nvccs(
        {'CUDA_HOME': home, 'PATH': osp.join(other, 'bin')})
    assert found[0] == dict(nvcc=osp.join(home, 'bin', 'nvcc'),
                            version='12.4', cuda_home=home, headers=True)
    assert found[1]['version'] == '13.0' and not found[1]['headers']


# ---------------------------------------------------------- build cache
CPU_PLAN = plan(facts(), {})


def _slow_wheel(name='mmcv-2.1.0-cp311-cp311-linux_x86_64.whl', seconds=1.0,
                count_file=None, fail=False):
    def make(scratch, out, env):
        if count_file:
            with open(count_file, 'a') as f:
                f.write('built\n')
        assert env['MMCV_WITH_OPS'] == '1'
        os.makedirs(out, exist_ok=True)
        with open(osp.join(out, name), 'wb') as f:
            for _ in range(5):
                f.write(b'x' * 1000)
                f.flush()
                time.sleep(seconds / 5)
        if fail:
            raise RuntimeError('compiler crashed')
    return make


def _build_in_process(folder, count_file, seconds=1.0):
    mmcv_build.build(CPU_PLAN, folder,
                     make_wheel=_slow_wheel(seconds=seconds,
                                            count_file=count_file))


def test_concurrent_builders_build_once_and_a_wheel_appears_whole(tmp_path):
    folder, count = str(tmp_path / 'key'), str(tmp_path / 'count')
    procs = [mp.get_context('fork').Process(target=_build_in_process,
                                            args=(folder, count))
             for _ in range(2)]
    for p in procs:
        p.start()
    seen = set()
    while any(p.is_alive() for p in procs):
        wheel = mmcv_build.cached_wheel(folder)
        if wheel:  # never half-written
            seen.add(os.path.getsize(wheel))
        time.sleep(0.02)
    assert all(p.exitcode == 0 for p in procs)
    assert open(count).read() == 'built\n'  # the second one waited, reused
    assert seen <= {5000}
    assert os.path.getsize(mmcv_build.cached_wheel(folder)) == 5000
    assert [n for n in os.listdir(folder) if n.startswith('.build-')] == []


def test_failed_or_killed_build_leaves_no_wheel_and_no_lock(tmp_path):
    folder = str(tmp_path / 'key')
    with pytest.raises(RuntimeError, match='compiler crashed'):
        mmcv_build.build(CPU_PLAN, folder, make_wheel=_slow_wheel(
            seconds=0.1, fail=True))
    assert mmcv_build.cached_wheel(folder) is None
    proc = mp.get_context('fork').Process(
        target=_build_in_process, args=(folder, None, 30.0))
    proc.start()
    time.sleep(1.0)
    assert setup_venv.build_running(folder)
    proc.kill()
    proc.join()
    assert not setup_venv.build_running(folder)  # the kernel dropped it
    wheel = mmcv_build.build(CPU_PLAN, folder, make_wheel=_slow_wheel(
        seconds=0.1))
    assert os.path.getsize(wheel) == 5000
    # the killed builder's scratch folder is gone too
    assert [n for n in os.listdir(folder) if n.startswith('.build-')] == []


def test_assembled_cuda_home_merges_compiler_and_torch_trees(tmp_path):
    compiler, torch_tree = tmp_path / 'tk' / 'cu13', tmp_path / 'torch' / 'cu13'
    for d in (compiler / 'bin', compiler / 'nvvm' / 'bin',
              compiler / 'include' / 'cccl', compiler / 'lib',
              torch_tree / 'include', torch_tree / 'lib'):
        d.mkdir(parents=True)
    (compiler / 'bin' / 'nvcc').write_text('')
    (compiler / 'include' / 'crt.h').write_text('')
    (torch_tree / 'include' / 'cusparse.h').write_text('')
    (torch_tree / 'lib' / 'libcudart.so.13').write_text('')
    home = mmcv_build.assemble_cuda_home([compiler, torch_tree],
                                         str(tmp_path / 'cuda'))
    for rel in ('bin/nvcc', 'nvvm/bin', 'include/cccl', 'include/crt.h',
                'include/cusparse.h', 'lib64/libcudart.so.13',
                'lib64/libcudart.so'):
        assert osp.exists(osp.join(home, rel)), rel
    assert os.readlink(osp.join(home, 'lib64', 'libcudart.so')) == \
        'libcudart.so.13'


# -------------------------------------------------------- set-up stages
class FakeVenv(setup_venv.Venv):
    """A venv whose pip only records what it would install; the mmcv build
    is the fake builder, run in a real background process."""

    def __init__(self, path, cache, seconds=2.0, fail_on=None):
        os.makedirs(path, exist_ok=True)
        super().__init__(path, cache)
        self.calls, self.seconds, self.fail_on = [], seconds, fail_on
        self.builder = None

    unrecorded_mmcv = False  # an mmcv with ops from an older set-up

    def installed_mmcv(self):
        mark = self.read('.mmrm-mmcv')
        return mark or ('unknown' if self.unrecorded_mmcv else None)

    def pip(self, args):
        self.calls.append(' '.join(args))
        if self.fail_on and self.fail_on in ' '.join(args):
            raise KeyboardInterrupt('interrupted during ' + self.fail_on)

    def plan(self):
        return CPU_PLAN

    def check(self, args):
        self.calls.append('check ' + ' '.join(args))

    def build(self, plan, folder, cuda_home):
        return mmcv_build.build(plan, folder, make_wheel=_slow_wheel(
            seconds=0.1, count_file=osp.join(folder, '..', 'count')))

    def start_build(self, plan, folder, cuda_home):
        self.builder = mp.get_context('fork').Process(
            target=_build_in_process,
            args=(folder, osp.join(folder, '..', 'count'), self.seconds))
        self.builder.start()
        return self.builder.pid


def _count(cache):
    path = osp.join(cache, 'count')
    return len(open(path).readlines()) if osp.exists(path) else 0


def test_quick_stage_then_full_waits_for_the_background_build(tmp_path):
    venv = FakeVenv(str(tmp_path / 'venv'), str(tmp_path / 'cache'))
    t0 = time.time()
    assert setup_venv.setup(venv, 'k1', quick=True) == 'quick'
    assert time.time() - t0 < 1.5  # did not wait for the 2 s build
    assert 'install mmcv-lite==2.1.0' in venv.calls
    assert venv.read('.mmrm-setup-stamp-quick') == 'k1'
    assert venv.read('.mmrm-setup-stamp') is None
    assert venv.read('.mmrm-mmcv') == 'lite'
    assert venv.builder.is_alive()
    # a second quick run returns at once and starts no second build
    assert setup_venv.setup(venv, 'k1', quick=True) == 'quick'
    venv.calls.clear()
    assert setup_venv.setup(venv, 'k1') == 'full'
    assert not venv.builder.is_alive()
    assert _count(venv.cache_root) == 1  # the background wheel was used
    wheel = mmcv_build.cached_wheel(osp.join(venv.cache_root,
                                             CPU_PLAN['cache_key']))
    swap = [c for c in venv.calls if 'mmcv' in c and c.startswith(
        ('uninstall', 'install --no-deps --force'))]
    assert swap == ['uninstall -y mmcv-lite mmcv',
                    f'install --no-deps --force-reinstall {wheel}']
    assert 'check -m mmrm.utils.mmcv_ops --expect cpu' in venv.calls
    assert venv.read('.mmrm-setup-stamp') == 'k1'
    assert venv.read('.mmrm-mmcv') == CPU_PLAN['cache_key']
    # warm: nothing installed again
    venv.calls.clear()
    assert setup_venv.setup(venv, 'k1') == 'ready' and venv.calls == []


def test_interrupted_swap_leaves_no_stamp_and_is_redone(tmp_path):
    cache = str(tmp_path / 'cache')
    venv = FakeVenv(str(tmp_path / 'venv'), cache, seconds=0.2)
    setup_venv.setup(venv, 'k1', quick=True)
    venv.builder.join()
    venv.fail_on = '--force-reinstall'
    with pytest.raises(KeyboardInterrupt):
        setup_venv.setup(venv, 'k1')
    # mmcv-lite is gone and the wheel not in: nothing claims a usable venv
    assert venv.read('.mmrm-setup-stamp') is None
    assert venv.read('.mmrm-setup-stamp-quick') is None
    assert venv.read('.mmrm-mmcv') is None
    venv.fail_on = None
    assert setup_venv.setup(venv, 'k1', quick=True) == 'full'  # wheel cached
    assert venv.read('.mmrm-setup-stamp') == 'k1'
    assert _count(cache) == 1


def test_quick_stage_keeps_an_mmcv_with_ops_it_did_not_install(tmp_path):
    """A venv from an older set-up (mmcv with ops, no record): the quick
    stage must not lay mmcv-lite over it; the full stage swaps it."""
    venv = FakeVenv(str(tmp_path / 'venv'), str(tmp_path / 'cache'), 0.2)
    venv.unrecorded_mmcv = True
    assert setup_venv.setup(venv, 'k1', quick=True) == 'quick'
    assert not any('mmcv-lite==' in c for c in venv.calls)
    venv.builder.join()
    assert setup_venv.setup(venv, 'k1') == 'full'
    assert 'uninstall -y mmcv-lite mmcv' in venv.calls
    assert venv.read('.mmrm-mmcv') == CPU_PLAN['cache_key']


def test_quick_stage_with_a_cached_wheel_installs_it_at_once(tmp_path):
    cache = str(tmp_path / 'cache')
    mmcv_build.build(CPU_PLAN, osp.join(cache, CPU_PLAN['cache_key']),
                     make_wheel=_slow_wheel(seconds=0.1))
    venv = FakeVenv(str(tmp_path / 'venv'), cache)
    assert setup_venv.setup(venv, 'k1', quick=True) == 'full'
    assert not any('mmcv-lite==' in c for c in venv.calls)
    assert venv.builder is None


def test_installed_mmcv_is_read_from_the_record_else_from_the_venv(tmp_path):
    import importlib.metadata as md
    venv = setup_venv.Venv(str(tmp_path), str(tmp_path), sys.executable)
    dists = {d.metadata['Name'].lower() for d in md.distributions()}
    want = 'unknown' if 'mmcv' in dists else (
        'lite' if 'mmcv-lite' in dists else None)
    assert venv.installed_mmcv() == want
    venv.write('.mmrm-mmcv', 'lite')
    assert venv.installed_mmcv() == 'lite'


def test_full_stage_on_a_fresh_venv_builds_in_the_foreground(tmp_path):
    venv = FakeVenv(str(tmp_path / 'venv'), str(tmp_path / 'cache'))
    assert setup_venv.setup(venv, 'k1') == 'full'
    assert venv.builder is None and _count(venv.cache_root) == 1
    assert not any('mmcv-lite==' in c for c in venv.calls)
    # a new key (e.g. these scripts changed) re-checks, reuses the wheel
    assert setup_venv.setup(venv, 'k2') == 'full'
    assert _count(venv.cache_root) == 1


# ---------------------------------------------------- setup_env.sh warm
def test_setup_env_sh_returns_at_once_when_the_stamp_holds_its_key(tmp_path):
    """A fake venv python records each hand-over to setup_venv.py and writes
    the stamp with the key it was given."""
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    log = tmp_path / 'calls'
    fake = venv / 'bin' / 'python'
    fake.write_text(
        '#!/bin/sh\n'
        f'echo "$@" >> {log}\n'
        'while [ $# -gt 0 ]; do\n'
        '  if [ "$1" = "--key" ]; then printf "%s\\n" "$2" > '
        f'{venv}/.mmrm-setup-stamp; fi\n'
        '  shift\ndone\n')
    fake.chmod(0o755)
    # a clean environment: whatever this machine's driver and the caller's
    # MMRM_* / CUDA settings
    env = setup_script_env(home=tmp_path / 'home', MMRM_VENV=str(venv),
                           MMRM_CACHE=str(tmp_path), MMRM_STACK='latest')
    run = lambda e: subprocess.run(  # noqa: E731
        ['bash', osp.join(ROOT, 'scripts', 'setup_env.sh')], env=e,
        check=True, capture_output=True)
    run(env)
    run(env)
    assert len(log.read_text().splitlines()) == 1
    # forcing the CUDA build changes the key: set-up runs again
    run(dict(env, MMRM_MMCV_CUDA='1'))
    assert len(log.read_text().splitlines()) == 2
    # so does the other stack, handed to setup_venv.py
    run(dict(env, MMRM_STACK='openmmlab'))
    calls = log.read_text().splitlines()
    assert len(calls) == 3 and '--stack openmmlab' in calls[-1]
    assert '--stack latest' in calls[0]
