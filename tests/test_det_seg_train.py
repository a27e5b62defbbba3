"""Fine-tuning through mmengine's Runner on the real tiny fixtures (CPU).

For each of the six methods of paper Tables 7-9 (ATSS, GFL, Mask R-CNN, HTC
with its semantic branch, PSPNet, UperNet):

- ResNet-50 (the ``*_rm`` configs): a pretraining checkpoint is made from the
  RM pretrain config's classifier, converted with
  ``mmrm.convert.convert_checkpoint``, and loaded through the config's
  ``StrictPretrained`` init; we assert that the backbone weights the Runner
  starts training from EQUAL the converted ones (OpenMMLab does not check
  this), then run one training iteration and one evaluation, and check that
  the evaluation logs every metric the metafile lists.
- PVTv2-B1: the same strict load, then one training iteration.

Also: a checkpoint with a missing key stops the Runner before training, and
the two CPU demo configs used by the end-to-end demo run on the fixtures.
The fixture builders are :mod:`mmrm.testing.finetune_fixtures` (shared with
tools/gpu_check.py).
"""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmrm.convert import StrictLoadError
from mmrm.testing.finetune_fixtures import (PVT_CONFIGS, R50_CONFIGS, REPO,
                                            Recorder, assert_loaded,
                                            fixture_config, metafile_metrics,
                                            pretrain_checkpoint, run)


# ----------------------------------------------------------- checkpoints
def _convert(tmp_path_factory, pretrain_cfg, backbone, seed):
    from mmrm.convert import convert_checkpoint
    d = tmp_path_factory.mktemp(backbone)
    src, dst = str(d / 'pretrain.pth'), str(d / f'{backbone}_backbone.pth')
    original = pretrain_checkpoint(pretrain_cfg, src, seed)
    convert_checkpoint(src, dst, backbone=backbone, verify=True)
    converted = torch.load(dst, map_location='cpu', weights_only=True)
    converted = converted.get('state_dict', converted)
    # the converter keeps every backbone tensor and nothing of the heads
    assert set(converted) == set(original)
    for k, v in original.items():
        assert torch.equal(converted[k], v), k
    return dst, converted


@pytest.fixture(scope='module')
def resnet50_ckpt(tmp_path_factory):
    cfg = 'configs/pretrain/imagenet/resnet50_8xb64-300e-rm_in1k.py'
    return _convert(tmp_path_factory, cfg, 'resnet50', seed=1)


@pytest.fixture(scope='module')
def pvt_ckpt(tmp_path_factory):
    cfg = 'configs/pretrain/imagenet/pvtv2-b1_8xb64-300e-rm_in1k.py'
    return _convert(tmp_path_factory, cfg, 'pvtv2-b1', seed=2)


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize('method', list(R50_CONFIGS))
def test_resnet50_finetune_one_iter_and_eval(method, resnet50_ckpt,
                                              tmp_path):
    ckpt, converted = resnet50_ckpt
    rel = R50_CONFIGS[method]
    runner, rec = run(fixture_config(rel, ckpt, tmp_path))
    assert_loaded(rec, converted)
    assert len(rec.losses) == 1
    assert all(math.isfinite(v) for v in rec.losses[0].values())
    assert rec.losses[0]['loss'] > 0
    if method == 'htc':  # the semantic branch saw the stuff maps
        assert any('semantic' in k for k in rec.losses[0])
    assert rec.metrics is not None, 'no evaluation ran'
    wanted = metafile_metrics(rel)
    assert wanted and wanted <= set(rec.metrics), (wanted, rec.metrics)
    for k in wanted:
        assert math.isfinite(rec.metrics[k])


@pytest.mark.parametrize('method', list(PVT_CONFIGS))
def test_pvtv2_b1_strict_load_and_train_step(method, pvt_ckpt, tmp_path):
    ckpt, converted = pvt_ckpt
    runner, rec = run(
        fixture_config(PVT_CONFIGS[method], ckpt, tmp_path, evaluate=False))
    assert_loaded(rec, converted)
    assert len(rec.losses) == 1
    assert all(math.isfinite(v) for v in rec.losses[0].values())


