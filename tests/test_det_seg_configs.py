"""Static checks of the COCO / ADE20K fine-tuning configs, their metafiles and
the tiny fixtures under tests/data (no training here; see
test_det_seg_train.py for that).

- every config under configs/det and configs/seg parses and its model builds;
- each baseline config, merged, differs from the stock mmdet/mmseg config it
  inherits only where docs/downstream.md says it should;
- the -cutmix / -rm configs differ from their baseline only in the backbone
  checkpoint, and checkpoints follow one naming scheme;
- every metafile entry names an existing config of its backbone and variant
  (their numbers: tests/test_metafiles.py);
- the fixtures follow the COCO / ADE20K conventions the datasets expect.
"""
import ast
import copy
import functools
import glob
import json
import os.path as osp
import re

import numpy as np
import pytest
import yaml
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import get_installed_path

from config_blocks import shared_base_variables

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DATA = osp.join(REPO, 'tests', 'data')
CONFIG_DIRS = ('configs/det', 'configs/seg')


def _configs(pattern='**/*.py'):
    out = []
    for d in CONFIG_DIRS:
        out += glob.glob(osp.join(REPO, d, pattern), recursive=True)
    return sorted(osp.relpath(p, REPO) for p in out)


def variant_of(rel):
    """The pretraining variant, the last hyphen part of the backbone field
    (``atss_r50-rm_fpn_1x_coco.py`` -> ``rm``)."""
    return re.search(r'-(baseline|cutmix|rm)_', osp.basename(rel)).group(1)


ALL_CONFIGS = [c for c in _configs() if '/_base_/' not in c]
# mmrm's transformer extension has no paper rows and its own metafiles:
# tests/test_transformers_configs.py
EXTENSION = ('_swin-t-', '_deit-s-')
PAPER_CONFIGS = [c for c in ALL_CONFIGS if '/demo/' not in c
                 and not any(e in c for e in EXTENSION)]
BASELINE_CONFIGS = [c for c in PAPER_CONFIGS if variant_of(c) == 'baseline']
VARIANT_CONFIGS = [c for c in PAPER_CONFIGS if variant_of(c) != 'baseline']
BUILD_CONFIGS = BASELINE_CONFIGS + [c for c in ALL_CONFIGS if '/demo/' in c]


@functools.lru_cache(maxsize=None)
def _parse(path):
    return Config.fromfile(path)


def load(rel):
    """Parsed config (cached: parsing an mmdet::/mmseg:: chain takes ~0.5 s;
    callers that modify it must copy it first)."""
    return _parse(osp.join(REPO, rel))


def _bases(path):
    """The ``_base_`` entries of a config file, as a list."""
    with open(path) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            bases = ast.literal_eval(node.value)
            return [bases] if isinstance(bases, str) else list(bases)
    return []


def stock_config(rel):
    """Parse the stock mmdet/mmseg config of ``rel``'s chain (the one
    ``mmdet::`` / ``mmseg::`` base it reaches)."""
    todo, stock = [osp.join(REPO, rel)], []
    while todo:
        path = todo.pop()
        for base in _bases(path):
            if '::' in base:
                pkg, sub = base.split('::')
                stock.append(osp.join(get_installed_path(pkg), '.mim',
                                      'configs', sub))
            else:
                todo.append(osp.normpath(osp.join(osp.dirname(path), base)))
    assert len(stock) == 1, f'{rel} reaches stock configs {stock}'
    return _parse(stock[0])


