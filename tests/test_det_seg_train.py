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
"""
import copy
import functools
import math
import os.path as osp

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmrm.convert import StrictLoadError

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
COCO_ROOT = osp.join(REPO, 'tests', 'data', 'coco_fixture') + '/'
ADE_ROOT = osp.join(REPO, 'tests', 'data', 'ade_fixture')
COCO_CLASSES = ('nucleus', 'animal')
DET_SCALE = (160, 128)
SEG_SCALE = (192, 96)
SEG_CROP = (96, 96)

R50_CONFIGS = {
    'atss': 'configs/det/atss/atss_r50-rm_fpn_1x_coco.py',
    'gfl': 'configs/det/gfl/gfl_r50-rm_fpn_1x_coco.py',
    'mask_rcnn': 'configs/det/mask_rcnn/mask-rcnn_r50-rm_fpn_1x_coco.py',
    'htc': 'configs/det/htc/htc_r50-rm_fpn_1x_coco.py',
    'pspnet': 'configs/seg/pspnet/pspnet_r50-d8-rm_4xb4-80k_ade20k-512x512.py',
    'upernet': 'configs/seg/upernet/upernet_r50-rm_8xb2-80k_ade20k-512x512.py',
}
PVT_CONFIGS = {k: v.replace('_r50-d8-', '_pvtv2-b1-').replace(
    '_r50-', '_pvtv2-b1-') for k, v in R50_CONFIGS.items()}


# ----------------------------------------------------------- checkpoints
def _pretrain_checkpoint(cfg_path, out_path, seed):
    """Build the mmpretrain classifier of a pretrain config, perturb every
    tensor (so that BN statistics, BN affine parameters and zero-initialised
    layers no longer hold the values a fresh init gives them; activations
    stay in range) and save it as an mmengine-style checkpoint.

    Returns:
        dict: the classifier's ``backbone.*`` tensors (keys without prefix).
    """
    cfg = Config.fromfile(osp.join(REPO, cfg_path))
    init_default_scope('mmpretrain')
    from mmpretrain.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.is_floating_point():
                scale = 0.9 + 0.2 * torch.rand(t.shape, generator=gen)
                noise = 0.01 * torch.randn(t.shape, generator=gen)
                t.mul_(scale).add_(noise)
                if name.endswith('running_var'):
                    t.abs_()
            elif name.endswith('num_batches_tracked'):
                t.fill_(7)
    sd = model.state_dict()
    assert any(k.startswith('head.') for k in sd)
    torch.save({'state_dict': sd, 'meta': dict(config=cfg_path)}, out_path)
    return {k[len('backbone.'):]: v.clone() for k, v in sd.items()
            if k.startswith('backbone.')}


def _convert(tmp_path_factory, pretrain_cfg, backbone, seed):
    from mmrm.convert import convert_checkpoint
    d = tmp_path_factory.mktemp(backbone)
    src, dst = str(d / 'pretrain.pth'), str(d / f'{backbone}_backbone.pth')
    original = _pretrain_checkpoint(pretrain_cfg, src, seed)
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


# ------------------------------------------------------ config overrides
def _set_resize(pipeline, scale, crop=None):
    for t in pipeline:
        if t['type'] in ('Resize', 'RandomResize'):
            t['scale'] = scale
        if t['type'] == 'RandomCrop' and crop is not None:
            t['crop_size'] = crop


def _set_num_classes(node, old, new):
    """Replace every ``num_classes=old`` in a (nested) model config."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == 'num_classes' and v == old:
                node[k] = new
            else:
                _set_num_classes(v, old, new)
    elif isinstance(node, (list, tuple)):
        for v in node:
            _set_num_classes(v, old, new)


