"""What the ViT and Swin adapters share (mmrm's extension beyond the paper).

* mmpretrain's ``arch`` zoo, for translating an mmpretrain-style config;
* counting layers / blocks from the keys;
* the position-embedding grid: compared with the target's, interpolated
  (bicubic, mmpretrain's ``resize_pos_embed``) only when asked, and the
  result recorded;
* the settings that the weights do not store (head count, LayerNorm eps):
  checked against the training config when the checkpoint holds it, else
  listed as unchecked;
* the error that lists every mismatch at once.
"""
import copy
import math
from typing import Dict, List, Mapping, Optional, Tuple

import torch

from ..errors import (ArchitectureMismatchError, PositionEmbeddingError,
                      WrongBackboneError)


def mmpretrain_arch(cls_name: str, arch) -> dict:
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


def patch_embed(state_dict: Mapping) -> Tuple[int, int]:
    """``(embedding width, patch size)`` of the patch projection."""
    proj = state_dict['patch_embed.projection.weight']
    return proj.shape[0], proj.shape[-1]


def _grid(tokens: int, what: str, source: str) -> Tuple[int, int]:
    side = math.isqrt(tokens)
    if side * side != tokens:
        raise PositionEmbeddingError(
            f'{source}: {what} has {tokens} patch positions, not a square '
            f'grid; cannot tell its height and width')
    return side, side


def target_grid(img_size, patch_size) -> Tuple[int, int]:
    img = (img_size, img_size) if isinstance(img_size, int) else img_size
    return img[0] // patch_size, img[1] // patch_size


def mismatches(checks: List[tuple]) -> List[str]:
    """``checks``: ``(what, checkpoint value, target argument, target
    value)`` -> ``['<what> <a> vs <arg>=<b>', ...]`` for those that
    differ."""
    return [f'{what} {a} vs {arg}={b}' for what, a, arg, b in checks
            if a != b]


def raise_mismatches(found: List[str], label: str, source: str,
                     name: str) -> None:
    """One error naming every mismatch (none: nothing happens)."""
    if found:
        raise ArchitectureMismatchError(
            f'{source} holds another {label} than the target {name}: '
            + '; '.join(found) + ' (checkpoint vs target)')


def check_pos_embed(state_dict: Dict, key: str, extra: int, dst, cfg: dict,
                    source: str, resize: bool, notes: dict) -> None:
    """Compare the grid of ``state_dict[key]`` (``extra`` leading tokens)
    with ``dst``; resize when asked (recorded in
    ``notes['pos_embed_resized']``)."""
    pos = state_dict[key]
    src = _grid(pos.shape[1] - extra, key, source)
    if src == tuple(dst):
        return
    mode = cfg.get('interpolate_mode', 'bicubic')
    if not resize:
        raise PositionEmbeddingError(
            f'{source}: {key} is a {src[0]}x{src[1]} grid, the target needs '
            f'{dst[0]}x{dst[1]} (its input size / patch size); convert with '
            f'resize_pos_embed=True (CLI: --resize-pos-embed) to interpolate '
            f'it ({mode}), or set the target\'s image size to the '
            f'pretraining one')
    from mmpretrain.models.utils import resize_pos_embed
    state_dict[key] = resize_pos_embed(
        pos, src, tuple(dst), mode=mode,
        num_extra_tokens=extra).to(pos.dtype)
    notes['pos_embed_resized'] = dict(key=key, source_grid=list(src),
                                      target_grid=list(dst), mode=mode)


def config_checks(training_cfg: Optional[dict], cfg: dict, args: tuple,
                  notes: dict) -> list:
    """Checks of what the weights do not store (``args`` and the LayerNorm
    eps), against the training config; without it they are listed in
    ``notes['unchecked']``."""
    if not training_cfg:
        notes['unchecked'] = list(args) + ['norm_cfg.eps']
        return []
    checks = [(arg.replace('num_', ''), training_cfg[arg], arg, cfg[arg])
              for arg in args]
    checks.append(('LayerNorm eps',
                   training_cfg['norm_cfg'].get('eps', 1e-5), 'norm_cfg.eps',
                   cfg['norm_cfg'].get('eps', 1e-5)))
    return checks


def fill_defaults(cfg: dict, defaults: dict) -> dict:
    """The downstream arguments of ``cfg`` with ``defaults`` for the rest
    (``type`` kept)."""
    full = {k: copy.deepcopy(cfg.get(k, v)) for k, v in defaults.items()}
    full['type'] = cfg['type']
    return full


def identity_norm(width: int, dtype) -> Dict[str, torch.Tensor]:
    """LayerNorm's initial ``weight`` (1) and ``bias`` (0)."""
    return dict(weight=torch.ones(width, dtype=dtype),
                bias=torch.zeros(width, dtype=dtype))
