"""ViT and Swin targets of the converter: presets, config dicts, modules.

mmrm's extension beyond the paper. A target is the *downstream* backbone:

* ``VisionTransformer``: mmseg's ViT (mmdet has none). Checked against
  ``mmseg.models.backbones.VisionTransformer``.
* ``SwinTransformer`` / ``StrictSwinTransformer``: checked against mmdet's
  **and** mmseg's ``SwinTransformer`` built with the same arguments.

A config dict in mmdet/mmseg style (``embed_dims``, ``num_layers``,
``depths``...) is used as is, with the library defaults for what it leaves
out. A config dict in mmpretrain style (it has ``arch``, or ``out_type`` for
ViT, ``img_size``/``pad_small_map`` for Swin, e.g. a pretrain config's
``model.backbone``) is translated to the downstream arguments that build the
same weights: ViT ``final_norm=True`` and ``patch_bias=True`` (mmpretrain's
defaults; mmseg's are False), LayerNorm eps 1e-6; Swin
``out_indices=[0, 1, 2, 3]`` (what detectors and segmentors read).
Sequences come out as lists, as :func:`~.backbones.resolve_backbone` makes
them.
"""
import copy
from typing import Dict, List, Mapping, Optional, Tuple

import torch.nn as nn

from .errors import WrongBackboneError

VIT_TYPES = ('VisionTransformer', )
SWIN_TYPES = ('SwinTransformer', 'StrictSwinTransformer')
TRANSFORMER_FAMILIES = ('vit', 'swin')

_DEIT = dict(type='VisionTransformer', img_size=224, patch_size=16,
             mlp_ratio=4, final_norm=True, patch_bias=True,
             norm_cfg=dict(type='LN', eps=1e-6))
_SWIN = dict(type='SwinTransformer', pretrain_img_size=224, patch_size=4,
             window_size=7, mlp_ratio=4, out_indices=[0, 1, 2, 3])
#: ``--backbone`` presets (mmseg ViT / mmdet+mmseg Swin arguments)
TRANSFORMER_PRESETS: Dict[str, dict] = {
    'deit-tiny': dict(_DEIT, embed_dims=192, num_layers=12, num_heads=3),
    'deit-small': dict(_DEIT, embed_dims=384, num_layers=12, num_heads=6),
    'deit-base': dict(_DEIT, embed_dims=768, num_layers=12, num_heads=12),
    'swin-tiny': dict(_SWIN, embed_dims=96, depths=[2, 2, 6, 2],
                      num_heads=[3, 6, 12, 24]),
    'swin-small': dict(_SWIN, embed_dims=96, depths=[2, 2, 18, 2],
                       num_heads=[3, 6, 12, 24]),
    'swin-base': dict(_SWIN, embed_dims=128, depths=[2, 2, 18, 2],
                      num_heads=[4, 8, 16, 32]),
}
#: mmseg ``VisionTransformer`` arguments that shape its weights (defaults)
VIT_ARGS = dict(img_size=224, patch_size=16, in_channels=3, embed_dims=768,
                num_layers=12, num_heads=12, mlp_ratio=4, qkv_bias=True,
                norm_cfg=dict(type='LN'), patch_norm=False, patch_bias=False,
                pre_norm=False, final_norm=False, num_fcs=2,
                interpolate_mode='bicubic')
#: mmdet / mmseg ``SwinTransformer`` arguments that shape its weights
SWIN_ARGS = dict(pretrain_img_size=224, in_channels=3, embed_dims=96,
                 patch_size=4, window_size=7, mlp_ratio=4,
                 depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24],
                 strides=[4, 2, 2, 2], out_indices=[0, 1, 2, 3],
                 qkv_bias=True, patch_norm=True, use_abs_pos_embed=False,
                 norm_cfg=dict(type='LN'))
_MMPRETRAIN_KEYS = {'vit': ('arch', 'out_type', 'layer_scale_init_value'),
                    'swin': ('arch', 'img_size', 'pad_small_map',
                             'stage_cfgs')}


def _arch(cls_name: str, arch) -> dict:
    """mmpretrain's ``arch`` (a name of its ``arch_zoo`` or a dict)."""
    import mmpretrain.models.backbones as mmpretrain_backbones
    zoo = getattr(mmpretrain_backbones, cls_name).arch_zoo
    if isinstance(arch, Mapping):
        return dict(arch)
    if str(arch).lower() not in zoo:
        raise WrongBackboneError(
            f'unknown mmpretrain {cls_name} arch {arch!r}; known: '
            f'{", ".join(sorted(zoo))}')
    return dict(zoo[str(arch).lower()])


