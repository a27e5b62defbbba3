"""DeiT-S / Swin-T configs (mmrm's extension beyond the paper).

Every config builds its model; each follows the stock OpenMMLab recipe it
names and changes only the keys listed here; the three pretraining variants
differ only in the batch mixing and the det/seg variants only in the
checkpoint; the converted pretraining backbone fits the det/seg backbone
(same weights layout); the metafiles list every config once, with no paper
numbers; tiny versions of the RM configs train a few finite steps and
deploy to exactly the baseline classifier.
"""
import copy
import functools
import glob
import os.path as osp
import random

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import get_installed_path

import mmrm  # noqa: F401
from mmrm.convert import resolve_backbone
from test_det_seg_configs import changed_keys as changed

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PRETRAIN = {
    'deit': 'configs/pretrain/imagenet/deit-small_4xb256-300e{}_in1k.py',
    'swin': 'configs/pretrain/imagenet/swin-tiny_16xb64-300e{}_in1k.py',
}
DETSEG = {
    'mask-rcnn-swin':
    'configs/det/mask_rcnn/mask-rcnn_swin-t-{}_fpn_1x_coco.py',
    'upernet-swin':
    'configs/seg/upernet/upernet_swin-t-{}_8xb2-160k_ade20k-512x512.py',
    'upernet-deit':
    'configs/seg/upernet/upernet_deit-s-{}_mln_8xb2-160k_ade20k-512x512.py',
}
STOCK = {
    'deit': 'mmpretrain::deit/deit-small_4xb256_in1k.py',
    'swin': 'mmpretrain::swin_transformer/swin-tiny_16xb64_in1k.py',
    'mask-rcnn-swin': 'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py',
    'upernet-swin': 'mmseg::swin/swin-tiny-patch4-window7-in1k-pre_upernet_'
    '8xb2-160k_ade20k-512x512.py',
    'upernet-deit': 'mmseg::vit/vit_deit-s16-ln_mln_upernet_8xb2-160k_'
    'ade20k-512x512.py',
}
# keys each baseline may change in its stock config (prefixes)
CHANGED = {
    'deit': ('model.backbone.out_type', 'model.neck', 'model.head',
             'optim_wrapper.type'),
    'swin': ('optim_wrapper.type', ),
    'mask-rcnn-swin': ('custom_imports', 'model.backbone.type',
                       'model.backbone.convert_weights',
                       'model.backbone.init_cfg'),
    'upernet-swin': ('custom_imports', 'model.backbone.type',
                     'model.backbone.init_cfg'),
    'upernet-deit': ('custom_imports', 'model.pretrained',
                     'model.backbone.patch_bias', 'model.backbone.init_cfg'),
}
VARIANTS = ('baseline', 'cutmix', 'rm')
CHECKPOINT = {'mask-rcnn-swin': 'swin-tiny', 'upernet-swin': 'swin-tiny',
              'upernet-deit': 'deit-small-512px'}
TINY_VIT = dict(embed_dims=32, num_layers=2, num_heads=2,
                feedforward_channels=64)
TINY_SWIN = dict(embed_dims=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2])


def pretrain_path(family, variant):
    return PRETRAIN[family].format('' if variant == 'baseline' else
                                   f'-{variant}')


ALL_PRETRAIN = [pretrain_path(f, v) for f in PRETRAIN for v in VARIANTS]
ALL_DETSEG = [p.format(v) for p in DETSEG.values() for v in VARIANTS]


@functools.lru_cache(maxsize=None)
def load(rel):
    """Parsed config (cached; copy before changing it)."""
    if '::' in rel:
        pkg, sub = rel.split('::')
        return Config.fromfile(
            osp.join(get_installed_path(pkg), '.mim', 'configs', sub))
    return Config.fromfile(osp.join(ROOT, rel))


def build_classifier(cfg):
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    return MODELS.build(model_cfg)


def n_params(model, skip=()):
    return sum(p.numel() for n, p in model.named_parameters()
               if not n.startswith(skip))


