"""tools/gpu_check.py (what tools/gpu_check.sh runs) without a GPU: the dry
run lists every step with the commands a GPU machine would run; the CPU mode
runs the ops check, a tiny Table 10 benchmark through the benchmark's
command line (and reads RM's ratios out of its table), one det/seg fixture
step through mmrm.apis.train, and skips the 2-GPU run with a message."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import pytest

from helpers import load_tool

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture
def gpu_check(monkeypatch):
    """tools/gpu_check.py in-process (as tools/gpu_check.sh runs it)."""
    monkeypatch.syspath_prepend(osp.join(ROOT, 'tools'))
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')  # --cpu sets it; undone
    return load_tool('tools/gpu_check.py')


def run_check(gpu_check, tmp_path, capsys, *args):
    code = gpu_check.main(['--out', str(tmp_path), '--python', sys.executable,
                           *args])
    out = capsys.readouterr().out
    with open(tmp_path / 'gpu_check.json') as f:
        report = json.load(f)
    return code, out, report, {r['step']: r for r in report['steps']}


def test_dry_run_of_the_shell_command_lists_every_step_with_gpu_commands(
        tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHON=sys.executable)
    proc = subprocess.run(['bash', osp.join(ROOT, 'tools', 'gpu_check.sh'),
                           '--dry-run', '--out', str(tmp_path)], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / 'gpu_check.json') as f:
        steps = {r['step']: r for r in json.load(f)['steps']}
    assert list(steps) == ['ops', 'table10', 'atss', 'mask_rcnn', 'upernet',
                           'dist']
    assert all(r['status'] == 'planned' for r in steps.values())
    bench = steps['table10']['summary']
    for flag in ('--device cuda', '--arch resnet50', '--batch 64', '--amp'):
        assert flag in bench
    assert 'mask-rcnn_r50-rm_fpn_1x_coco.py' in steps['mask_rcnn']['summary']
    assert '| step | status | s | result |' in proc.stdout


def test_cpu_mode_runs_ops_and_the_benchmark_cli_and_skips_dist(
        gpu_check, tmp_path, capsys):
    code, out, report, steps = run_check(gpu_check, tmp_path, capsys, '--cpu',
                                         '--steps', 'ops', 'table10', 'dist')
    assert code == 0, out
    assert report['environment']['gpus'] == []
    assert steps['ops']['status'] == 'ok'
    assert set(steps['ops']['devices']) == {'cpu'}
    table10 = steps['table10']
    assert table10['status'] == 'ok', table10
    assert '--device cpu' in table10['command']
    ratios = table10['rm_vs_cutmix']
    # read out of the benchmark's table: finite, and RM's extra RoI head
    # counts in training only
    assert all(math.isfinite(ratios[k]) and ratios[k] > 0 for k in (
        'time', 'memory', 'params_train', 'params_deploy')), ratios
    assert ratios['params_train'] > ratios['params_deploy']
    assert steps['dist']['status'] == 'skipped'
    assert 'needs 2' in steps['dist']['summary']


def test_cpu_mode_detseg_step_trains_evaluates_from_strict_checkpoint(
        gpu_check, tmp_path, capsys):
    code, out, report, steps = run_check(gpu_check, tmp_path, capsys, '--cpu',
                                         '--steps', 'upernet')
    assert code == 0, out
    upernet = steps['upernet']
    assert upernet['status'] == 'ok', upernet.get('error')
    assert upernet['device'] == 'cpu'
    assert set(upernet['metrics']) == {'mIoU', 'mAcc', 'aAcc'}
    assert math.isfinite(upernet['loss'])


def test_a_failing_step_fails_the_command_and_the_rest_still_run(
        gpu_check, tmp_path, capsys):
    """A benchmark that cannot start is a FAIL in the table, not a crash
    that hides the other steps."""
    code, out, report, steps = run_check(gpu_check, tmp_path, capsys, '--cpu',
                                         '--steps', 'table10', 'ops',
                                         '--python', '/nonexistent/python')
    assert code == 1
    assert steps['table10']['status'] == 'FAIL'
    assert steps['ops']['status'] == 'ok'


def test_table10_reads_the_benchmarks_json_schema(monkeypatch, tmp_path):
    """The benchmark's --json layout (documented in its module doc): RM's
    time ratio to CutMix with its spread, memory over CutMix's."""
    monkeypatch.syspath_prepend(osp.join(ROOT, 'tools'))
    steps = load_tool('tools/gpu_check_steps.py')
    report = {'methods': {
        'cutmix': dict(ratios={'cutmix': [1.0, 1.0, 1.0]}, mem_mb=1000.0,
                       params_train=25_557_032, params_deploy=25_557_032),
        'rm': dict(ratios={'cutmix': [1.004, 0.99, 1.01]}, mem_mb=1009.0,
                   params_train=27_607_032, params_deploy=25_557_032)}}
    got = steps.rm_over_cutmix_json(report)
    assert got['time'] == 1.004 and got['time_q1_q3'] == [0.99, 1.01]
    assert math.isclose(got['memory'], 1.009)
    assert math.isclose(got['params_train'], 27.607032)
    assert math.isclose(got['params_deploy'], 25.557032)


# the fixtures' checkout when mmrm is a plain install (the wheel bundle's
# `pip install --target site`), as seen from two working directories
_WHERE = ('from mmrm.testing import finetune_fixtures as f\n'
          'print(f.__file__)\n'
          'print(f.REPO)\n'
          'try:\n'
          '    f._repo_file("configs")\n'
          'except FileNotFoundError as e:\n'
          '    print(e)\n')


def test_fixtures_of_a_plain_install_use_the_checkout_it_runs_from(tmp_path):
    import shutil
    site = tmp_path / 'site'
    shutil.copytree(osp.join(ROOT, 'mmrm'), site / 'mmrm',
                    ignore=shutil.ignore_patterns('__pycache__'))
    env = dict(os.environ, PYTHONPATH=str(site))

    def where(cwd):
        # -P: the working directory is not on sys.path (mmrm from site/)
        out = subprocess.run([sys.executable, '-P', '-c', _WHERE], cwd=cwd,
                             env=env, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr[-3000:]
        module, *rest = out.stdout.splitlines()
        assert module.startswith(str(site))
        return rest

    assert where(ROOT) == [ROOT]  # run from the checkout: its fixtures
    elsewhere = where(str(tmp_path))
    assert elsewhere[0] == str(site)  # no checkout: where mmrm lies
    assert 'not found under' in elsewhere[1] and \
        'tools/gpu_check.sh' in elsewhere[1]


def test_import_record_gives_torchs_generated_module_to_torch(
        gpu_check, tmp_path, monkeypatch):
    """A module torch writes from a template into a temporary folder (torch
    2.1 does for torch.distributed.nn) is torch's; another module there
    stays unknown ('?'), so that the bundle check still flags it."""
    for name in ('_remote_module_non_scriptable', '_made_up_module'):
        (tmp_path / f'{name}.py').write_text('X = 1\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ('_remote_module_non_scriptable', '_made_up_module'):
        monkeypatch.delitem(sys.modules, name, raising=False)
        __import__(name)
    record = gpu_check.imported()
    for name in ('_remote_module_non_scriptable', '_made_up_module'):
        del sys.modules[name]
    assert record['_remote_module_non_scriptable'] == ['torch']
    assert record['_made_up_module'] == ['?']
