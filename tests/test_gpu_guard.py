"""mmcv's compiled ops: the check that runs them on a device and compares
(mmrm.utils.mmcv_ops) and the guard that stops a det/seg run before its
first iteration when they cannot run on its device (mmrm.apis.ops_guard,
called by mmrm.apis.train/test). No GPU here: CUDA is faked with
monkeypatch (torch.cuda.is_available, the installed build, a failing
kernel)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmrm import apis
from mmrm.apis import ops_guard, runner
from mmrm.utils import mmcv_ops
from mmrm.utils.mmcv_ops import MmcvOpsError

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DET = 'configs/det/demo/atss_r18-w16-rm_fpn_5e_coco-fixture.py'
SEG = 'configs/seg/demo/upernet_r18-w16-rm_1xb2-20i_ade20k-fixture-128x128.py'
PRETRAIN = ('configs/pretrain/fashion_mnist/'
            'resnet18-w16_1xb128-3e-rm_fmnist-64px.py')


def test_installed_ops_run_on_the_cpu_and_match():
    build = mmcv_ops.ops_build()  # 'cpu' or 'cuda <version>': either has
    assert build == 'cpu' or build.startswith('cuda ')  # CPU kernels
    diffs = mmcv_ops.check_ops('cpu')
    assert set(diffs) == {'nms', 'RoIAlign'}
    assert all(v == 0 for v in diffs.values())


def test_check_ops_reports_a_result_that_differs(monkeypatch):
    real = mmcv_ops._roi_align
    calls = []

    def off_on_device(device):  # the device run differs, the CPU one not
        calls.append(device)
        out = real(device)
        return out + 1e-3 if len(calls) == 1 else out

    monkeypatch.setattr(mmcv_ops, '_roi_align', off_on_device)
    with pytest.raises(MmcvOpsError, match='RoIAlign on cpu differs from '
                       'the reference by 0.001'):
        mmcv_ops.check_ops('cpu')


def test_focal_loss_reference_is_mmdets_formula():
    """The CUDA check compares mmcv's sigmoid_focal_loss with this torch
    reference; it must equal mmdet's own PyTorch focal loss."""
    from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
    logits, target = mmcv_ops._focal_inputs()
    onehot = torch.nn.functional.one_hot(target, 5)[:, :4].float()
    want = py_sigmoid_focal_loss(logits, onehot, gamma=2.0, alpha=0.25,
                                 reduction='none')
    torch.testing.assert_close(mmcv_ops._focal_reference(), want)


def _fake_cuda(monkeypatch, build, capability=(9, 0)):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'get_device_capability',
                        lambda *a: capability)
    monkeypatch.setattr(ops_guard, 'ops_build', lambda: build)
    monkeypatch.setattr(mmcv_ops, 'ops_build', lambda: build)


@pytest.fixture
def no_runner(monkeypatch):
    """Fails the test if a Runner gets built (the guard must come first)."""
    built = []
    monkeypatch.setattr(runner, 'build_runner',
                        lambda cfg: built.append(cfg) or 1 / 0)
    return built


def _cfg(rel, tmp_path):
    return apis.build_cfg(osp.join(ROOT, rel), work_dir=str(tmp_path / 'w'))


@pytest.mark.parametrize('rel', [DET, SEG])
def test_cpu_only_mmcv_stops_a_cuda_det_seg_run_before_the_runner(
        rel, monkeypatch, tmp_path, no_runner):
    cfg = _cfg(rel, tmp_path)
    _fake_cuda(monkeypatch, 'cpu')
    with pytest.raises(MmcvOpsError) as err:
        apis.train(cfg)
    msg = str(err.value)
    assert 'compiled without CUDA' in msg and 'cuda:0' in msg
    assert '`bash scripts/setup_env.sh`' in msg
    assert no_runner == [] and not (tmp_path / 'w').exists()
    with pytest.raises(MmcvOpsError, match='compiled without CUDA'):
        apis.test(cfg, checkpoint=str(tmp_path / 'any.pth'))
    assert no_runner == []


def test_missing_kernels_for_this_gpu_name_the_arch(monkeypatch, tmp_path,
                                                    no_runner):
    _fake_cuda(monkeypatch, 'cuda 13.0', capability=(8, 6))

    def no_kernel(device):
        raise RuntimeError('CUDA error: no kernel image is available for '
                           'execution on the device')

    monkeypatch.setattr(mmcv_ops, '_nms', no_kernel)
    with pytest.raises(MmcvOpsError) as err:
        apis.train(_cfg(DET, tmp_path))
    msg = str(err.value)
    assert 'no kernel image' in msg and 'sm_86' in msg
    assert 'TORCH_CUDA_ARCH_LIST' in msg and no_runner == []


def test_mmcv_lite_stops_det_seg_even_on_the_cpu(monkeypatch, tmp_path,
                                                 no_runner):
    monkeypatch.setattr(ops_guard, 'ops_build', lambda: 'missing')
    with pytest.raises(MmcvOpsError, match='has none .mmcv-lite'):
        apis.train(_cfg(DET, tmp_path))
    assert no_runner == []


def test_pretraining_needs_no_compiled_ops(monkeypatch, tmp_path,
                                          no_runner):
    """RM pretraining (mmpretrain scope) is not stopped: it calls no mmcv
    op (the RM head uses torchvision's roi_align). The guard does not even
    look at the installed ops, also on a CUDA run with mmcv-lite, and the
    run goes on to build its Runner."""
    cfg = _cfg(PRETRAIN, tmp_path)
    _fake_cuda(monkeypatch, 'missing')
    asked = []
    monkeypatch.setattr(ops_guard, 'ops_build',
                        lambda: asked.append(1) or 'missing')
    with pytest.raises(ZeroDivisionError):  # no_runner: the Runner's turn
        apis.train(cfg)
    assert asked == [] and no_runner == [cfg]


def test_cpu_run_with_cpu_ops_passes(monkeypatch, tmp_path, no_runner):
    """A det run on the CPU with CPU-only ops: the guard reads the build,
    runs no device check, and the run goes on to build its Runner."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    asked, checked = [], []
    monkeypatch.setattr(ops_guard, 'ops_build',
                        lambda: asked.append(1) or 'cpu')
    monkeypatch.setattr(ops_guard, 'check_ops', checked.append)
    cfg = _cfg(DET, tmp_path)
    with pytest.raises(ZeroDivisionError):  # no_runner: the Runner's turn
        apis.train(cfg)
    assert asked == [1] and checked == [] and no_runner == [cfg]


def test_distributed_rank_checks_its_own_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setenv('LOCAL_RANK', '3')
    assert ops_guard.run_device() == torch.device('cuda', 3)
