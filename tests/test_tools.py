"""tools/train.py, tools/test.py and tools/dist_train.sh on the CPU.

Real runs kept to a few iterations: 2-process torchrun (gloo, CPU) for the
Fashion-MNIST RM pretrain config and the ATSS demo detection config, then a
single-process ``--resume`` of the distributed pretrain run and
``tools/test.py`` on the resumed checkpoint.
"""
import glob
import json
import os
import os.path as osp
import pickle
import re
import shutil
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
from mmengine.config import Config

from helpers import failure_excerpt, free_port, load_tool, run_launch
from mmrm.convert import load_checkpoint_file

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PY = sys.executable
FMNIST_RM_CFG = 'configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e-rm_fmnist-64px.py'
DET_DEMO_CFG = 'configs/det/demo/atss_r18-w16-rm_fpn_5e_coco-fixture.py'


def run(cmd, timeout=400, **env):
    """Run a command in the repository root; fail with its output."""
    full_env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
                    PYTHON=PY, **env)
    returncode, out = run_launch(cmd, ROOT, full_env, timeout)
    assert returncode == 0, f'{cmd} failed ({returncode}):\n' \
        f'{failure_excerpt(out)}'
    return out


@pytest.fixture(scope='module')
def fmnist_root(tmp_path_factory):
    """Fashion-MNIST as prepared by tools/dataset_converters/prepare_fashion_mnist.sh."""
    root = osp.join(ROOT, 'data', 'fashion_mnist')
    if not osp.isfile(osp.join(root, 'train-images-idx3-ubyte')):
        root = str(tmp_path_factory.mktemp('fashion_mnist'))
        run(['bash', 'tools/dataset_converters/prepare_fashion_mnist.sh', root])
    return root


def fmnist_tiny_options(data_root, n_train=64, batch=16, epochs=1):
    """--cfg-options that shrink the Fashion-MNIST RM run."""
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'train_dataloader.dataset.indices={n_train}',
        f'train_dataloader.batch_size={batch}',
        'val_dataloader.dataset.indices=32',
        'test_dataloader.dataset.indices=32',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        f'train_cfg.max_epochs={epochs}', 'train_cfg.val_interval=100',
        'default_hooks.logger.interval=1',
    ]


@pytest.fixture(scope='module')
def dist_pretrain(tmp_path_factory, fmnist_root):
    """tools/dist_train.sh, 2 processes, the RM pretrain config, 1 epoch."""
    work = tmp_path_factory.mktemp('dist_pretrain') / 'work'
    out = run(['bash', 'tools/dist_train.sh', FMNIST_RM_CFG, '2',
               '--work-dir', str(work), '--cfg-options',
               *fmnist_tiny_options(fmnist_root)],
              PORT=str(free_port()))
    return work, out


def test_dist_train_pretrain_two_processes(dist_pretrain):
    work, out = dist_pretrain
    assert 'Distributed training: True' in out
    # 64 samples, 2 ranks x batch 16 -> 2 iterations (1 process: 4)
    assert re.search(r'Epoch\(train\)\s+\[1\]\[2/2\]', out), out[-3000:]
    assert not re.search(r'Epoch\(train\)\s+\[1\]\[\d+/4\]', out)
    ckpt = load_checkpoint_file(str(work / 'epoch_1.pth'))
    assert ckpt['meta']['iter'] == 2 and ckpt['meta']['epoch'] == 1
    # the RM classifier trained (its RoI branch included)
    assert any(k.startswith('head.fc_roi.') for k in ckpt['state_dict'])
    # validation gathered the 32 images of both ranks
    assert re.search(r'Epoch\(val\) \[1\]\[1/1\]\s+accuracy/top1', out)


