"""Fine-tuning runs on the repository's tiny COCO / ADE20K fixtures, shared
by the det/seg tests and ``tools/gpu_check.py`` (so that the GPU check runs
exactly what the CPU tests run).

- :func:`pretrain_checkpoint`: the classifier of a pretrain config with
  every tensor perturbed, saved like mmengine does (what the converter
  reads);
- :func:`fixture_config`: a det/seg config pointed at the fixtures (small
  images, one iteration, optional evaluation, no checkpoint saving), its
  backbone loading a given converted checkpoint;
- :class:`Recorder`: a hook keeping the backbone weights the training starts
  from, the losses and the metrics; :func:`assert_loaded` compares those
  weights with the converted ones;
- :func:`metafile_metrics`: the metrics a config's metafile lists.

They need a repository checkout (``configs/`` and ``tests/data/``).
"""
import copy
import functools
import os
import os.path as osp

import torch
import yaml
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner


def _find_repo() -> str:
    """The checkout whose ``configs/`` and ``tests/data/`` the fixtures use:
    the one mmrm is imported from (``pip install -e .``, the tests), else the
    current directory (a plain install such as the wheel bundle's, run from
    the unpacked source as ``tools/gpu_check.sh`` does)."""
    here = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    for root in (here, os.getcwd()):
        if osp.isdir(osp.join(root, 'configs')) and \
                osp.isdir(osp.join(root, 'tests', 'data')):
            return root
    return here


REPO = _find_repo()
COCO_ROOT = osp.join(REPO, 'tests', 'data', 'coco_fixture') + '/'
ADE_ROOT = osp.join(REPO, 'tests', 'data', 'ade_fixture')
COCO_CLASSES = ('nucleus', 'animal')
DET_SCALE = (160, 128)
SEG_SCALE = (192, 96)
SEG_CROP = (96, 96)

#: the ResNet-50 RM config of each method of paper Tables 7-9
R50_CONFIGS = {
    'atss': 'configs/det/atss/atss_r50-rm_fpn_1x_coco.py',
    'gfl': 'configs/det/gfl/gfl_r50-rm_fpn_1x_coco.py',
    'mask_rcnn': 'configs/det/mask_rcnn/mask-rcnn_r50-rm_fpn_1x_coco.py',
    'htc': 'configs/det/htc/htc_r50-rm_fpn_1x_coco.py',
    'pspnet': 'configs/seg/pspnet/pspnet_r50-d8-rm_4xb4-80k_ade20k-512x512.py',
    'upernet': 'configs/seg/upernet/upernet_r50-rm_8xb2-80k_ade20k-512x512.py',
}
#: the same methods with PVTv2-B1
PVT_CONFIGS = {k: v.replace('_r50-d8-', '_pvtv2-b1-').replace(
    '_r50-', '_pvtv2-b1-') for k, v in R50_CONFIGS.items()}


def _repo_file(rel: str) -> str:
    path = osp.join(REPO, rel)
    if not osp.exists(path):
        raise FileNotFoundError(
            f'{rel} not found under {REPO}: the fine-tuning fixtures need a '
            f'repository checkout, either the one mmrm is installed from '
            f'(pip install -e .) or the current directory (run from the '
            f'checkout\'s root, as tools/gpu_check.sh does)')
    return path


# ----------------------------------------------------------- checkpoints
def pretrain_checkpoint(cfg_path: str, out_path: str, seed: int) -> dict:
    """Build the mmpretrain classifier of a pretrain config (path relative
    to the repository or absolute), perturb every tensor (so that BN
    statistics, BN affine parameters and zero-initialised layers no longer
    hold the values a fresh init gives them; activations stay in range) and
    save it as an mmengine-style checkpoint.

    Returns:
        dict: the classifier's ``backbone.*`` tensors (keys without prefix).
    """
    cfg = Config.fromfile(_repo_file(cfg_path))
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
    if not any(k.startswith('head.') for k in sd):
        raise ValueError(f'{cfg_path}: the model has no head.* weights')
    torch.save({'state_dict': sd, 'meta': dict(config=cfg_path)}, out_path)
    return {k[len('backbone.'):]: v.clone() for k, v in sd.items()
            if k.startswith('backbone.')}


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
    return Config.fromfile(_repo_file(rel))


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


# -------------------------------------------------------------- checking
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
    """Train ``cfg`` with a :class:`Recorder`; returns ``(runner,
    recorder)``."""
    runner = Runner.from_cfg(cfg)
    rec = Recorder()
    runner.register_hook(rec)
    runner.train()
    return runner, rec


def assert_loaded(rec: Recorder, converted) -> None:
    """The backbone the training started from holds exactly the tensors of
    ``converted`` (same keys, equal values).

    Raises:
        AssertionError: naming what differs.
    """
    if rec.initial is None:
        raise AssertionError('training never started')
    if set(rec.initial) != set(converted):
        raise AssertionError(
            f'backbone keys differ: only in the model '
            f'{sorted(set(rec.initial) - set(converted))[:5]}, only in the '
            f'checkpoint {sorted(set(converted) - set(rec.initial))[:5]}')
    differ = [k for k, v in converted.items()
              if not torch.equal(rec.initial[k].cpu(), v)]
    if differ:
        raise AssertionError(f'backbone tensors not loaded: {differ[:5]}')


def metafile_metrics(rel):
    """Metric names the metafile lists for config ``rel``."""
    with open(_repo_file(osp.join(osp.dirname(rel), 'metafile.yml'))) as f:
        models = yaml.safe_load(f)['Models']
    (entry, ) = [m for m in models if m['Config'] == rel]
    return {k for r in entry['Results'] for k in r['Metrics']}