def flatten(obj, prefix=''):
    """Config dict -> {dotted.key: leaf}; list items get their index."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f'{prefix}{k}.'))
    elif isinstance(obj, (list, tuple)) and any(
            isinstance(v, (dict, list, tuple)) for v in obj):
        for i, v in enumerate(obj):
            out.update(flatten(v, f'{prefix}{i}.'))
    else:
        out[prefix[:-1]] = obj
    return out


def changed_keys(cfg, stock):
    """Dotted keys of the merged configs whose values differ; ``_scope_``
    markers (added by mmengine when a base comes from another package) and
    the shared ``_base_`` blocks the stock config lacks are not changes."""
    blocks = shared_base_variables() - set(stock)
    a, b = flatten(cfg.to_dict()), flatten(stock.to_dict())
    a = {k: v for k, v in a.items() if not k.endswith('_scope_')
         and k.split('.')[0] not in blocks}
    b = {k: v for k, v in b.items() if not k.endswith('_scope_')}
    return {k for k in set(a) | set(b) if a.get(k, '<absent>') != b.get(
        k, '<absent>')}


def backbone_of(rel):
    return 'pvtv2-b1' if 'pvtv2-b1' in osp.basename(rel) else 'resnet50'


# ----------------------------------------------------------------- parsing
@pytest.mark.parametrize('rel', ALL_CONFIGS)
def test_config_parses_and_imports_mmrm(rel):
    cfg = load(rel)
    assert cfg.custom_imports == dict(
        imports=['mmrm'], allow_failed_imports=False)
    init_cfg = cfg.model.backbone.init_cfg
    assert init_cfg.type == 'StrictPretrained'
    assert init_cfg.checkpoint.endswith('.pth')


@pytest.mark.parametrize('rel', BUILD_CONFIGS)
def test_config_builds_model(rel):
    """Build the model (no weights are loaded: init_weights is not called)
    and check the backbone's stage widths match what the neck/heads expect."""
    import torch
    cfg = load(rel)
    init_default_scope(cfg.default_scope)
    if cfg.default_scope == 'mmdet':
        from mmdet.registry import MODELS
    else:
        from mmseg.registry import MODELS
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.eval()
    size = 64
    with torch.no_grad():
        feats = model.backbone(torch.zeros(1, 3, size, size))
    widths = [f.shape[1] for f in feats]
    if 'demo' in rel:
        assert widths == [16, 32, 64, 128]
    elif backbone_of(rel) == 'pvtv2-b1':
        assert widths == [64, 128, 320, 512]
    else:
        assert widths == [256, 512, 1024, 2048]
    if cfg.default_scope == 'mmdet':
        assert list(cfg.model.neck.in_channels) == widths
    else:
        head = cfg.model.decode_head
        idx = head.in_index
        want = ([widths[i] for i in idx] if isinstance(idx, (list, tuple))
                else widths[idx])
        assert head.in_channels == want or list(head.in_channels) == want
        assert cfg.model.auxiliary_head.in_channels == widths[
            cfg.model.auxiliary_head.in_index]


# ------------------------------------------------- what differs from stock
ALLOWED = {
    # (library, backbone, method) -> key prefixes that may differ from stock
    'det-resnet50': ('custom_imports', 'model.backbone.init_cfg'),
    'det-pvtv2-b1': ('custom_imports', 'model.backbone',
                     'model.neck.in_channels', 'optim_wrapper.optimizer'),
    'pspnet-resnet50': ('custom_imports', 'model.backbone.init_cfg',
                        'model.backbone.type', 'model.pretrained'),
    'pspnet-pvtv2-b1': ('custom_imports', 'model.backbone', 'model.pretrained',
                        'model.decode_head.in_channels',
                        'model.auxiliary_head.in_channels'),
}
ALLOWED['upernet-resnet50'] = ALLOWED['pspnet-resnet50'] + (
    'optimizer', 'optim_wrapper.optimizer', 'param_scheduler',
    'train_dataloader.batch_size')
ALLOWED['upernet-pvtv2-b1'] = ALLOWED['pspnet-pvtv2-b1'] + (
    'optimizer', 'optim_wrapper.optimizer', 'param_scheduler',
    'train_dataloader.batch_size')


def _kind(rel):
    bb = backbone_of(rel)
    if rel.startswith('configs/det'):
        return f'det-{bb}'
    return ('pspnet' if 'pspnet' in rel else 'upernet') + f'-{bb}'


@pytest.mark.parametrize('rel', BASELINE_CONFIGS)
def test_baseline_changes_only_what_the_paper_changes(rel):
    cfg, stock = load(rel), stock_config(rel)
    allowed = ALLOWED[_kind(rel)]
    extra = sorted(k for k in changed_keys(cfg, stock)
                   if not k.startswith(allowed))
    assert not extra, f'{rel} changes stock keys {extra}'


@pytest.mark.parametrize('rel', [c for c in BASELINE_CONFIGS
                                 if c.startswith('configs/seg')])