def test_resume_then_test(dist_pretrain, fmnist_root, tmp_path):
    """--resume (auto) of the distributed run's mmengine checkpoint under
    torch's weights-only default, then tools/test.py on the result."""
    src_work, _ = dist_pretrain
    work = tmp_path / 'work'
    shutil.copytree(src_work, work)
    (work / 'last_checkpoint').write_text(str(work / 'epoch_1.pth'))
    first = load_checkpoint_file(str(work / 'epoch_1.pth'))
    opts = fmnist_tiny_options(fmnist_root, n_train=32, epochs=2)
    out = run([PY, 'tools/train.py', FMNIST_RM_CFG, '--work-dir', str(work),
               '--resume', '--cfg-options', *opts])
    assert 'resumed epoch: 1, iter: 2' in out, out[-3000:]
    assert not re.search(r'Epoch\(train\)\s+\[1\]', out)
    assert re.search(r'Epoch\(train\)\s+\[2\]\[2/2\]', out)
    second = load_checkpoint_file(str(work / 'epoch_2.pth'))
    assert second['meta']['iter'] == 4 and second['meta']['epoch'] == 2
    # it went on from the first run's weights and optimizer state
    assert second['optimizer']['state']
    assert not torch.equal(first['state_dict']['backbone.conv1.weight'],
                           second['state_dict']['backbone.conv1.weight'])

    pkl = tmp_path / 'preds.pkl'
    out = run([PY, 'tools/test.py', FMNIST_RM_CFG, str(work / 'epoch_2.pth'),
               '--work-dir', str(tmp_path / 'test'), '--out', str(pkl),
               '--cfg-options', *opts])
    assert re.search(r'accuracy/top1: \d+\.\d+', out), out[-3000:]
    with open(pkl, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 32 and 'pred_score' in preds[0]
    metrics = glob.glob(str(tmp_path / 'test' / '*' / '*.json'))
    assert metrics and 'accuracy/top1' in json.load(open(metrics[0]))


def test_dist_train_detector_two_processes(tmp_path):
    """tools/dist_train.sh with the ATSS demo config: 2 ranks, the backbone
    from a converted checkpoint (StrictPretrained on every rank), 2
    iterations, distributed evaluation at the end."""
    from mmpretrain.models.backbones import ResNet

    from mmrm.convert import convert_checkpoint
    backbone_cfg = Config.fromfile(
        osp.join(ROOT, FMNIST_RM_CFG)).model.backbone
    net = ResNet(**{k: v for k, v in backbone_cfg.items() if k != 'type'})
    src, dst = str(tmp_path / 'pre.pth'), str(tmp_path / 'backbone.pth')
    torch.save({'state_dict': OrderedDict(
        ('backbone.' + k, v) for k, v in net.state_dict().items())}, src)
    convert_checkpoint(src, dst, backbone=backbone_cfg.to_dict())
    work = tmp_path / 'work'
    out = run(['bash', 'tools/dist_train.sh', DET_DEMO_CFG, '2',
               '--work-dir', str(work), '--cfg-options',
               f'model.backbone.init_cfg.checkpoint={dst}',
               'train_cfg.max_epochs=2', 'train_cfg.val_interval=2',
               'default_hooks.checkpoint.interval=2'],
              PORT=str(free_port()))
    assert 'Distributed training: True' in out
    assert 'strictly loading ResNet from' in out
    # 3 images, 2 ranks x batch 2 -> 1 iteration per epoch
    assert re.search(r'Epoch\(train\)\s+\[2\]\[1/1\]', out), out[-3000:]
    # distributed evaluation: 2 validation images, one per rank (an
    # untrained detector may have no box above the score threshold, so the
    # COCO metric itself is checked in tests/test_det_seg_train.py)
    assert re.search(r'Epoch\(val\) \[2\]\[1/1\]', out)
    ckpt = load_checkpoint_file(str(work / 'epoch_2.pth'))
    assert ckpt['meta']['iter'] == 2
    assert 'bbox_head.atss_cls.weight' in ckpt['state_dict']


def test_dist_train_failure_ends_with_the_failing_rank_error(tmp_path):
    """A mistyped data root under 2-process torchrun: every rank stops in
    the preflight; the output ends with a rank's own FileNotFoundError (read
    from its torchelastic error file), below torchrun's ChildFailedError
    block."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHON=PY, PORT=str(free_port()), LOG_DIR=str(tmp_path))
    opts = [f'{d}.dataset.data_root=/nonexistent/fmnist'
            for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', FMNIST_RM_CFG, '2', '--work-dir',
         str(tmp_path / 'work'), '--cfg-options', *opts],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    err = proc.stderr.rstrip()
    assert proc.returncode != 0
    assert 'ChildFailedError' in err and \
        err.rindex('ChildFailedError') < err.rindex('first failing: local rank')
    last = err.splitlines()[-1]
    assert last.startswith('FileNotFoundError: ') and \
        'data_root does not exist: /nonexistent/fmnist' in last, err[-3000:]


def test_train_cli_options(tmp_path):
    """tools/train.py's config handling, in-process (no run)."""
    train = load_tool('tools/train.py')
    cfg_path = osp.join(ROOT, FMNIST_RM_CFG)
    cfg = train.cfg_from_args(train.parse_args([cfg_path, '--amp']))
    assert cfg.work_dir == osp.join('./work_dirs', 'resnet18-w16_1xb128-3e-rm_fmnist-64px')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.launcher == 'none' and not cfg.get('resume', False)
    ckpt = tmp_path / 'epoch_3.pth'
    ckpt.write_bytes(b'x')
    cfg = train.cfg_from_args(train.parse_args(
        [cfg_path, '--resume', str(ckpt), '--work-dir', str(tmp_path),
         '--cfg-options', 'train_cfg.max_epochs=7']))
    assert cfg.resume and cfg.load_from == str(ckpt)
    assert cfg.work_dir == str(tmp_path) and cfg.train_cfg.max_epochs == 7
    cfg = train.cfg_from_args(train.parse_args([cfg_path, '--resume']))
    assert cfg.resume is True and cfg.load_from is None
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        train.cfg_from_args(train.parse_args(
            [cfg_path, '--resume', str(tmp_path / 'nope.pth')]))


def test_cpu_distributed_setup_rewrites_wrapper():
    """Without CUDA: no process group for launcher none; for a launcher,
    gloo and DDP without device ids (checked on a 1-process group)."""
    if torch.cuda.is_available():
        pytest.skip('CPU-only code path')
    import torch.distributed as dist

    from mmrm.apis import setup_cpu_distributed
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    setup_cpu_distributed(cfg, 'none')
    assert 'model_wrapper_cfg' not in cfg and not dist.is_initialized()
    env = dict(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()),
               RANK='0', WORLD_SIZE='1', LOCAL_RANK='0')
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        setup_cpu_distributed(cfg, 'pytorch')
        assert dist.get_backend() == 'gloo'
        assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'
        assert cfg.model_wrapper_cfg.device_ids is None
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
