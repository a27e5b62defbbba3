"""Converting mmpretrain ViT / Swin classifiers for mmdet and mmseg (mmrm's
extension beyond the paper).

Tiny classifiers with random weights (every tensor perturbed, LayerNorms
included) are saved as mmengine checkpoints with an RM head, converted, and
loaded strictly into mmseg's VisionTransformer and mmdet's and mmseg's
SwinTransformer: every weight arrives unchanged and the downstream backbone
computes the same features as the mmpretrain one, so the key mapping (ViT
qkv -> in_proj, proj -> out_proj) is the real one. Each wrong target is an
error naming the mismatch; a position embedding of another grid is resized
only when asked, and the result says so.
"""
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

from helpers import load_tool
import mmrm  # noqa: F401
from mmrm.convert import (ArchitectureMismatchError, CheckpointError,
                          PositionEmbeddingError, StrictLoadError,
                          WrongBackboneError, convert_checkpoint)
from mmrm.convert.strict_init import load_state_dict_strictly

VIT = dict(type='VisionTransformer', img_size=64, patch_size=16,
           out_type='featmap',
           arch=dict(embed_dims=32, num_layers=3, num_heads=2,
                     feedforward_channels=128))
VIT_TARGET = dict(type='VisionTransformer', img_size=64, patch_size=16,
                  embed_dims=32, num_layers=3, num_heads=2, mlp_ratio=4,
                  final_norm=True, patch_bias=True, out_indices=(0, 1, 2),
                  norm_cfg=dict(type='LN', eps=1e-6))
SWIN = dict(type='SwinTransformer', img_size=128, window_size=2,
            out_indices=(3, ),
            arch=dict(embed_dims=16, depths=[2, 1, 2, 1],
                      num_heads=[1, 2, 2, 4]))
SWIN_TARGET = dict(type='SwinTransformer', pretrain_img_size=128,
                   embed_dims=16, depths=[2, 1, 2, 1], num_heads=[1, 2, 2, 4],
                   window_size=2, out_indices=(0, 1, 2, 3))


def save_classifier(backbone, in_channels, path, seed=0, meta=None):
    """An mmpretrain RM classifier with perturbed weights, saved like
    mmengine does; returns its backbone module."""
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(dict(
            type='ImageClassifier', backbone=backbone, neck=None,
            head=dict(type='RecursiveMixHead', num_classes=7,
                      in_channels=in_channels)))
    model.init_weights()
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.mul_(0.9 + 0.2 * torch.rand_like(t)).add_(
                    0.02 * torch.randn_like(t))
    torch.save({'state_dict': model.state_dict(), 'meta': meta or {}}, path)
    model.eval()
    return model.backbone


def build_seg_vit(**kw):
    from mmseg.models.backbones import VisionTransformer
    args = dict(VIT_TARGET, **kw)
    args.pop('type')
    module = VisionTransformer(**args)
    module.eval()  # mmseg's ViT.train() returns None
    return module


def build_swins(**kw):
    from mmdet.models.backbones import SwinTransformer as DetSwin
    from mmseg.models.backbones import SwinTransformer as SegSwin
    args = dict(SWIN_TARGET, **kw)
    args.pop('type')
    modules = DetSwin(**args), SegSwin(**args)
    for m in modules:
        m.eval()  # their train() returns None
    return modules