def _det_overrides(cfg):
    # the fixture's 2 categories replace COCO's 80 in every head (HTC's
    # semantic head keeps its 183 COCO-stuff classes: the stuff maps use
    # COCO-stuff's convention)
    _set_num_classes(cfg.model, 80, len(COCO_CLASSES))
    # a freshly initialised dense head scores every box at its prior (0.01),
    # below the stock threshold 0.05: keep all boxes so that the evaluation
    # has detections to score
    test_cfg = cfg.model.test_cfg
    (test_cfg.rcnn if 'rcnn' in test_cfg else test_cfg).score_thr = 0.0
    _fewer_boxes(cfg.model)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dl = cfg[name]
        dl.update(num_workers=0, persistent_workers=False)
        dl.dataset.update(data_root=COCO_ROOT,
                          metainfo=dict(classes=COCO_CLASSES))
        _set_resize(dl.dataset.pipeline, DET_SCALE)
    cfg.train_dataloader.batch_size = 1
    for name in ('val_evaluator', 'test_evaluator'):
        cfg[name].ann_file = COCO_ROOT + 'annotations/instances_val2017.json'


def _fewer_boxes(model):
    """CPU time: far fewer proposals / sampled RoIs / kept detections than
    the COCO-scale defaults (a handful of objects per fixture image)."""
    train_cfg, test_cfg = model.train_cfg, model.test_cfg
    if 'rpn' in test_cfg:  # two-stage: Mask R-CNN, HTC
        train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=100)
        rcnn = train_cfg.rcnn
        for stage in (rcnn if isinstance(rcnn, list) else [rcnn]):
            stage.sampler.num = 64
        test_cfg.rpn.update(nms_pre=200, max_per_img=100)
        test_cfg.rcnn.max_per_img = 20
    else:  # dense heads: ATSS, GFL
        test_cfg.update(nms_pre=200, max_per_img=20)


def _seg_overrides(cfg):
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dl = cfg[name]
        dl.update(num_workers=0, persistent_workers=False)
        dl.dataset.data_root = ADE_ROOT
        _set_resize(dl.dataset.pipeline, SEG_SCALE, SEG_CROP)
    cfg.train_dataloader.batch_size = 2
    cfg.model.data_preprocessor.size = SEG_CROP


@functools.lru_cache(maxsize=None)
def _parse(rel):
    return Config.fromfile(osp.join(REPO, rel))


def fixture_config(rel, checkpoint, work_dir, evaluate=True):
    """The config ``rel`` with the checkpoint replaced and the data pointed
    at the fixtures: small images, one training iteration, then (optionally)
    one evaluation; no checkpoint saving."""
    cfg = copy.deepcopy(_parse(rel))
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    if cfg.default_scope == 'mmdet':
        _det_overrides(cfg)
    else:
        _seg_overrides(cfg)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1,
                         val_interval=1 if evaluate else 10)
    if not evaluate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    return cfg


class Recorder(Hook):
    """Keeps the backbone weights the training starts from, the training
    outputs and the evaluation metrics."""
    priority = 'VERY_LOW'

    def __init__(self):
        self.initial = None
        self.losses = []
        self.metrics = None

    def before_train(self, runner):
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        self.initial = copy.deepcopy(model.backbone.state_dict())

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.losses.append({k: float(torch.as_tensor(v).detach())
                            for k, v in outputs.items()})

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = dict(metrics)


def run(cfg):
    runner = Runner.from_cfg(cfg)
    rec = Recorder()
    runner.register_hook(rec)
    runner.train()
    return runner, rec


def assert_loaded(rec, converted):
    assert rec.initial is not None, 'training never started'
    assert set(rec.initial) == set(converted)
    differ = [k for k, v in converted.items()
              if not torch.equal(rec.initial[k].cpu(), v)]
    assert not differ, f'backbone tensors not loaded: {differ[:5]}'


def metafile_metrics(rel):
    """Metric names the metafile lists for config ``rel``."""
    with open(osp.join(REPO, osp.dirname(rel), 'metafile.yml')) as f:
        models = yaml.safe_load(f)['Models']
    (entry, ) = [m for m in models if m['Config'] == rel]
    return {k for r in entry['Results'] for k in r['Metrics']}


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
    original = _pretrain_checkpoint(cfg, src, seed=3)
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
