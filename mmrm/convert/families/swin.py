"""Swin: mmpretrain ``SwinTransformer`` -> mmdet's and mmseg's
``SwinTransformer`` (both checked). mmrm's extension beyond the paper.

The keys are identical (``stages.i.blocks.j.attn.w_msa.*``, ``ffn.layers.*``,
``stages.i.downsample.*`` at the end of stage i, same patch-merging order;
read from the code of mmpretrain 1.2, mmdet 3.3 and mmseg 1.2 and pinned by
tests/test_transformers_convert.py). A classifier has the output norm of
its last stage only (``norm3``); detectors and segmentors have one per
level (``norm0..norm3``): the missing ones are filled with LayerNorm's
identity init (weight 1, bias 0), which is what mmdet/mmseg give them from
ImageNet checkpoints too, and reported.

Checked before the strict load, each with an error naming the mismatch:
embedding width, depths per stage, heads and window size (from the relative
position tables), patch size, MLP width, absolute position embedding and
its grid, LayerNorm eps (from the training config when the checkpoint holds
it).

A target config in mmdet/mmseg style is used as is, with their defaults for
what it leaves out; one in mmpretrain style (it has ``arch``, ``img_size``,
``pad_small_map`` or ``stage_cfgs``) is translated, with
``out_indices=[0, 1, 2, 3]`` (what detectors and segmentors read).
"""
import copy
import math
import re
from typing import Dict, List, Mapping, Optional, Tuple

from ..adapter import BackboneAdapter, Request, count_blocks
from . import transformer_checks as checks

_SWIN = dict(type='SwinTransformer', pretrain_img_size=224, patch_size=4,
             window_size=7, mlp_ratio=4, out_indices=[0, 1, 2, 3])
PRESETS = {
    'swin-tiny': dict(_SWIN, embed_dims=96, depths=[2, 2, 6, 2],
                      num_heads=[3, 6, 12, 24]),
    'swin-small': dict(_SWIN, embed_dims=96, depths=[2, 2, 18, 2],
                       num_heads=[3, 6, 12, 24]),
    'swin-base': dict(_SWIN, embed_dims=128, depths=[2, 2, 18, 2],
                      num_heads=[4, 8, 16, 32]),
}
#: mmdet / mmseg ``SwinTransformer`` arguments that shape its weights
ARGS = dict(pretrain_img_size=224, in_channels=3, embed_dims=96,
            patch_size=4, window_size=7, mlp_ratio=4, depths=[2, 2, 6, 2],
            num_heads=[3, 6, 12, 24], strides=[4, 2, 2, 2],
            out_indices=[0, 1, 2, 3], qkv_bias=True, patch_norm=True,
            use_abs_pos_embed=False, norm_cfg=dict(type='LN'))
MMPRETRAIN_KEYS = ('arch', 'img_size', 'pad_small_map', 'stage_cfgs')


def detect(state_dict: Mapping) -> bool:
    return any(re.match(r'stages\.\d+\.blocks\.\d+\.attn\.w_msa\.', k)
               for k in state_dict)


def depths(state_dict: Mapping) -> List[int]:
    return [count_blocks(state_dict, rf'stages\.{i}\.blocks\.(\d+)\.')
            for i in range(count_blocks(state_dict, r'stages\.(\d+)\.'))]


def describe(state_dict: Mapping) -> str:
    """E.g. ``'Swin (depths [2, 2, 6, 2], width 96, patch 4)'``."""
    width, patch = checks.patch_embed(state_dict)
    return f'Swin (depths {depths(state_dict)}, width {width}, patch {patch})'


def _from_mmpretrain(cfg: dict) -> dict:
    arch = checks.mmpretrain_arch('SwinTransformer', cfg.get('arch', 'tiny'))
    return dict(
        type='SwinTransformer', pretrain_img_size=cfg.get('img_size', 224),
        in_channels=cfg.get('in_channels', 3),
        embed_dims=arch['embed_dims'], patch_size=cfg.get('patch_size', 4),
        window_size=cfg.get('window_size', 7), depths=list(arch['depths']),
        num_heads=list(arch['num_heads']), out_indices=[0, 1, 2, 3],
        use_abs_pos_embed=cfg.get('use_abs_pos_embed', False),
        norm_cfg=copy.deepcopy(cfg.get('norm_cfg', dict(type='LN'))))


def resolve(cfg: dict, name: Optional[str]) -> Tuple[dict, str]:
    if any(k in cfg for k in MMPRETRAIN_KEYS):
        cfg = _from_mmpretrain(cfg)
    full = checks.fill_defaults(cfg, ARGS)
    return full, name or f'Swin-{full["embed_dims"]}d-{list(full["depths"])}'


def adapt(sd: Dict, cfg: dict, request: Request):
    source, notes = request.source, {}
    width, patch = checks.patch_embed(sd)
    heads, windows = [], []
    for i in range(len(depths(sd))):
        table = sd[f'stages.{i}.blocks.0.attn.w_msa.'
                   'relative_position_bias_table']
        heads.append(table.shape[1])
        windows.append((math.isqrt(table.shape[0]) + 1) // 2)
    ffn = sd['stages.0.blocks.0.ffn.layers.0.0.weight'].shape[0]
    found = [('embedding width', width, 'embed_dims', cfg['embed_dims']),
             ('depths', depths(sd), 'depths', list(cfg['depths'])),
             ('heads', heads, 'num_heads', list(cfg['num_heads'])),
             ('patch size', patch, 'patch_size', cfg['patch_size']),
             ('window', windows[0] if len(set(windows)) == 1 else windows,
              'window_size', cfg['window_size']),
             ('MLP width', ffn, 'mlp_ratio * embed_dims',
              cfg['mlp_ratio'] * cfg['embed_dims']),
             ('absolute position embedding', 'absolute_pos_embed' in sd,
              'use_abs_pos_embed', bool(cfg['use_abs_pos_embed']))]
    found += checks.config_checks(request.training_cfg(), cfg, (), notes)
    checks.raise_mismatches(checks.mismatches(found), 'Swin', source,
                            request.name)
    sd = type(sd)(sd)
    if 'absolute_pos_embed' in sd:
        checks.check_pos_embed(
            sd, 'absolute_pos_embed', 0,
            checks.target_grid(cfg['pretrain_img_size'], cfg['patch_size']),
            cfg, source, request.resize_pos_embed, notes)
    dtype = sd['patch_embed.projection.weight'].dtype
    for i in cfg['out_indices']:
        for part, value in checks.identity_norm(
                cfg['embed_dims'] * 2**i, dtype).items():
            key = f'norm{i}.{part}'
            if key not in sd:
                sd[key] = value
                notes.setdefault('filled', []).append(key)
    return sd, notes


def build_targets(cfg: dict):
    from mmdet.models.backbones import SwinTransformer as DetSwin
    from mmseg.models.backbones import SwinTransformer as SegSwin
    args = {k: copy.deepcopy(v) for k, v in cfg.items() if k != 'type'}
    return [('mmdet.SwinTransformer', DetSwin(**args)),
            ('mmseg.SwinTransformer', SegSwin(**args))]


ADAPTER = BackboneAdapter(
    family='swin', label='Swin',
    types=('SwinTransformer', 'StrictSwinTransformer'), presets=PRESETS,
    detect=detect, describe=describe, resolve=resolve, adapt=adapt,
    build_targets=build_targets, resizes_pos_embed=True)
