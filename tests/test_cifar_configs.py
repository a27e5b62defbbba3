"""CIFAR recipes (configs/pretrain/cifar): parse, build, recipe values, and
that every variant / ablation differs from its reference in its switch only."""
import copy
import functools
import glob
import math
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import import_modules_from_strings

from config_blocks import shared_base_variables

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CIFAR = osp.join(ROOT, 'configs', 'pretrain', 'cifar')
CONFIGS = sorted(glob.glob(osp.join(CIFAR, '*.py')))
STEMS = [osp.splitext(osp.basename(p))[0] for p in CONFIGS]

BACKBONES = {  # config prefix -> (backbone type, last-stage channels)
    'resnet18_2xb64-200e': ('ResNet_CIFAR', 512),
    'resnet34_2xb64-200e': ('ResNet_CIFAR', 512),
    'densenet121_2xb64-200e': ('DenseNet_CIFAR', 1024),
    'densenet161_2xb64-200e': ('DenseNet_CIFAR', 2208),
    'pyramidnet164-a270_2xb64-200e': ('PyramidNet', 1144),
    'pyramidnet200-a240_2xb32-300e': ('PyramidNet', 1024),
}


@functools.lru_cache(maxsize=None)
def _load(stem):
    """Parsed config (cached: parsing resolves mmpretrain bases; read-only)."""
    return Config.fromfile(osp.join(CIFAR, stem + '.py'))


