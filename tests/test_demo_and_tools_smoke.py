"""Smoke tests of the README's commands on a tiny budget: the demo
(``demo/demo.py``, what ``make demo`` runs after set-up), the end-to-end
pipeline script (``demo/pipeline_demo.sh``) and the analysis tools
(``tools/analysis_tools/{vis_mixing,effective_classes,vis_cam}.py``).

Each runs the real script (a subprocess for the command-line entry points,
``main(argv)`` in-process for the analysis tools) and checks the files it
promises. ``scripts/setup_env.sh`` is not run (CI runs it before the tests);
the pipeline script runs in a copy of the repository layout whose set-up
step is a no-op.
"""
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch

from helpers import ROOT, load_tool

RM_CFG = osp.join(ROOT, 'configs/pretrain/fashion_mnist/'
                  'resnet18-w16_1xb128-3e-rm_fmnist-64px.py')
FMNIST = osp.join(ROOT, 'data', 'fashion_mnist')


def tiny_rm_config(path, data_root):
    """The demo's RM config, 32 training images, one epoch, validation on
    32 test images: a config file of its own, as a user would pass it."""
    path.write_text(f"""_base_ = [{RM_CFG!r}]
train_dataloader = dict(batch_size=16, num_workers=0,
                        dataset=dict(data_root={data_root!r}, indices=32))
val_dataloader = dict(num_workers=0, batch_size=32,
                      dataset=dict(data_root={data_root!r}, indices=32))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = []
default_hooks = dict(logger=dict(interval=1))
""")
    return str(path)


def run_cli(args, cwd=ROOT, env=None, timeout=900):
    """Run a command in its own process group (killed as a whole on
    timeout, so no training process outlives the test); its stdout."""
    proc = subprocess.Popen(args, cwd=cwd, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, out[-3000:] + err[-3000:]
    return out


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory, fmnist_small):
    """``python demo/demo.py CONFIG --work-root DIR`` on the tiny config."""
    d = tmp_path_factory.mktemp('demo')
    cfg = tiny_rm_config(d / 'rm_tiny.py', fmnist_small)
    out = run_cli([sys.executable, 'demo/demo.py', cfg, '--work-root',
                   str(d / 'work')])
    return d / 'work' / 'rm_tiny', cfg, out


def test_demo_prints_top1_and_writes_checkpoint_and_log(demo_run):
    work, _, out = demo_run
    assert '== mmrm demo: Fashion-MNIST test set' in out
    line = next(ln for ln in out.splitlines() if ln.startswith('rm_tiny'))
    top1 = float(line.split('top-1')[1].split('%')[0])
    assert 0.0 <= top1 <= 100.0
    ckpt = out.split('checkpoint:')[1].split()[0]
    log = out.split('log:')[1].split()[0]
    assert osp.isfile(ckpt) and osp.samefile(osp.dirname(ckpt), work)
    assert osp.isfile(log) and 'loss_rm' in open(log).read()
    state = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    assert 'head.fc_roi.weight' in state  # an RM classifier was trained