def test_seg_recipe(rel):
    cfg = load(rel)
    assert cfg.train_cfg.max_iters == 80000
    assert cfg.train_dataloader.dataset.type == 'ADE20KDataset'
    assert tuple(cfg.crop_size) == (512, 512)
    assert cfg.model.pretrained is None
    if backbone_of(rel) == 'resnet50':
        # plain torchvision-style ResNet-50, not ResNetV1c (deep stem)
        assert cfg.model.backbone.type == 'ResNet'
        assert cfg.model.backbone.depth == 50
        assert not cfg.model.backbone.get('deep_stem', False)
    if 'upernet' in rel:
        opt = cfg.optim_wrapper.optimizer
        assert (opt.type, opt.lr, opt.weight_decay) == ('AdamW', 1e-4, 1e-4)
        assert 'momentum' not in opt
        (poly, ) = cfg.param_scheduler
        assert poly.type == 'PolyLR' and poly.eta_min == 0.0
        assert poly.power == 0.9 and poly.end == 80000
        assert cfg.train_dataloader.batch_size == 2
    else:
        opt = cfg.optim_wrapper.optimizer
        assert (opt.type, opt.lr) == ('SGD', 0.01)
        assert cfg.train_dataloader.batch_size == 4


@pytest.mark.parametrize('rel', [c for c in BASELINE_CONFIGS
                                 if c.startswith('configs/det')])
def test_det_recipe(rel):
    cfg = load(rel)
    assert cfg.train_cfg.max_epochs == 12
    if 'htc_' in osp.basename(rel):
        assert cfg.train_dataloader.dataset.data_prefix.seg == \
            'stuffthingmaps/train2017/'
        assert cfg.model.roi_head.semantic_head.num_classes == 183
    if 'htc-without-semantic' in rel:
        assert 'semantic_head' not in cfg.model.roi_head
    if backbone_of(rel) == 'pvtv2-b1':
        bb = cfg.model.backbone
        # mmdet's PVTv2 ignores StrictPretrained; mmrm's subclass honours it
        assert bb.type == 'mmdet.StrictPyramidVisionTransformerV2'
        assert bb.embed_dims == 64 and list(bb.num_layers) == [2, 2, 2, 2]
        assert bb.convert_weights is False


# ------------------------------------------------------ variants, naming
@pytest.mark.parametrize('rel', VARIANT_CONFIGS)
def test_variant_differs_only_in_checkpoint(rel):
    variant = variant_of(rel)
    base = rel.replace(f'-{variant}_', '-baseline_')
    diff = changed_keys(load(rel), load(base))
    assert diff == {'model.backbone.init_cfg.checkpoint'}
    assert load(rel).model.backbone.init_cfg.checkpoint == \
        f'checkpoints/{backbone_of(rel)}_{variant}_backbone.pth'


@pytest.mark.parametrize('rel', BASELINE_CONFIGS)
def test_baseline_checkpoint_name(rel):
    assert load(rel).model.backbone.init_cfg.checkpoint == \
        f'checkpoints/{backbone_of(rel)}_baseline_backbone.pth'


def test_demo_checkpoint_key_path():
    """demo/pipeline_demo.sh sets model.backbone.init_cfg.checkpoint."""
    for rel in ('configs/det/demo/atss_r18-w16-rm_fpn_5e_coco-fixture.py',
                'configs/seg/demo/upernet_r18-w16-rm_1xb2-20i_ade20k-fixture-128x128.py'):
        cfg = copy.deepcopy(load(rel))
        cfg.merge_from_dict(
            {'model.backbone.init_cfg.checkpoint': '/x/converted.pth'})
        assert cfg.model.backbone.init_cfg == dict(
            type='StrictPretrained', checkpoint='/x/converted.pth')
        bb = cfg.model.backbone
        assert (bb.depth, bb.stem_channels, bb.base_channels) == (18, 16, 16)
        assert not bb.get('deep_stem', False)


# -------------------------------------------------------------- metafiles
METAFILES = sorted(
    glob.glob(osp.join(REPO, 'configs/det/*/metafile.yml')) +
    glob.glob(osp.join(REPO, 'configs/seg/*/metafile.yml')))


def _metafile_models():
    models = []
    for mf in METAFILES:
        with open(mf) as f:
            models += yaml.safe_load(f)['Models']
    return models