@pytest.mark.parametrize('method,backbone', [
    ('atss', 'resnet50'),  # mmdet ResNet
    ('upernet', 'resnet50'),  # mmseg ResNet
    ('atss', 'pvtv2-b1'),  # mmdet PVTv2, whose own init_weights is lax
])
def test_incomplete_checkpoint_stops_before_training(
        method, backbone, resnet50_ckpt, pvt_ckpt, tmp_path):
    """A converted checkpoint that lacks one tensor must not half-load."""
    ckpt, converted = resnet50_ckpt if backbone == 'resnet50' else pvt_ckpt
    broken = dict(converted)
    dropped = sorted(broken)[-1]
    del broken[dropped]
    path = str(tmp_path / 'broken.pth')
    torch.save({'state_dict': broken}, path)
    rel = (R50_CONFIGS if backbone == 'resnet50' else PVT_CONFIGS)[method]
    cfg = fixture_config(rel, path, tmp_path / 'work', evaluate=False)
    runner = Runner.from_cfg(cfg)
    rec = Recorder()
    runner.register_hook(rec)
    with pytest.raises(StrictLoadError, match=dropped.replace('.', r'\.')):
        runner.train()
    assert rec.initial is None and not rec.losses


@pytest.fixture(scope='module')
def demo_ckpt(tmp_path_factory):
    cfg = 'configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e-rm_fmnist-64px.py'
    backbone = Config.fromfile(osp.join(REPO, cfg)).model.backbone
    d = tmp_path_factory.mktemp('demo')
    src, dst = str(d / 'pretrain.pth'), str(d / 'r18w16_backbone.pth')
    original = pretrain_checkpoint(cfg, src, seed=3)
    from mmrm.convert import convert_checkpoint
    convert_checkpoint(src, dst, backbone=backbone.to_dict(), verify=True)
    return dst, original


@pytest.mark.parametrize('rel', ['configs/det/demo/atss_r18-w16-rm_fpn_5e_coco-fixture.py',
                                 'configs/seg/demo/upernet_r18-w16-rm_1xb2-20i_ade20k-fixture-128x128.py'])
def test_demo_config_runs_on_fixture(rel, demo_ckpt, tmp_path):
    """The demo configs as demo/pipeline_demo.sh uses them: only the
    checkpoint (``model.backbone.init_cfg.checkpoint``) and work_dir set."""
    ckpt, original = demo_ckpt
    cfg = Config.fromfile(osp.join(REPO, rel))
    cfg.merge_from_dict({'model.backbone.init_cfg.checkpoint': ckpt})
    # CPU time: 2 iterations instead of the demo's 10 (det) / 20 (seg)
    if cfg.train_cfg.get('max_iters'):
        cfg.train_cfg.update(max_iters=2, val_interval=2)
    else:
        cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.work_dir = str(tmp_path)
    cfg.log_level = 'WARNING'
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        root = cfg[name].dataset.data_root
        assert not osp.isabs(root)  # repo-relative: run from the repo root
        cfg[name].dataset.data_root = osp.join(REPO, root)
    if cfg.default_scope == 'mmdet':
        cfg.val_evaluator.ann_file = osp.join(REPO, cfg.val_evaluator.ann_file)
        cfg.test_evaluator.ann_file = cfg.val_evaluator.ann_file
    runner, rec = run(cfg)
    assert_loaded(rec, original)
    assert len(rec.losses) == runner.iter > 1
    assert all(math.isfinite(x['loss']) for x in rec.losses)
    assert rec.metrics is not None
    keys = ('coco/bbox_mAP', ) if cfg.default_scope == 'mmdet' else (
        'mIoU', 'mAcc', 'aAcc')
    for k in keys:
        assert math.isfinite(rec.metrics[k])
    assert osp.isfile(osp.join(str(tmp_path), 'last_checkpoint'))