def _flat(value, prefix=''):
    """Nested dicts -> {'a.b.c': leaf}; lists are leaves (compared whole).
    The named blocks of the ``_base_`` files (``rm_head``, ``mixup_model``,
    ...) are dropped: they are inputs, the merged fields are what counts."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not prefix and k in shared_base_variables():
                continue
            out.update(_flat(v, f'{prefix}{k}.'))
        return out
    return {prefix[:-1]: value}


def _diff(a: Config, b: Config):
    fa, fb = _flat(a.to_dict()), _flat(b.to_dict())
    return {k for k in set(fa) | set(fb) if fa.get(k, 'MISSING') != fb.get(
        k, 'MISSING')}


def _collapse(keys, prefix='model.train_cfg'):
    """Fold every key under ``prefix`` into ``prefix`` itself."""
    return {prefix if k.startswith(prefix + '.') else k for k in keys}


def _prefix(stem):
    return next(p for p in BACKBONES if stem.startswith(p))


def test_every_family_has_all_variants():
    assert len(CONFIGS) == 30
    for prefix in BACKBONES:
        ds = 'cifar10' if '300e' in prefix else 'cifar100'
        for suffix in ('', '-mixup', '-cutmix', '-rm'):
            assert f'{prefix}{suffix}_{ds}' in STEMS


@pytest.mark.parametrize('stem', STEMS)
def test_backbone_is_the_one_the_name_says(stem):
    """ResNet-34 / DenseNet-161 inherit the ResNet-18 / DenseNet-121 configs:
    each must still build the depth / arch / widening its name gives."""
    bb = _load(stem).model.backbone
    name = _prefix(stem).split('_')[0]  # e.g. 'pyramidnet164-a270'
    if name.startswith('resnet'):
        assert bb.depth == int(name[len('resnet'):])
    elif name.startswith('densenet'):
        assert bb.arch == name[len('densenet'):]
    else:
        depth, alpha = re.match(r'pyramidnet(\d+)-a(\d+)', name).groups()
        assert (bb.depth, bb.alpha) == (int(depth), int(alpha))


_BUILT = {}


@pytest.mark.parametrize('stem', STEMS)
def test_config_builds_model(stem):
    from mmpretrain.registry import MODELS
    cfg = _load(stem)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    model_cfg = copy.deepcopy(cfg.model)
    # as mmengine's Runner does with the top-level data_preprocessor
    model_cfg.setdefault('data_preprocessor',
                         copy.deepcopy(cfg.get('data_preprocessor')))
    model = MODELS.build(model_cfg)
    btype, channels = BACKBONES[_prefix(stem)]
    assert type(model.backbone).__name__ == btype
    assert model.head.in_channels == channels
    assert model.head.num_classes == (10 if stem.endswith('cifar10') else 100)
    if stem.endswith('-rm_cifar100') or stem.endswith('-rm_cifar10'):
        assert type(model.data_preprocessor).__name__ == \
            'RecursiveMixDataPreprocessor'
        assert model.neck is None
    # the head's in_channels must be what the backbone gives (an 8x8 input
    # keeps this cheap; run once per backbone setting)
    key = str(cfg.model.backbone)
    if key not in _BUILT:
        model.eval()
        with torch.no_grad():
            _BUILT[key] = model.backbone(torch.randn(1, 3, 8, 8))[-1].shape[1]
    assert _BUILT[key] == channels


def _lrs(cfg, epochs):
    """lr of every epoch under cfg.param_scheduler (stepped per epoch)."""
    from mmengine.registry import PARAM_SCHEDULERS
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))],
                          lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = [PARAM_SCHEDULERS.build(
        dict(s, optimizer=opt)) for s in copy.deepcopy(cfg.param_scheduler)]
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        for s in schedulers:
            s.step()
    return lrs


def test_cifar100_recipe():
    init_default_scope('mmpretrain')
    cfg = _load('resnet18_2xb64-200e_cifar100')
    assert cfg.train_dataloader.batch_size == 64  # x 2 GPUs
    assert cfg.auto_scale_lr.base_batch_size == 128
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == \
        ('SGD', 0.1, 0.9, 5e-4) and not opt.get('nesterov', False)
    assert cfg.train_cfg.max_epochs == 200
    # official schedule: epoch e (1-based) <= 5: lr * e / 6; then
    # lr * (1 + cos((e - 1) * pi / 200)) / 2
    lrs = _lrs(cfg, 200)
    for k, lr in enumerate(lrs):
        e = k + 1
        ref = 0.1 * e / 6 if e <= 5 else \
            0.1 * 0.5 * (1 + math.cos((e - 1) * math.pi / 200))
        tol = 3e-3 * ref if e <= 5 else 1e-6 + 1e-6 * ref
        assert abs(lr - ref) <= tol, (e, lr, ref)


def test_cifar10_recipe():
    init_default_scope('mmpretrain')
    cfg = _load('pyramidnet200-a240_2xb32-300e_cifar10')
    assert cfg.train_dataloader.batch_size == 32  # x 2 GPUs = 64
    assert cfg.auto_scale_lr.base_batch_size == 64
    opt = cfg.optim_wrapper.optimizer
    assert (opt.lr, opt.momentum, opt.weight_decay, opt.nesterov) == \
        (0.25, 0.9, 1e-4, True)
    assert cfg.train_cfg.max_epochs == 300
    lrs = _lrs(cfg, 300)
    for k, lr in enumerate(lrs):
        e = k + 1
        ref = 0.25 * e / 6 if e <= 5 else 0.25 * 0.1**(
            (e > 150) + (e > 225))
        assert abs(lr - ref) <= 1e-9 + 1e-6 * ref, (e, lr, ref)


@pytest.mark.parametrize('prefix', sorted(BACKBONES))
def test_variants_differ_only_in_mixing(prefix):
    ds = 'cifar10' if '300e' in prefix else 'cifar100'
    ncls = 10 if ds == 'cifar10' else 100
    base = _load(f'{prefix}_{ds}')
    soft = {'model.head.loss.use_soft'}
    mixup = _load(f'{prefix}-mixup_{ds}')
    assert _collapse(_diff(base, mixup)) == soft | {'model.train_cfg'}
    assert mixup.model.train_cfg == dict(augments=dict(type='Mixup',
                                                       alpha=1.0))
    cutmix = _load(f'{prefix}-cutmix_{ds}')
    assert _collapse(_diff(base, cutmix)) == soft | {'model.train_cfg'}
    assert cutmix.model.train_cfg.augments == dict(type='CutMix', alpha=1.0)
    # CIFAR-10 follows the official CutMix recipe (prob 0.5)
    assert cutmix.model.train_cfg.get('probs') == (
        0.5 if ds == 'cifar10' else None)

    rm = _load(f'{prefix}-rm_{ds}')
    changed = _diff(base, rm)
    assert all(k.split('.')[0] in ('data_preprocessor', 'model',
                                   'custom_hooks', 'custom_imports')
               for k in changed), changed
    assert not any(k.startswith('model.backbone') for k in changed)
    dp = rm.data_preprocessor
    assert dp.type == 'RecursiveMixDataPreprocessor'
    assert (dp.alpha, dp.interpolation) == (0.5, 'nearest')
    assert dp.num_classes == ncls and dp.to_rgb is False
    assert (dp.mean, dp.std) == (base.data_preprocessor.mean,
                                 base.data_preprocessor.std)
    head = rm.model.head
    assert rm.model.neck is None
    assert (head.type, head.omega, head.share_fc,
            head.legacy_transposed_roi) == ('RecursiveMixHead', 0.1, False,
                                            False)
    assert head.loss.use_soft and head.num_classes == ncls
    assert head.in_channels == base.model.head.in_channels
    assert rm.custom_hooks == [dict(type='RecursiveMixHistoryHook',
                                    reset_each_epoch=True)]
    assert rm.custom_imports == dict(imports=['mmrm'],
                                     allow_failed_imports=False)


@pytest.mark.parametrize('ablation,reference,switch,value', [
    ('pyramidnet200-a240_2xb32-300e-rm-sharedfc_cifar10',
     'pyramidnet200-a240_2xb32-300e-rm_cifar10', 'model.head.share_fc', True),
    ('pyramidnet200-a240_2xb32-300e-rm-bilinear_cifar10',
     'pyramidnet200-a240_2xb32-300e-rm_cifar10',
     'data_preprocessor.interpolation', 'bilinear'),
    ('resnet18_2xb64-200e-rm-sharedfc_cifar100',
     'resnet18_2xb64-200e-rm_cifar100', 'model.head.share_fc', True),
    ('resnet18_2xb64-200e-rm-bilinear_cifar100',
     'resnet18_2xb64-200e-rm_cifar100', 'data_preprocessor.interpolation',
     'bilinear'),
    ('pyramidnet164-a270_2xb64-200e-rm-omega0_cifar100',
     'pyramidnet164-a270_2xb64-200e-rm_cifar100', 'model.head.omega', 0.0),
])
def test_rm_ablation_is_one_switch(ablation, reference, switch, value):
    abl, ref = _load(ablation), _load(reference)
    assert _diff(ref, abl) == {switch}
    assert _flat(abl.to_dict())[switch] == value


def test_no_history_ablation_is_cutmix_with_resize():
    from mmpretrain.models.utils.batch_augments import ResizeMix
    abl = _load('pyramidnet164-a270_2xb64-200e-cutmix-resize_cifar100')
    ref = _load('pyramidnet164-a270_2xb64-200e-cutmix_cifar100')
    assert _collapse(_diff(ref, abl)) == {'model.train_cfg'}
    aug = dict(abl.model.train_cfg.augments)
    assert aug.pop('type') == 'ResizeMix'
    resizemix = ResizeMix(**aug)
    # batch of 4 constant images 0..3: the box of every image holds a whole
    # other image of the batch, resized; labels weigh it by its area
    torch.manual_seed(0)
    np.random.seed(0)
    x = torch.arange(4.).view(4, 1, 1, 1).expand(4, 3, 16, 16).contiguous()
    y = torch.eye(4)
    areas = []
    for _ in range(20):
        mixed, scores = resizemix.mix(x.clone(), y.clone())
        assert torch.allclose(scores.sum(1).float(), torch.ones(4))
        for i in range(4):
            area = ((mixed[i, 0] - i).abs() > 0.5).float().mean().item()
            assert abs((1 - scores[i, i].item()) - area) < 1e-6
            if area > 0:
                areas.append(area)
    # CutMix's area law U(0, 1): both small and large pastes occur
    assert min(areas) < 0.2 and max(areas) > 0.6
    # why the config uses bilinear: ResizeMix always hands align_corners to
    # F.interpolate, which torch refuses for 'nearest'
    with pytest.raises(ValueError, match='align_corners'):
        ResizeMix(**dict(aug, interpolation='nearest')).mix(
            x.clone(), y.clone())
