"""Target backbones of the converter: presets, config dicts, verification.

A target is described by a config dict in OpenMMLab style. Supported types
(an optional scope such as ``mmpretrain.``/``mmdet.`` is ignored):

* ``ResNet`` (torchvision-style stem ``conv1``/``bn1``), ``ResNetV1c``
  (deep stem), ``ResNetV1d`` (deep stem + average-pool downsampling). The
  weights are checked against **both** mmdet's and mmseg's ResNet built with
  the same shape arguments (``depth``, ``in_channels``, ``stem_channels``,
  ``base_channels``, ``num_stages``, ``deep_stem``, ``avg_down``,
  ``conv_cfg``, ``norm_cfg``).
* ``PyramidVisionTransformerV2``: checked against mmdet's PVTv2.
* ``VisionTransformer``, ``SwinTransformer`` (mmrm's extension beyond the
  paper): see :mod:`.transformers`.
"""
import copy
import re
from typing import Dict, List, Mapping, Tuple, Union

import torch.nn as nn

from .errors import DeepStemError, WrongBackboneError, format_keys
from .transformer_keys import detect_transformer
from .transformers import (SWIN_TYPES, TRANSFORMER_FAMILIES,
                           TRANSFORMER_PRESETS, VIT_TYPES,
                           build_transformer_targets, resolve_transformer)

#: ``--backbone`` presets
PRESETS: Dict[str, dict] = {
    'resnet18': dict(type='ResNet', depth=18),
    'resnet34': dict(type='ResNet', depth=34),
    'resnet50': dict(type='ResNet', depth=50),
    'resnet101': dict(type='ResNet', depth=101),
    'pvtv2-b0': dict(type='PyramidVisionTransformerV2', embed_dims=32,
                     num_layers=[2, 2, 2, 2]),
    'pvtv2-b1': dict(type='PyramidVisionTransformerV2', embed_dims=64,
                     num_layers=[2, 2, 2, 2]),
    'pvtv2-b2': dict(type='PyramidVisionTransformerV2', embed_dims=64,
                     num_layers=[3, 4, 6, 3]),
    **TRANSFORMER_PRESETS,
}
RESNET_TYPES = {'ResNet': {}, 'ResNetV1c': dict(deep_stem=True),
                'ResNetV1d': dict(deep_stem=True, avg_down=True)}
PVT_TYPES = {'PyramidVisionTransformerV2'}
#: ResNet arguments that decide which parameters exist and their shapes
RESNET_SHAPE_ARGS = ('depth', 'in_channels', 'stem_channels', 'base_channels',
                     'num_stages', 'deep_stem', 'avg_down', 'conv_cfg',
                     'norm_cfg')
#: PVTv2 arguments that do not change parameters and are left out
PVT_IGNORED_ARGS = ('type', 'init_cfg', 'pretrained', 'out_indices',
                    'drop_rate', 'attn_drop_rate', 'drop_path_rate',
                    'convert_weights')