def test_metafiles_cover_every_config_once():
    names = [m['Name'] for m in _metafile_models()]
    assert len(names) == len(set(names))
    stems = {osp.splitext(osp.basename(c))[0] for c in PAPER_CONFIGS}
    assert set(names) == stems


def test_metafile_entries_name_their_configs():
    for m in _metafile_models():
        cfg = m['Config']
        assert osp.isfile(osp.join(REPO, cfg)), cfg
        assert osp.splitext(osp.basename(cfg))[0] == m['Name']
        meta = m['Metadata']
        assert meta['Backbone'].replace('_', '-') == backbone_of(cfg)
        assert meta['Pretrain'] == variant_of(cfg)
        if not m['Results']:
            # only HTC without its semantic branch is not a paper row
            assert 'htc-without-semantic' in m['Name']
            assert 'Paper Table' not in meta
            continue
        for result in m['Results']:
            assert result['Dataset'] == (
                'COCO' if cfg.startswith('configs/det') else 'ADE20K')


# --------------------------------------------------------------- fixtures
COCO = osp.join(DATA, 'coco_fixture')
ADE = osp.join(DATA, 'ade_fixture')


@pytest.mark.parametrize('split', ['train', 'val'])
def test_coco_fixture(split):
    import cv2
    from pycocotools.coco import COCO as COCOApi
    ann = osp.join(COCO, 'annotations', f'instances_{split}2017.json')
    coco = COCOApi(ann)
    assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == [
        'nucleus', 'animal']
    for img_id in coco.getImgIds():
        info = coco.loadImgs(img_id)[0]
        img = cv2.imread(osp.join(COCO, f'{split}2017', info['file_name']))
        assert img.shape[:2] == (info['height'], info['width'])
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        assert anns, info['file_name']
        stuff_path = osp.join(COCO, 'stuffthingmaps', f'{split}2017',
                              osp.splitext(info['file_name'])[0] + '.png')
        expected_stuff = np.full(img.shape[:2], 255, np.uint8)
        for a in anns:
            mask = coco.annToMask(a).astype(bool)
            ys, xs = np.nonzero(mask)
            x, y, w, h = a['bbox']
            # box and area are those of the decoded polygons
            assert abs(xs.min() - x) <= 0.5 and abs(ys.min() - y) <= 0.5
            assert abs(xs.max() + 1 - (x + w)) <= 0.5
            assert abs(ys.max() + 1 - (y + h)) <= 0.5
            assert mask.sum() == a['area'] > 0
            expected_stuff[mask] = a['category_id'] - 1
        if split == 'train':
            stuff = cv2.imread(stuff_path, cv2.IMREAD_UNCHANGED)
            assert stuff.shape == img.shape[:2]
            assert set(np.unique(stuff)) <= {0, 1, 255}
            # the stuff map is the union of the instance masks
            assert (stuff == expected_stuff).all()
        else:
            assert not osp.exists(stuff_path)


def test_ade_fixture_follows_ade20k_convention():
    import cv2
    from mmseg.datasets import ADE20KDataset
    classes = ADE20KDataset.METAINFO['classes']
    assert len(classes) == 150
    # png value k (1-based) is class k - 1 after reduce_zero_label
    names = {5: 'tree', 127: 'animal'}
    for k, name in names.items():
        assert classes[k - 1] == name
    for split in ('training', 'validation'):
        imgs = sorted(glob.glob(osp.join(ADE, 'images', split, '*.jpg')))
        assert len(imgs) == 2
        for p in imgs:
            stem = osp.splitext(osp.basename(p))[0]
            lab = cv2.imread(
                osp.join(ADE, 'annotations', split, stem + '.png'),
                cv2.IMREAD_UNCHANGED)
            assert lab.dtype == np.uint8 and lab.ndim == 2
            assert lab.shape == cv2.imread(p).shape[:2]
            values = set(np.unique(lab).tolist())
            assert values <= {0, *names}, values
            assert values & set(names), f'{stem} has no labelled pixel'


def test_fixtures_are_small():
    total = sum(osp.getsize(p) for d in (COCO, ADE)
                for p in glob.glob(osp.join(d, '**', '*'), recursive=True)
                if osp.isfile(p))
    assert total < 2 * 1024 * 1024
    with open(osp.join(COCO, 'annotations', 'instances_train2017.json')) as f:
        assert len(json.load(f)['images']) == 3
