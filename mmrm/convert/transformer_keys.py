"""mmpretrain ViT / Swin weights -> mmseg ViT / mmdet+mmseg Swin weights.

mmrm's extension beyond the paper. Layout differences, read from the code
of mmpretrain 1.2, mmdet 3.3 and mmseg 1.2 and pinned by a forward-equality
test (tests/test_transformers_convert.py):

ViT (mmpretrain ``VisionTransformer`` -> mmseg ``VisionTransformer``)
  ``layers.i.attn.qkv.*`` -> ``layers.i.attn.attn.in_proj_{weight,bias}``
  (same q, k, v row order), ``layers.i.attn.proj.*`` ->
  ``layers.i.attn.attn.out_proj.*``, ``pre_norm.*`` -> ``ln_pre.*``; all
  other keys (``cls_token``, ``pos_embed``, ``patch_embed.projection``,
  ``layers.i.ln1/ln2/ffn``, final norm ``ln1``) are the same. mmseg builds
  ``patch_embed.projection.bias`` only with ``patch_bias=True`` and the
  final ``ln1`` only with ``final_norm=True`` (both False by default, so
  its stock configs drop them silently); ``ln2`` (mmpretrain's
  ``out_type='avg_featmap'`` norm) belongs to the classifier and is dropped.
Swin (mmpretrain -> mmdet and mmseg ``SwinTransformer``)
  identical keys (``stages.i.blocks.j.attn.w_msa.*``, ``ffn.layers.*``,
  ``stages.i.downsample.*`` at the end of stage i, same patch-merging
  order). A classifier has the output norm of its last stage only
  (``norm3``); detectors and segmentors have one per level
  (``norm0..norm3``): the missing ones are filled with LayerNorm's identity
  init (weight 1, bias 0), which is what mmdet/mmseg give them from
  ImageNet checkpoints too, and reported.

Checked before the strict load, each with an error naming the mismatch:
family, embedding width, depth (per stage for Swin), patch size, MLP width,
Swin heads and window size (from the relative position tables), ViT head
count and the LayerNorm eps (not in the weights: checked when the
checkpoint's mmengine ``meta.cfg`` holds the training config, else listed as
unchecked), class token, position embedding present and of the target's
grid. A position embedding of another grid is interpolated
(bicubic, mmpretrain's ``resize_pos_embed``) only with
``resize_pos_embed=True``, and the result says so.
"""
import math
import re
from typing import Dict, List, Mapping, Optional, Tuple

import torch

from .errors import WrongBackboneError


class ArchitectureMismatchError(WrongBackboneError):
    """Same family, but another width, depth, patch size, window or head
    count than the target."""


class PositionEmbeddingError(WrongBackboneError):
    """The position embedding is missing, or of another grid than the
    target's and resizing was not asked for."""


VIT_RENAMES = ((r'^(layers\.\d+\.attn\.)qkv\.(weight|bias)$',
                r'\1attn.in_proj_\2'),
               (r'^(layers\.\d+\.attn\.)proj\.', r'\1attn.out_proj.'),
               (r'^pre_norm\.', 'ln_pre.'))
#: classifier-side keys of an mmpretrain ViT that no detector/segmentor has
VIT_CLASSIFIER_KEYS = (r'^ln2\.', )


def detect_transformer(state_dict: Mapping) -> Optional[str]:
    """``'vit'`` / ``'swin'`` for mmpretrain layouts, else None."""
    keys = list(state_dict)
    if any(re.match(r'stages\.\d+\.blocks\.\d+\.attn\.w_msa\.', k)
           for k in keys):
        return 'swin'
    if 'patch_embed.projection.weight' in state_dict and any(
            re.match(r'layers\.\d+\.attn\.qkv\.', k) for k in keys):
        return 'vit'
    return None


def _count(state_dict: Mapping, pattern: str) -> int:
    found = {int(m.group(1)) for k in state_dict
             for m in [re.match(pattern, k)] if m}
    return max(found) + 1 if found else 0


def _vit_depth(state_dict: Mapping) -> int:
    return _count(state_dict, r'layers\.(\d+)\.')


def _swin_depths(state_dict: Mapping) -> List[int]:
    return [_count(state_dict, rf'stages\.{i}\.blocks\.(\d+)\.')
            for i in range(_count(state_dict, r'stages\.(\d+)\.'))]