def _from_mmpretrain_vit(cfg: dict) -> dict:
    arch = _arch('VisionTransformer', cfg.get('arch', 'base'))
    dims, ffn = arch['embed_dims'], arch['feedforward_channels']
    if ffn % dims:
        raise WrongBackboneError(
            f'ViT feedforward_channels={ffn} is not a multiple of '
            f'embed_dims={dims}; mmseg builds it as mlp_ratio * embed_dims')
    if cfg.get('layer_scale_init_value', 0) > 0:
        raise WrongBackboneError(
            'ViT with layer scale (layer_scale_init_value > 0) has no '
            'counterpart in mmseg\'s VisionTransformer')
    if not cfg.get('with_cls_token', True):
        raise WrongBackboneError(
            'ViT pretrained with with_cls_token=False has no class token, '
            'but mmseg\'s VisionTransformer always has one (cls_token)')
    pre_norm = bool(cfg.get('pre_norm', False))
    return dict(
        type='VisionTransformer', img_size=cfg.get('img_size', 224),
        patch_size=cfg.get('patch_size', 16),
        in_channels=cfg.get('in_channels', 3), embed_dims=dims,
        num_layers=arch['num_layers'], num_heads=arch['num_heads'],
        mlp_ratio=ffn // dims, qkv_bias=cfg.get('qkv_bias', True),
        norm_cfg=copy.deepcopy(cfg.get('norm_cfg',
                                       dict(type='LN', eps=1e-6))),
        patch_bias=not pre_norm, pre_norm=pre_norm,
        final_norm=cfg.get('final_norm', True),
        interpolate_mode=cfg.get('interpolate_mode', 'bicubic'))


def _from_mmpretrain_swin(cfg: dict) -> dict:
    arch = _arch('SwinTransformer', cfg.get('arch', 'tiny'))
    return dict(
        type='SwinTransformer', pretrain_img_size=cfg.get('img_size', 224),
        in_channels=cfg.get('in_channels', 3),
        embed_dims=arch['embed_dims'], patch_size=cfg.get('patch_size', 4),
        window_size=cfg.get('window_size', 7), depths=list(arch['depths']),
        num_heads=list(arch['num_heads']), out_indices=[0, 1, 2, 3],
        use_abs_pos_embed=cfg.get('use_abs_pos_embed', False),
        norm_cfg=copy.deepcopy(cfg.get('norm_cfg', dict(type='LN'))))


def resolve_transformer(cfg: dict,
                        name: Optional[str]) -> Tuple[str, dict, str]:
    """``(family, downstream cfg with defaults filled in, name)`` for a ViT
    or Swin config dict whose ``type`` has no scope any more."""
    family = 'vit' if cfg['type'] in VIT_TYPES else 'swin'
    if any(k in cfg for k in _MMPRETRAIN_KEYS[family]):
        cfg = (_from_mmpretrain_vit if family == 'vit' else
               _from_mmpretrain_swin)(cfg)
    defaults = VIT_ARGS if family == 'vit' else SWIN_ARGS
    full = {k: copy.deepcopy(cfg.get(k, v)) for k, v in defaults.items()}
    full['type'] = cfg['type']
    if family == 'vit':
        full['out_indices'] = copy.deepcopy(cfg.get('out_indices', -1))
        label = f'ViT-{full["embed_dims"]}d-{full["num_layers"]}L'
    else:
        label = f'Swin-{full["embed_dims"]}d-{list(full["depths"])}'
    return family, full, name or label


def build_transformer_targets(family: str,
                              cfg: dict) -> List[Tuple[str, nn.Module]]:
    """The downstream modules the converted weights must load into."""
    args = {k: copy.deepcopy(v) for k, v in cfg.items() if k != 'type'}
    if family == 'vit':
        from mmseg.models.backbones import VisionTransformer
        return [('mmseg.VisionTransformer', VisionTransformer(**args))]
    from mmdet.models.backbones import SwinTransformer as DetSwin
    from mmseg.models.backbones import SwinTransformer as SegSwin
    return [('mmdet.SwinTransformer', DetSwin(**args)),
            ('mmseg.SwinTransformer', SegSwin(**args))]


def training_backbone(raw, family: str) -> Optional[dict]:
    """The pretraining backbone in downstream form, from the training
    config that mmengine stores as text in ``meta.cfg`` (None when absent,
    unreadable or of another family)."""
    text = raw.get('meta', {}).get('cfg') if isinstance(raw, Mapping) \
        else None
    if not isinstance(text, str):
        return None
    try:
        from mmengine.config import Config
        backbone = Config.fromstring(text, '.py').model.backbone.to_dict()
        backbone['type'] = str(backbone['type']).split('.')[-1]
        if backbone['type'] not in VIT_TYPES + SWIN_TYPES:
            return None
        found, cfg, _ = resolve_transformer(backbone, None)
    except Exception:  # noqa: BLE001 - only an extra check is lost
        return None
    return cfg if found == family else None