def test_demo_refuses_a_missing_config(tmp_path):
    proc = subprocess.run([sys.executable, 'demo/demo.py', str(tmp_path / 'no.py')],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and 'config file(s) not found' in proc.stderr


def _shadow_repo(tmp_path, fmnist_root):
    """The repository's folders linked into ``tmp_path``, with a no-op
    ``scripts/setup_env.sh`` and ``data/fashion_mnist`` = the small subset."""
    root = tmp_path / 'repo'
    (root / 'demo').mkdir(parents=True)
    (root / 'scripts').mkdir()
    (root / 'data').mkdir()
    for name in ('configs', 'mmrm', 'tests', 'tools', '.venv'):
        os.symlink(osp.join(ROOT, name), root / name)
    os.symlink(fmnist_root, root / 'data' / 'fashion_mnist')
    (root / 'demo' / 'pipeline_demo.sh').write_text(
        open(osp.join(ROOT, 'demo', 'pipeline_demo.sh')).read())
    (root / 'scripts' / 'setup_env.sh').write_text('exit 0\n')
    return root


@pytest.mark.skipif(not osp.isfile(osp.join(ROOT, '.venv', 'bin', 'python')),
                    reason='pipeline_demo.sh runs .venv/bin/python')
def test_pipeline_demo_runs_all_four_stages(tmp_path, fmnist_small):
    """demo/pipeline_demo.sh with its knobs at their minimum (32 training
    images, 2 epochs): pretrain, convert, fine-tune ATSS on the COCO
    fixture (its 5 epochs: the script has no knob for them), evaluate;
    every stage's output file exists. The slowest test of this file: nine
    Python processes, each importing torch and OpenMMLab (about 3 min of
    CPU on an idle 2-core machine)."""
    root = _shadow_repo(tmp_path, fmnist_small)
    work = tmp_path / 'out'
    out = run_cli(['bash', 'demo/pipeline_demo.sh'], cwd=root, timeout=1800, env={
        'DEMO_WORK_DIR': str(work), 'DEMO_TRAIN_SAMPLES': '32',
        'DEMO_EPOCHS': '2'})
    for stage in ('0/4', '1/4', '2/4', '3/4', '4/4'):
        assert f'=== [{stage}]' in out
    assert (work / 'resnet18-w16_rm_backbone.pth').is_file()
    for sub in ('pretrain', 'det'):
        ckpt = (work / sub / 'last_checkpoint').read_text().strip()
        assert osp.isfile(ckpt)
    assert (work / 'det_test' / 'predictions.pkl').is_file()
    summary = out.split('=== summary')[1]
    assert 'coco/bbox_mAP' in summary and 'n/a' not in summary


# ------------------------------------------------------- analysis tools
def test_vis_mixing_draws_both_figures(tmp_path, fmnist_small):
    tool = load_tool('tools/analysis_tools/vis_mixing.py')
    tool.main(['--iters', '2', '--batch', '4', '--samples', '2', '--pool', '16',
               '--data-root', fmnist_small, '--out-dir', str(tmp_path)])
    import matplotlib.image
    for name in ('mixing_fmnist.png', 'mixing_rgb.png'):
        img = matplotlib.image.imread(str(tmp_path / name))
        assert img.ndim == 3 and min(img.shape[:2]) > 100


def test_effective_classes_writes_figure_and_tables(tmp_path, fmnist_small, capsys):
    tool = load_tool('tools/analysis_tools/effective_classes.py')
    out_file = tmp_path / 'fig' / 'effective_classes.png'
    tool.main(['--iters', '2', '--seeds', '0', '--data-root', fmnist_small,
               '--out', str(out_file)])
    assert out_file.stat().st_size > 1000
    printed = capsys.readouterr().out
    assert printed.count('| RM |') == 2 and str(out_file) in printed


def test_vis_cam_draws_the_trained_demo_model(tmp_path, demo_run):
    pytest.importorskip('pytorch_grad_cam')
    if not osp.isfile(osp.join(FMNIST, 't10k-images-idx3-ubyte')):
        pytest.fail(f'Fashion-MNIST missing under {FMNIST}: run '
                    'tools/dataset_converters/prepare_fashion_mnist.sh')
    work, cfg, _ = demo_run
    ckpt = (work / 'last_checkpoint').read_text().strip()
    out_file = tmp_path / 'cam.png'
    tool = load_tool('tools/analysis_tools/vis_cam.py')
    tool.main(['--model', f'RM={cfg}::{ckpt}', '--samples', '2',
               '--data-root', FMNIST, '--out', str(out_file)])
    import matplotlib.image
    img = matplotlib.image.imread(str(out_file))
    assert img.ndim == 3 and min(img.shape[:2]) > 100