def describe_transformer(state_dict: Mapping, family: str) -> str:
    """E.g. ``'ViT (12 layers, width 384, patch 16)'`` or
    ``'Swin (depths [2, 2, 6, 2], width 96, patch 4)'``."""
    proj = state_dict['patch_embed.projection.weight']
    if family == 'vit':
        name, size = 'ViT', f'{_vit_depth(state_dict)} layers'
    else:
        name, size = 'Swin', f'depths {_swin_depths(state_dict)}'
    return f'{name} ({size}, width {proj.shape[0]}, patch {proj.shape[-1]})'


def _grid(tokens: int, what: str, source: str) -> Tuple[int, int]:
    side = math.isqrt(tokens)
    if side * side != tokens:
        raise PositionEmbeddingError(
            f'{source}: {what} has {tokens} patch positions, not a square '
            f'grid; cannot tell its height and width')
    return side, side


def _target_grid(img_size, patch_size) -> Tuple[int, int]:
    img = (img_size, img_size) if isinstance(img_size, int) else img_size
    return img[0] // patch_size, img[1] // patch_size


def _raise_mismatches(mismatches: List[str], family: str, source: str,
                      name: str) -> None:
    if mismatches:
        raise ArchitectureMismatchError(
            f'{source} holds another {family} than the target {name}: '
            + '; '.join(mismatches) + ' (checkpoint vs target)')


def _resize(pos: torch.Tensor, src: Tuple[int, int], dst: Tuple[int, int],
            extra: int, mode: str) -> torch.Tensor:
    from mmpretrain.models.utils import resize_pos_embed
    return resize_pos_embed(pos, src, dst, mode=mode,
                            num_extra_tokens=extra).to(pos.dtype)


def _check_pos_embed(state_dict: Dict, key: str, extra: int, dst, cfg: dict,
                     source: str, resize: bool, notes: dict) -> None:
    """Compare the grid of ``state_dict[key]`` with ``dst``; resize when
    asked (recorded in ``notes['pos_embed_resized']``)."""
    pos = state_dict[key]
    src = _grid(pos.shape[1] - extra, key, source)
    if src == tuple(dst):
        return
    if not resize:
        raise PositionEmbeddingError(
            f'{source}: {key} is a {src[0]}x{src[1]} grid, the target needs '
            f'{dst[0]}x{dst[1]} (its input size / patch size); convert with '
            f'resize_pos_embed=True (CLI: --resize-pos-embed) to interpolate '
            f'it ({cfg.get("interpolate_mode", "bicubic")}), or set the '
            f'target\'s image size to the pretraining one')
    mode = cfg.get('interpolate_mode', 'bicubic')
    state_dict[key] = _resize(pos, src, tuple(dst), extra, mode)
    notes['pos_embed_resized'] = dict(key=key, source_grid=list(src),
                                      target_grid=list(dst), mode=mode)


def _config_checks(source_cfg: Optional[dict], cfg: dict, args: tuple,
                   notes: dict) -> list:
    """Checks of what the weights do not store (``args`` and the LayerNorm
    eps), from the training config; without it they are listed in
    ``notes['unchecked']``."""
    if not source_cfg:
        notes['unchecked'] = list(args) + ['norm_cfg.eps']
        return []
    checks = [(arg.replace('num_', ''), source_cfg[arg], arg, cfg[arg])
              for arg in args]
    checks.append(('LayerNorm eps', source_cfg['norm_cfg'].get('eps', 1e-5),
                   'norm_cfg.eps', cfg['norm_cfg'].get('eps', 1e-5)))
    return checks


def _adapt_vit(sd: Dict, cfg: dict, source: str, name: str, resize: bool,
               source_cfg: Optional[dict], notes: dict) -> Dict:
    proj = sd['patch_embed.projection.weight']
    ffn = sd.get('layers.0.ffn.layers.0.0.weight')
    mismatches = []
    checks = [('embedding width', proj.shape[0], 'embed_dims',
               cfg['embed_dims']),
              ('depth', _vit_depth(sd), 'num_layers',
               cfg['num_layers']),
              ('patch size', proj.shape[-1], 'patch_size', cfg['patch_size'])]
    if ffn is not None:
        checks.append(('MLP width', ffn.shape[0], 'mlp_ratio * embed_dims',
                       cfg['mlp_ratio'] * cfg['embed_dims']))
    checks += _config_checks(source_cfg, cfg, ('num_heads', ), notes)
    mismatches += [f'{what} {a} vs {arg}={b}' for what, a, arg, b in checks
                   if a != b]
    for key, arg, desc in (
            ('patch_embed.projection.bias', 'patch_bias',
             'a patch-embedding bias'),
            ('ln1.weight', 'final_norm', 'a final LayerNorm (ln1)'),
            ('pre_norm.weight', 'pre_norm', 'a pre-LayerNorm')):
        if (key in sd) != bool(cfg[arg]):
            has = 'has' if key in sd else 'has no'
            mismatches.append(f'{has} {desc} vs {arg}={cfg[arg]}')
    _raise_mismatches(mismatches, 'ViT', source, name)
    if 'cls_token' not in sd:
        raise WrongBackboneError(
            f'{source}: the ViT has no cls_token (pretrained with '
            f'with_cls_token=False?); mmseg\'s VisionTransformer always has '
            f'one')
    if 'pos_embed' not in sd:
        raise PositionEmbeddingError(
            f'{source}: the ViT has no pos_embed; mmseg\'s '
            f'VisionTransformer needs a learned position embedding')
    _check_pos_embed(sd, 'pos_embed', 1,
                     _target_grid(cfg['img_size'], cfg['patch_size']), cfg,
                     source, resize, notes)
    out = type(sd)()
    for key, value in sd.items():
        if any(re.match(p, key) for p in VIT_CLASSIFIER_KEYS):
            notes.setdefault('dropped', []).append(key)
            continue
        for pattern, repl in VIT_RENAMES:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out