RESNET_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3),
                 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def _plain(obj):
    """ConfigDict / tuple -> plain dict / list (for messages and meta)."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def resolve_backbone(backbone: Union[str, Mapping]) -> Tuple[str, dict, str]:
    """Normalise a preset name or a backbone config dict.

    Args:
        backbone: a key of :data:`PRESETS` or a config dict with ``type``.

    Returns:
        ``(family, cfg, name)``: family ``'resnet'``, ``'pvtv2'``,
        ``'vit'`` or ``'swin'``, a plain config dict with the scope removed
        from ``type``, a readable name.

    Raises:
        WrongBackboneError: unknown preset or unsupported type.
    """
    if isinstance(backbone, str):
        key = backbone.lower().replace('_', '-')
        if key not in PRESETS:
            raise WrongBackboneError(
                f'unknown backbone preset {backbone!r}; choose one of '
                f'{", ".join(PRESETS)} or pass a backbone config dict')
        cfg, name = copy.deepcopy(PRESETS[key]), key
    elif isinstance(backbone, Mapping) and 'type' in backbone:
        cfg = _plain(backbone)
        name = None
    else:
        raise WrongBackboneError(
            f'backbone must be a preset name or a config dict with a type, '
            f'got {backbone!r}')
    btype = cfg['type']
    if not isinstance(btype, str):
        btype = btype.__name__
    btype = btype.split('.')[-1]
    cfg['type'] = btype
    if btype in RESNET_TYPES:
        for k, v in RESNET_TYPES[btype].items():
            cfg.setdefault(k, v)
        if cfg.get('depth') not in RESNET_BLOCKS:
            raise WrongBackboneError(
                f'unsupported ResNet depth {cfg.get("depth")!r}; supported: '
                f'{sorted(RESNET_BLOCKS)}')
        if cfg.get('expansion') not in (None, 1 if cfg['depth'] < 50 else 4):
            raise WrongBackboneError(
                f'ResNet with expansion={cfg["expansion"]} has no mmdet/mmseg '
                f'counterpart')
        return 'resnet', cfg, name or f'{btype}-{cfg["depth"]}'
    if btype in PVT_TYPES:
        return 'pvtv2', cfg, name or btype
    if btype in VIT_TYPES + SWIN_TYPES:
        return resolve_transformer(cfg, name)
    raise WrongBackboneError(
        f'backbone type {btype!r} is not supported by the converter; '
        f'supported: {", ".join(list(RESNET_TYPES) + sorted(PVT_TYPES))}, '
        f'{", ".join(VIT_TYPES + SWIN_TYPES)}')


def detect_family(state_dict: Mapping) -> str:
    """Guess the backbone family from its keys: ``'resnet'``, ``'pvtv2'``,
    ``'vit'``, ``'swin'`` or ``'unknown'``."""
    keys = list(state_dict)
    transformer = detect_transformer(state_dict)
    if transformer:
        return transformer
    if any(k.startswith('layers.0.0.projection.') for k in keys):
        return 'pvtv2'
    has_stem = 'conv1.weight' in state_dict or any(
        k.startswith('stem.') for k in keys)
    if has_stem and any(k.startswith('layer1.') for k in keys):
        return 'resnet'
    return 'unknown'


def adapt_resnet_stem(state_dict: 'Dict', cfg: dict, source: str) -> Dict:
    """Check the stem layout against the target and translate mmpretrain's
    deep stem (``stem.i.conv``/``stem.i.bn``) to mmdet/mmseg's sequential one
    (``stem.3i``/``stem.3i+1``).

    Raises:
        DeepStemError: deep-stem checkpoint for a plain target or vice versa.
    """
    ckpt_deep = any(k.startswith('stem.') for k in state_dict)
    target_deep = bool(cfg.get('deep_stem', False))
    if ckpt_deep and not target_deep:
        stem_keys = [k for k in state_dict if k.startswith('stem.')]
        convs = [k for k in stem_keys if k.endswith('conv.weight')]
        stem_keys = convs or stem_keys
        raise DeepStemError(
            f'{source} holds a ResNetV1c/V1d deep-stem backbone (keys '
            f'{format_keys(stem_keys, 4)}), but the target is a plain ResNet '
            f'(conv1/bn1 stem, as the paper uses downstream). Pretrain with '
            f'type=ResNet, or convert for backbone type ResNetV1c/ResNetV1d.')
    if target_deep and not ckpt_deep:
        raise DeepStemError(
            f'{source} holds a plain-stem ResNet (conv1.weight), but the '
            f'target {cfg["type"]} has a deep stem (stem.*); use '
            f'type=ResNet for the target.')
    if not ckpt_deep:
        return state_dict
    out = type(state_dict)()
    for k, v in state_dict.items():
        m = re.match(r'stem\.(\d+)\.(conv|bn)\.(.+)$', k)
        if m:
            i, part, rest = int(m.group(1)), m.group(2), m.group(3)
            k = f'stem.{3 * i + (part == "bn")}.{rest}'
        out[k] = v
    return out


def build_targets(family: str, cfg: dict) -> List[Tuple[str, nn.Module]]:
    """Build the modules that the converted weights must load into.

    Returns:
        list of ``(name, module)``: mmdet and mmseg ResNet, mmdet PVTv2,
        mmseg ViT or mmdet and mmseg Swin.
    """
    if family in TRANSFORMER_FAMILIES:
        return build_transformer_targets(family, cfg)
    if family == 'resnet':
        from mmdet.models.backbones import ResNet as DetResNet
        from mmseg.models.backbones import ResNet as SegResNet
        args = {k: copy.deepcopy(cfg[k]) for k in RESNET_SHAPE_ARGS
                if k in cfg}
        args.setdefault('stem_channels', args.get('base_channels', 64))
        return [('mmdet.ResNet', DetResNet(**args)),
                ('mmseg.ResNet', SegResNet(**args))]
    from mmdet.models.backbones import PyramidVisionTransformerV2
    args = {k: copy.deepcopy(v) for k, v in cfg.items()
            if k not in PVT_IGNORED_ARGS}
    return [('mmdet.PyramidVisionTransformerV2',
             PyramidVisionTransformerV2(**args))]