# ------------------------------------------------------------ pretraining
@pytest.mark.parametrize('family', list(PRETRAIN))
def test_baseline_is_the_stock_mmpretrain_recipe(family):
    cfg = load(pretrain_path(family, 'baseline'))
    extra = [k for k in changed(cfg, load(STOCK[family]))
             if not k.startswith(CHANGED[family])]
    assert not extra, extra
    assert cfg.model.train_cfg.augments == [
        dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.auto_scale_lr.base_batch_size == 1024
    assert cfg.train_cfg.max_epochs == 300


@pytest.mark.parametrize('family', list(PRETRAIN))
def test_variants_differ_only_in_the_batch_mixing(family):
    base = load(pretrain_path(family, 'baseline'))
    cutmix = load(pretrain_path(family, 'cutmix'))
    diff = changed(cutmix, base)
    assert diff and all(
        k.startswith('model.train_cfg.augments.') for k in diff)
    assert cutmix.model.train_cfg.augments == [dict(type='CutMix', alpha=1.0)]
    rm = load(pretrain_path(family, 'rm'))
    allowed = ('custom_imports', 'custom_hooks', 'data_preprocessor',
               'model.neck', 'model.head', 'model.train_cfg')
    extra = [k for k in changed(rm, base) if not k.startswith(allowed)]
    assert not extra, extra
    assert rm.model.train_cfg is None and rm.model.neck is None
    assert rm.data_preprocessor.type == 'RecursiveMixDataPreprocessor'
    assert rm.data_preprocessor.alpha == 0.5 and rm.model.head.omega == 0.5
    assert rm.model.head.loss == base.model.head.loss  # label smoothing 0.1
    assert rm.model.head.feat_stride == {'deit': 16, 'swin': 32}[family]


@pytest.mark.parametrize('rel', ALL_PRETRAIN, ids=osp.basename)
def test_pretrain_config_builds_its_model(rel):
    model = build_classifier(load(rel))
    is_rm = '-rm_' in rel
    assert (type(model.head).__name__ == 'RecursiveMixHead') == is_rm
    with torch.no_grad():  # 224 px: 14x14 tokens (DeiT) / 7x7 (Swin)
        (feat, ) = model.backbone(torch.zeros(1, 3, 224, 224))
    want = (384, 14, 14) if 'deit' in rel else (768, 7, 7)
    assert tuple(feat.shape[1:]) == want


def _tiny(cfg, family):
    cfg = copy.deepcopy(cfg)
    bb, head = cfg.model.backbone, cfg.model.head
    if family == 'deit':
        bb.arch, head.in_channels = TINY_VIT, 32
    else:
        bb.update(arch=TINY_SWIN, window_size=2)
        head.in_channels = 64
    return cfg


@pytest.mark.parametrize('family', list(PRETRAIN))
def test_rm_deploys_to_exactly_the_baseline_classifier(family):
    torch.manual_seed(0)
    rm = build_classifier(_tiny(load(pretrain_path(family, 'rm')), family))
    plain = build_classifier(
        _tiny(load(pretrain_path(family, 'baseline')), family))
    rm.init_weights()
    fc_roi = n_params(rm) - n_params(rm, skip=('head.fc_roi', ))
    assert fc_roi == n_params(rm.head.fc) > 0
    assert n_params(rm, skip=('head.fc_roi', )) == n_params(plain)
    state = {k: v for k, v in rm.state_dict().items()
             if not k.startswith('head.fc_roi')}
    plain.load_state_dict(state, strict=True)
    rm.eval(), plain.eval()
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        assert torch.allclose(rm(x, mode='tensor'), plain(x, mode='tensor'),
                              atol=1e-5)


@pytest.mark.parametrize('family', list(PRETRAIN))
def test_tiny_rm_config_trains_finite_steps(family):
    """Non-square 64x96 batches through the RM preprocessor and head."""
    from helpers import cls_batch
    from mmengine.optim import OptimWrapper
    torch.manual_seed(0)
    model = build_classifier(_tiny(load(pretrain_path(family, 'rm')), family))
    model.data_preprocessor.recursive_mix.rng = random.Random(1)
    model.init_weights()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    seen = []
    for it in range(3):
        losses = model.train_step(
            cls_batch([it, 5, 999], 64, 96, seed=it), optim)
        assert all(torch.isfinite(v).all() for v in losses.values())
        seen.append(losses['loss_rm'].item())
    assert seen[0] == 0.0 and min(seen[1:]) > 0


# ------------------------------------------------------------- transfer
@pytest.mark.parametrize('kind', list(DETSEG))
def test_detseg_baseline_is_the_stock_recipe_with_strict_loading(kind):
    cfg = load(DETSEG[kind].format('baseline'))
    extra = [k for k in changed(cfg, load(STOCK[kind]))
             if not k.startswith(CHANGED[kind])]
    assert not extra, extra
    init = cfg.model.backbone.init_cfg
    assert init == dict(
        type='StrictPretrained',
        checkpoint=f'checkpoints/{CHECKPOINT[kind]}_baseline_backbone.pth')
    for variant in ('cutmix', 'rm'):
        other = load(DETSEG[kind].format(variant))
        assert changed(other, cfg) == {'model.backbone.init_cfg.checkpoint'}
        assert other.model.backbone.init_cfg.checkpoint == init.checkpoint. \
            replace('_baseline_', f'_{variant}_')


@pytest.mark.parametrize('kind', list(DETSEG))
def test_detseg_config_builds_its_model(kind):
    """The baseline of each kind (its variants differ only in the
    checkpoint path, see above; tests/test_transformers_train.py builds and
    trains all nine)."""
    rel = DETSEG[kind].format('baseline')
    cfg = load(rel)
    init_default_scope(cfg.default_scope)
    registry = __import__(f'{cfg.default_scope}.registry',
                          fromlist=['MODELS']).MODELS
    model = registry.build(copy.deepcopy(cfg.model)).eval()
    with torch.no_grad():
        feats = model.backbone(torch.zeros(1, 3, 64, 64))
    widths = [f.shape[1] for f in feats]
    if 'swin' in rel:
        assert type(model.backbone).__name__.startswith('Strict')
        assert widths == [96, 192, 384, 768]
    else:
        assert widths == [384] * 4
    reader = cfg.model.get('neck') or cfg.model.decode_head
    assert list(reader.in_channels) == widths


@pytest.mark.parametrize('kind', list(DETSEG))
def test_converted_pretraining_backbone_fits_the_transfer_backbone(kind):
    """The converter's target from the det/seg backbone and from the
    pretrain backbone are the same architecture (for DeiT up to the
    position-embedding grid, 224 -> 512 px: --resize-pos-embed)."""
    family = 'swin' if 'swin' in kind else 'deit'
    _, down, _ = resolve_backbone(
        load(DETSEG[kind].format('rm')).model.backbone.to_dict())
    _, pre, _ = resolve_backbone(
        load(pretrain_path(family, 'rm')).model.backbone.to_dict())
    for cfg in (down, pre):  # does not change the weights
        cfg['norm_cfg'].pop('requires_grad', None)
    diff = {k for k in set(down) | set(pre) if down.get(k) != pre.get(k)}
    if family == 'swin':
        assert diff == {'type'}  # StrictSwinTransformer vs SwinTransformer
        _, preset, _ = resolve_backbone('swin-tiny')
        assert {k for k in preset if preset[k] != down[k]} == {'type'}
    else:
        assert diff == {'img_size', 'out_indices'}
        assert tuple(down['img_size']) == (512, 512)


# ------------------------------------------------------------- metafiles
def test_metafiles_list_every_config_once_without_paper_numbers():
    models = []
    for mf in glob.glob(osp.join(ROOT, 'configs/**/metafile-transformers.yml'),
                        recursive=True):
        with open(mf) as f:
            data = yaml.safe_load(f)
        assert all(c['Metadata']['Extension'] == 'mmrm, beyond the paper'
                   for c in data['Collections'])
        models += data['Models']
    assert sorted(m['Config'] for m in models) == sorted(ALL_PRETRAIN +
                                                         ALL_DETSEG)
    for m in models:
        assert m['Name'] == osp.splitext(osp.basename(m['Config']))[0]
        assert m['Results'] == [] and 'Paper Table' not in m['Metadata']
        meta = m['Metadata']
        family = meta['Backbone'].split('_')[0]
        variant = meta.get('Pretrain', meta.get('Regularizer'))
        assert m['Config'] in ALL_DETSEG or m['Config'] == pretrain_path(
            family, variant)
        if 'Pretrain Config' in meta:
            assert meta['Pretrain Config'] == pretrain_path(family, variant)