def load(path):
    return torch.load(path, map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def vit_ckpt(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('vit') / 'vit.pth')
    return path, save_classifier(VIT, 32, path)


@pytest.fixture(scope='module')
def swin_ckpt(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('swin') / 'swin.pth')
    return path, save_classifier(SWIN, 128, path)


# ------------------------------------------------------------ round trips
@pytest.mark.parametrize('target', [VIT_TARGET, VIT],
                         ids=['mmseg', 'mmpretrain'])
def test_vit_roundtrip_into_mmseg_same_weights_same_features(
        vit_ckpt, tmp_path, target):
    """Target given in mmseg's arguments or as the pretrain config's own
    backbone (translated): the same file."""
    src, backbone = vit_ckpt
    dst = str(tmp_path / 'vit_backbone.pth')
    convert_checkpoint(src, dst, backbone=target)
    out = load(dst)
    assert out['meta']['verified_with'] == ['mmseg.VisionTransformer']
    seg = build_seg_vit()
    load_state_dict_strictly(seg, out['state_dict'], 'test')
    for name, value in backbone.state_dict().items():
        name = re.sub(r'attn\.qkv\.(weight|bias)', r'attn.attn.in_proj_\1',
                      name)
        name = re.sub(r'attn\.proj\.', 'attn.attn.out_proj.', name)
        assert torch.equal(seg.state_dict()[name], value), name
    for shape in [(64, 64), (64, 96)]:  # the pretraining grid and another
        x = torch.randn(2, 3, *shape)
        with torch.no_grad():
            want = backbone(x)[-1]
            got = seg(x)[-1]
        assert torch.allclose(got, want, atol=1e-5), shape


def test_swin_roundtrip_into_mmdet_and_mmseg(swin_ckpt, tmp_path):
    """The same converted file loads into mmdet's and mmseg's Swin; the
    output norms a classifier lacks (norm0-2) are filled and reported."""
    src, backbone = swin_ckpt
    dst = str(tmp_path / 'swin_backbone.pth')
    convert_checkpoint(src, dst, backbone=SWIN_TARGET)
    out = load(dst)
    meta = out['meta']
    assert meta['verified_with'] == ['mmdet.SwinTransformer',
                                     'mmseg.SwinTransformer']
    filled = [f'norm{i}.{p}' for i in range(3) for p in ('weight', 'bias')]
    assert sorted(meta['filled_keys']) == sorted(filled)
    x = torch.randn(2, 3, 128, 192)  # every stage larger than the window
    with torch.no_grad():
        want = backbone(x)[-1]
    for module in build_swins():
        load_state_dict_strictly(module, out['state_dict'], 'test')
        state = module.state_dict()
        for name, value in backbone.state_dict().items():
            assert torch.equal(state[name], value), name
        for i in range(3):
            assert torch.equal(state[f'norm{i}.weight'],
                               torch.ones(16 * 2**i))
            assert torch.equal(state[f'norm{i}.bias'], torch.zeros(16 * 2**i))
        with torch.no_grad():
            assert torch.allclose(module(x)[3], want, atol=1e-5)


def test_presets_and_cli_with_backbone_config(swin_ckpt, tmp_path, capsys):
    from mmrm.convert import PRESETS
    assert PRESETS['swin-tiny']['depths'] == [2, 2, 6, 2]
    assert PRESETS['deit-small']['embed_dims'] == 384
    cfg = tmp_path / 'tiny_swin.py'
    cfg.write_text(f'model = dict(backbone={SWIN!r})\n')
    cli = load_tool('tools/model_converters/convert_checkpoint.py')
    src, _ = swin_ckpt
    dst = str(tmp_path / 'out.pth')
    assert cli.main([src, dst, '--backbone-config', str(cfg)]) == 0
    text = capsys.readouterr().out
    assert 'mmdet.SwinTransformer, mmseg.SwinTransformer' in text
    # the filled output norms, with the values of the filled tensors
    assert 'initialised as the target does: norm0.weight = 1, norm0.bias = ' \
        '0, norm1.weight = 1' in text
    # the file holds what the message says: the output norms a classifier
    # lacks, filled with weight 1 and bias 0 (stage i: width 16 * 2**i)
    state = load(dst)['state_dict']
    assert not any(re.match(r'backbone\.norm[012]\.', k)
                   for k in load(src)['state_dict'])
    assert 'backbone.norm3.weight' in load(src)['state_dict']
    for i in range(3):
        assert torch.equal(state[f'norm{i}.weight'], torch.ones(16 * 2**i))
        assert torch.equal(state[f'norm{i}.bias'], torch.zeros(16 * 2**i))
    assert cli.main([src, dst, '--backbone', 'deit-small']) == 1
    assert re.search(r'holds a Swin \(depths \[2, 1, 2, 1\], width 16, '
                     r'patch 4\) backbone, but the target is ViT',
                     capsys.readouterr().err)


# ----------------------------------------------------------------- errors
def _vit(**kw):
    return dict(VIT_TARGET, **kw)


@pytest.mark.parametrize('target,error,message', [
    (_vit(num_layers=4), ArchitectureMismatchError,
     r'depth 3 vs num_layers=4'),
    (_vit(patch_size=8, img_size=32), ArchitectureMismatchError,
     r'patch size 16 vs patch_size=8'),
    (_vit(embed_dims=64), ArchitectureMismatchError,
     r'embedding width 32 vs embed_dims=64'),
    (_vit(final_norm=False), ArchitectureMismatchError,
     r'has a final LayerNorm \(ln1\) vs final_norm=False'),
    (_vit(patch_bias=False), ArchitectureMismatchError,
     r'has a patch-embedding bias vs patch_bias=False'),
    (_vit(img_size=128), PositionEmbeddingError,
     r'pos_embed is a 4x4 grid, the target needs 8x8.*--resize-pos-embed'),
    (SWIN_TARGET, WrongBackboneError,
     r'holds a ViT \(3 layers, width 32, patch 16\) backbone, but the '
     r'target is Swin'),
])
def test_vit_wrong_target_names_the_mismatch(vit_ckpt, tmp_path, target,
                                             error, message):
    src, _ = vit_ckpt
    with pytest.raises(error, match=message):
        convert_checkpoint(src, str(tmp_path / 'x.pth'), backbone=target)
    assert not (tmp_path / 'x.pth').exists()


@pytest.mark.parametrize('target,message', [
    (dict(SWIN_TARGET, depths=[2, 2, 2, 2]),
     r'depths \[2, 1, 2, 1\] vs depths=\[2, 2, 2, 2\]'),
    (dict(SWIN_TARGET, window_size=7), r'window 2 vs window_size=7'),
    (dict(SWIN_TARGET, num_heads=[2, 2, 2, 4]),
     r'heads \[1, 2, 2, 4\] vs num_heads=\[2, 2, 2, 4\]'),
    (dict(SWIN_TARGET, patch_size=2, strides=(2, 2, 2, 2)),
     r'patch size 4 vs patch_size=2'),
])
def test_swin_wrong_target_names_the_mismatch(swin_ckpt, tmp_path, target,
                                              message):
    src, _ = swin_ckpt
    with pytest.raises(ArchitectureMismatchError, match=message):
        convert_checkpoint(src, str(tmp_path / 'x.pth'), backbone=target)
    with pytest.raises(WrongBackboneError, match='holds a Swin'):
        convert_checkpoint(src, str(tmp_path / 'x.pth'), backbone=VIT_TARGET)


def test_vit_without_pos_embed_is_refused(vit_ckpt, tmp_path):
    src, _ = vit_ckpt
    ckpt = torch.load(src, weights_only=True)
    del ckpt['state_dict']['backbone.pos_embed']
    broken = str(tmp_path / 'no_pos.pth')
    torch.save(ckpt, broken)
    with pytest.raises(PositionEmbeddingError, match='has no pos_embed'):
        convert_checkpoint(broken, str(tmp_path / 'x.pth'),
                           backbone=VIT_TARGET)


def test_settings_not_in_weights_checked_from_training_config(tmp_path):
    """ViT heads and LayerNorm eps are not in the weights; mmengine's
    meta.cfg tells them (without it the output says they were unchecked)."""
    cfg = Config(dict(model=dict(backbone=VIT)))
    src = str(tmp_path / 'vit.pth')
    save_classifier(VIT, 32, src, meta=dict(cfg=cfg.pretty_text))
    with pytest.raises(ArchitectureMismatchError,
                       match=r'heads 2 vs num_heads=4'):
        convert_checkpoint(src, str(tmp_path / 'x.pth'),
                           backbone=_vit(num_heads=4))
    with pytest.raises(ArchitectureMismatchError,
                       match=r'LayerNorm eps 1e-06 vs norm_cfg.eps=1e-05'):
        convert_checkpoint(src, str(tmp_path / 'x.pth'),
                           backbone=_vit(norm_cfg=dict(type='LN')))
    convert_checkpoint(src, str(tmp_path / 'ok.pth'), backbone=VIT_TARGET)
    assert 'unchecked' not in load(str(tmp_path / 'ok.pth'))['meta']
    swin = str(tmp_path / 'swin.pth')
    save_classifier(SWIN, 128, swin, meta=dict(
        cfg=Config(dict(model=dict(backbone=SWIN))).pretty_text))
    with pytest.raises(ArchitectureMismatchError,
                       match=r'LayerNorm eps 1e-05 vs norm_cfg.eps=1e-06'):
        convert_checkpoint(swin, str(tmp_path / 'x.pth'), backbone=dict(
            SWIN_TARGET, norm_cfg=dict(type='LN', eps=1e-6)))
    save_classifier(SWIN, 128, swin)  # no training config
    convert_checkpoint(swin, str(tmp_path / 'ok.pth'), backbone=SWIN_TARGET)
    assert load(str(tmp_path / 'ok.pth'))['meta']['unchecked'] == [
        'norm_cfg.eps']


# --------------------------------------------------- position embeddings
def test_pos_embed_resized_only_when_asked_and_said(vit_ckpt, tmp_path,
                                                    capsys):
    from mmpretrain.models.utils import resize_pos_embed
    from mmseg.models.backbones import VisionTransformer
    src, backbone = vit_ckpt
    target = _vit(img_size=128)
    cli = load_tool('tools/model_converters/convert_checkpoint.py')
    cfg = tmp_path / 'seg.py'
    cfg.write_text(f'model = dict(backbone={target!r})\n')
    dst = str(tmp_path / 'vit128.pth')
    assert cli.main([src, dst, '--backbone-config', str(cfg)]) == 1
    assert '--resize-pos-embed' in capsys.readouterr().err
    assert cli.main([src, dst, '--backbone-config', str(cfg),
                     '--resize-pos-embed']) == 0
    assert 'resized pos_embed from a 4x4 to a 8x8 grid (bicubic), as asked' \
        in capsys.readouterr().out
    out = load(dst)
    assert out['meta']['pos_embed_resized'] == dict(
        key='pos_embed', source_grid=[4, 4], target_grid=[8, 8],
        mode='bicubic')
    pos = backbone.pos_embed.detach()
    want = resize_pos_embed(pos, (4, 4), (8, 8), 'bicubic', 1)
    assert torch.allclose(out['state_dict']['pos_embed'], want)
    # what mmseg itself would interpolate from the 4x4 grid at run time
    seg = VisionTransformer.resize_pos_embed(pos, (8, 8), (4, 4), 'bicubic')
    assert torch.allclose(out['state_dict']['pos_embed'], seg, atol=1e-6)


def test_resize_flag_is_refused_for_resnet(tmp_path):
    torch.save({'conv1.weight': torch.zeros(1)}, str(tmp_path / 'r.pth'))
    with pytest.raises(CheckpointError, match='ViT/Swin targets'):
        convert_checkpoint(str(tmp_path / 'r.pth'), str(tmp_path / 'x.pth'),
                           backbone='resnet18', resize_pos_embed=True)


# ------------------------------------------------- StrictSwinTransformer
@pytest.mark.parametrize('scope', ['mmdet', 'mmseg'])
def test_strict_swin_loads_exactly_or_stops(swin_ckpt, tmp_path, scope):
    """mmdet's / mmseg's own Swin would load a broken file with
    strict=False; StrictSwinTransformer refuses it."""
    import importlib
    registry = importlib.import_module(f'{scope}.registry').MODELS
    src, _ = swin_ckpt
    dst = str(tmp_path / 'swin.pth')
    state = convert_checkpoint(src, dst, backbone=SWIN_TARGET)
    cfg = dict(SWIN_TARGET, type='StrictSwinTransformer',
               init_cfg=dict(type='StrictPretrained', checkpoint=dst))
    broken = dict(state)
    del broken['stages.2.blocks.1.ffn.layers.1.weight']
    torch.save({'state_dict': broken}, str(tmp_path / 'broken.pth'))
    with DefaultScope.overwrite_default_scope(scope):
        module = registry.build(cfg)
        module.init_weights()
        for k, v in state.items():
            assert torch.equal(module.state_dict()[k], v), k
        cfg['init_cfg']['checkpoint'] = str(tmp_path / 'broken.pth')
        with pytest.raises(StrictLoadError, match='stages.2.blocks.1.ffn'):
            registry.build(cfg).init_weights()
