"""One fine-tuning iteration of every transformer det/seg config (mmrm's
extension beyond the paper) on the COCO / ADE20K fixtures, CPU.

A tiny version of the RM pretrain config (same recipe, a few narrow
layers) is saved as a training checkpoint with perturbed weights, converted
with ``convert_checkpoint`` for the det/seg backbone (DeiT-S: from the 224 px
14x14 position grid to the 512 px config's 32x32 one, as the docs say:
``--resize-pos-embed``), then each config, shrunk the same way, loads it
through ``StrictPretrained``: the backbone the Runner starts from EQUALS the
converted weights, and one training iteration gives finite losses.
"""
import math
import os.path as osp
import re

import pytest
import torch

from mmrm.testing.finetune_fixtures import (assert_loaded, fixture_config,
                                            pretrain_checkpoint, run)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PRETRAIN = {
    'swin': 'configs/pretrain/imagenet/swin-tiny_16xb64-300e-rm_in1k.py',
    'deit': 'configs/pretrain/imagenet/deit-small_4xb256-300e-rm_in1k.py',
}
CONFIGS = [
    p.format(v) for p in (
        'configs/det/mask_rcnn/mask-rcnn_swin-t-{}_fpn_1x_coco.py',
        'configs/seg/upernet/upernet_swin-t-{}_8xb2-160k_ade20k-512x512.py',
        'configs/seg/upernet/'
        'upernet_deit-s-{}_mln_8xb2-160k_ade20k-512x512.py')
    for v in ('baseline', 'cutmix', 'rm')
]
SWIN = dict(embed_dims=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2])
VIT = dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=128)
SWIN_WIDTHS = [8, 16, 32, 64]


def shrink(cfg, rel):
    """The det/seg config ``cfg`` (of file ``rel``) with the tiny backbone
    (in place)."""
    model = cfg.model
    if 'deit' in rel:
        model.backbone.update(embed_dims=32, num_layers=4, num_heads=2,
                              out_indices=(0, 1, 2, 3))
        model.neck.update(in_channels=[32] * 4, out_channels=32)
        model.decode_head.update(in_channels=[32] * 4, channels=16)
        model.auxiliary_head.update(in_channels=32, channels=16)
    else:
        model.backbone.update(SWIN)
        if 'mask-rcnn' in rel:
            model.neck.in_channels = SWIN_WIDTHS
        else:
            model.decode_head.update(in_channels=SWIN_WIDTHS, channels=16)
            model.auxiliary_head.update(in_channels=SWIN_WIDTHS[2],
                                        channels=16)
    return cfg


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """family -> (converted file, its state dict, the pretrained backbone
    tensors); converted for the
    rm config's (shrunk) backbone, which every variant shares."""
    from mmengine.config import Config

    from mmrm.convert import convert_checkpoint
    out = {}
    for family, rel in PRETRAIN.items():
        d = tmp_path_factory.mktemp(family)
        tiny_cfg = d / 'tiny_pretrain.py'
        arch, width = (SWIN, 64) if family == 'swin' else (VIT, 32)
        tiny_cfg.write_text(
            f"_base_ = '{osp.join(ROOT, rel)}'\n"
            f'model = dict(backbone=dict('
            f'arch=dict(_delete_=True, **{arch!r})), '
            f'head=dict(in_channels={width}))\n')
        src = str(d / 'epoch_300.pth')
        pretrained = pretrain_checkpoint(str(tiny_cfg), src, seed=3)
        target = [c for c in CONFIGS if family in c and '-rm_' in c][-1]
        backbone = shrink(Config.fromfile(osp.join(ROOT, target)),
                          target).model.backbone
        dst = str(d / f'{family}_rm_backbone.pth')
        state = convert_checkpoint(src, dst, backbone=backbone.to_dict(),
                                   resize_pos_embed=family == 'deit')
        out[family] = dst, state, pretrained
    return out


def assert_starts_from_pretrained(start, pretrained, family):
    """The Runner's starting backbone ``start`` against the pretraining
    checkpoint's backbone tensors, with the downstream names written here
    (mmseg's ViT keeps qkv/proj in an nn.MultiheadAttention; mmdet's and
    mmseg's Swin use mmpretrain's names) rather than taken from the
    converter."""
    seen = set()
    for key, value in pretrained.items():
        name = re.sub(r'attn\.qkv\.(weight|bias)', r'attn.attn.in_proj_\1',
                      key)
        name = re.sub(r'attn\.proj\.', 'attn.attn.out_proj.', name)
        seen.add(name)
        if family == 'deit' and key == 'pos_embed':
            from mmseg.models.backbones import VisionTransformer
            grid = int(math.sqrt(value.shape[1] - 1))
            side = int(math.sqrt(start[name].shape[1] - 1))
            value = VisionTransformer.resize_pos_embed(
                value, (side, side), (grid, grid), 'bicubic')
            assert torch.allclose(start[name], value, atol=1e-6), name
            continue
        assert torch.equal(start[name].cpu(), value), name
    filled = set(start) - seen
    assert filled == ({f'norm{i}.{p}' for i in range(3)
                       for p in ('weight', 'bias')}
                      if family == 'swin' else set())
    for name in filled:
        want = 1.0 if name.endswith('weight') else 0.0
        assert bool((start[name] == want).all()), name


@pytest.mark.parametrize('rel', CONFIGS, ids=osp.basename)
def test_strict_load_and_one_train_iteration(rel, converted, tmp_path):
    family = 'deit' if 'deit' in rel else 'swin'
    ckpt, state, pretrained = converted[family]
    cfg = shrink(fixture_config(rel, ckpt, tmp_path, evaluate=False), rel)
    runner, rec = run(cfg)
    assert_starts_from_pretrained(rec.initial, pretrained, family)
    assert_loaded(rec, state)
    assert len(rec.losses) == 1
    assert all(math.isfinite(v) for v in rec.losses[0].values())
    assert rec.losses[0]['loss'] > 0