def _adapt_swin(sd: Dict, cfg: dict, source: str, name: str, resize: bool,
                source_cfg: Optional[dict], notes: dict) -> Dict:
    proj = sd['patch_embed.projection.weight']
    dims = proj.shape[0]
    depths = _swin_depths(sd)
    heads, windows = [], []
    for i in range(len(depths)):
        table = sd[f'stages.{i}.blocks.0.attn.w_msa.'
                   'relative_position_bias_table']
        heads.append(table.shape[1])
        windows.append((math.isqrt(table.shape[0]) + 1) // 2)
    ffn = sd['stages.0.blocks.0.ffn.layers.0.0.weight'].shape[0]
    checks = [('embedding width', dims, 'embed_dims', cfg['embed_dims']),
              ('depths', depths, 'depths', list(cfg['depths'])),
              ('heads', heads, 'num_heads', list(cfg['num_heads'])),
              ('patch size', proj.shape[-1], 'patch_size', cfg['patch_size']),
              ('window', windows[0] if len(set(windows)) == 1 else windows,
               'window_size', cfg['window_size']),
              ('MLP width', ffn, 'mlp_ratio * embed_dims',
               cfg['mlp_ratio'] * cfg['embed_dims']),
              ('absolute position embedding', 'absolute_pos_embed' in sd,
               'use_abs_pos_embed', bool(cfg['use_abs_pos_embed']))]
    checks += _config_checks(source_cfg, cfg, (), notes)
    _raise_mismatches([f'{what} {a} vs {arg}={b}' for what, a, arg, b in checks
                       if a != b], 'Swin', source, name)
    if 'absolute_pos_embed' in sd:
        _check_pos_embed(sd, 'absolute_pos_embed', 0,
                         _target_grid(cfg['pretrain_img_size'],
                                      cfg['patch_size']), cfg, source,
                         resize, notes)
    for i in cfg['out_indices']:
        width = cfg['embed_dims'] * 2**i
        for part, fill in (('weight', 1.0), ('bias', 0.0)):
            key = f'norm{i}.{part}'
            if key not in sd:
                sd[key] = torch.full((width, ), fill, dtype=proj.dtype)
                notes.setdefault('filled', []).append(key)
    return sd


def adapt_transformer(state_dict: Dict, family: str, cfg: dict, source: str,
                      name: str, resize_pos_embed: bool = False,
                      source_cfg: Optional[dict] = None) -> Tuple[Dict, dict]:
    """Check an mmpretrain ViT/Swin backbone against the downstream target
    ``cfg`` (from :func:`~mmrm.convert.transformers.resolve_transformer`)
    and return ``(state_dict in the target's layout, notes)``.

    ``notes`` may hold ``filled`` (Swin output norms added), ``dropped``
    (classifier-side keys), ``pos_embed_resized`` and ``unchecked``.
    ``source_cfg``: the pretraining backbone in downstream form, if known.

    Raises:
        ArchitectureMismatchError, PositionEmbeddingError,
        WrongBackboneError.
    """
    notes: dict = {}
    state_dict = type(state_dict)(state_dict)
    if family == 'vit':
        out = _adapt_vit(state_dict, cfg, source, name, resize_pos_embed,
                         source_cfg, notes)
    else:
        out = _adapt_swin(state_dict, cfg, source, name, resize_pos_embed,
                          source_cfg, notes)
    return out, notes
