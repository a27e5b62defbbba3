"""ViT: mmpretrain ``VisionTransformer`` -> mmseg ``VisionTransformer``
(mmdet has none). mmrm's extension beyond the paper.

Key mapping, read from the code of mmpretrain 1.2 and mmseg 1.2 and pinned
by a forward-equality test (tests/test_transformers_convert.py):
``layers.i.attn.qkv.*`` -> ``layers.i.attn.attn.in_proj_{weight,bias}``
(same q, k, v row order), ``layers.i.attn.proj.*`` ->
``layers.i.attn.attn.out_proj.*``, ``pre_norm.*`` -> ``ln_pre.*``; all other
keys (``cls_token``, ``pos_embed``, ``patch_embed.projection``,
``layers.i.ln1/ln2/ffn``, final norm ``ln1``) are the same. mmseg builds
``patch_embed.projection.bias`` only with ``patch_bias=True`` and the final
``ln1`` only with ``final_norm=True`` (both False by default, so its stock
configs drop them silently); ``ln2`` (mmpretrain's ``out_type='avg_featmap'``
norm) belongs to the classifier and is dropped.

Checked before the strict load, each with an error naming the mismatch:
embedding width, depth, patch size, MLP width, patch bias / final norm /
pre-norm, head count and LayerNorm eps (from the training config when the
checkpoint holds it), class token, position embedding and its grid.

A target config in mmseg style is used as is, with mmseg's defaults for
what it leaves out; one in mmpretrain style (it has ``arch``, ``out_type``
or ``layer_scale_init_value``) is translated to the mmseg arguments that
build the same weights: ``final_norm=True`` and ``patch_bias=True``
(mmpretrain's defaults; mmseg's are False), LayerNorm eps 1e-6.
"""
import copy
import re
from typing import Dict, Mapping, Optional, Tuple

from ..adapter import BackboneAdapter, Request, count_blocks
from ..errors import PositionEmbeddingError, WrongBackboneError
from . import transformer_checks as checks

_DEIT = dict(type='VisionTransformer', img_size=224, patch_size=16,
             mlp_ratio=4, final_norm=True, patch_bias=True,
             norm_cfg=dict(type='LN', eps=1e-6))
PRESETS = {
    'deit-tiny': dict(_DEIT, embed_dims=192, num_layers=12, num_heads=3),
    'deit-small': dict(_DEIT, embed_dims=384, num_layers=12, num_heads=6),
    'deit-base': dict(_DEIT, embed_dims=768, num_layers=12, num_heads=12),
}
#: mmseg ``VisionTransformer`` arguments that shape its weights (defaults)
ARGS = dict(img_size=224, patch_size=16, in_channels=3, embed_dims=768,
            num_layers=12, num_heads=12, mlp_ratio=4, qkv_bias=True,
            norm_cfg=dict(type='LN'), patch_norm=False, patch_bias=False,
            pre_norm=False, final_norm=False, num_fcs=2,
            interpolate_mode='bicubic')
MMPRETRAIN_KEYS = ('arch', 'out_type', 'layer_scale_init_value')
RENAMES = ((r'^(layers\.\d+\.attn\.)qkv\.(weight|bias)$', r'\1attn.in_proj_\2'),
           (r'^(layers\.\d+\.attn\.)proj\.', r'\1attn.out_proj.'),
           (r'^pre_norm\.', 'ln_pre.'))
#: classifier-side keys of an mmpretrain ViT that no segmentor has
CLASSIFIER_KEYS = (r'^ln2\.', )


def detect(state_dict: Mapping) -> bool:
    return 'patch_embed.projection.weight' in state_dict and any(
        re.match(r'layers\.\d+\.attn\.qkv\.', k) for k in state_dict)


def depth(state_dict: Mapping) -> int:
    return count_blocks(state_dict, r'layers\.(\d+)\.')


def describe(state_dict: Mapping) -> str:
    """E.g. ``'ViT (12 layers, width 384, patch 16)'``."""
    width, patch = checks.patch_embed(state_dict)
    return f'ViT ({depth(state_dict)} layers, width {width}, patch {patch})'


def _from_mmpretrain(cfg: dict) -> dict:
    arch = checks.mmpretrain_arch('VisionTransformer',
                                  cfg.get('arch', 'base'))
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


def resolve(cfg: dict, name: Optional[str]) -> Tuple[dict, str]:
    if any(k in cfg for k in MMPRETRAIN_KEYS):
        cfg = _from_mmpretrain(cfg)
    full = checks.fill_defaults(cfg, ARGS)
    full['out_indices'] = copy.deepcopy(cfg.get('out_indices', -1))
    return full, name or f'ViT-{full["embed_dims"]}d-{full["num_layers"]}L'


def adapt(sd: Dict, cfg: dict, request: Request):
    source, notes = request.source, {}
    width, patch = checks.patch_embed(sd)
    ffn = sd.get('layers.0.ffn.layers.0.0.weight')
    found = [('embedding width', width, 'embed_dims', cfg['embed_dims']),
             ('depth', depth(sd), 'num_layers', cfg['num_layers']),
             ('patch size', patch, 'patch_size', cfg['patch_size'])]
    if ffn is not None:
        found.append(('MLP width', ffn.shape[0], 'mlp_ratio * embed_dims',
                      cfg['mlp_ratio'] * cfg['embed_dims']))
    found += checks.config_checks(request.training_cfg(), cfg,
                                  ('num_heads', ), notes)
    differ = checks.mismatches(found)
    for key, arg, desc in (
            ('patch_embed.projection.bias', 'patch_bias',
             'a patch-embedding bias'),
            ('ln1.weight', 'final_norm', 'a final LayerNorm (ln1)'),
            ('pre_norm.weight', 'pre_norm', 'a pre-LayerNorm')):
        if (key in sd) != bool(cfg[arg]):
            has = 'has' if key in sd else 'has no'
            differ.append(f'{has} {desc} vs {arg}={cfg[arg]}')
    checks.raise_mismatches(differ, 'ViT', source, request.name)
    if 'cls_token' not in sd:
        raise WrongBackboneError(
            f'{source}: the ViT has no cls_token (pretrained with '
            f'with_cls_token=False?); mmseg\'s VisionTransformer always has '
            f'one')
    if 'pos_embed' not in sd:
        raise PositionEmbeddingError(
            f'{source}: the ViT has no pos_embed; mmseg\'s '
            f'VisionTransformer needs a learned position embedding')
    sd = type(sd)(sd)
    checks.check_pos_embed(
        sd, 'pos_embed', 1,
        checks.target_grid(cfg['img_size'], cfg['patch_size']), cfg, source,
        request.resize_pos_embed, notes)
    out = type(sd)()
    for key, value in sd.items():
        if any(re.match(p, key) for p in CLASSIFIER_KEYS):
            notes.setdefault('dropped', []).append(key)
            continue
        for pattern, repl in RENAMES:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out, notes


def build_targets(cfg: dict):
    from mmseg.models.backbones import VisionTransformer
    args = {k: copy.deepcopy(v) for k, v in cfg.items() if k != 'type'}
    return [('mmseg.VisionTransformer', VisionTransformer(**args))]


ADAPTER = BackboneAdapter(
    family='vit', label='ViT', types=('VisionTransformer', ),
    presets=PRESETS, detect=detect, describe=describe, resolve=resolve,
    adapt=adapt, build_targets=build_targets, resizes_pos_embed=True)
