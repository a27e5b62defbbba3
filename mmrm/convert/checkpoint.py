"""Pretraining checkpoint -> backbone-only checkpoint for mmdet / mmseg.

See :func:`convert_checkpoint`. The output file is
``{'state_dict': backbone weights, 'meta': {...}}`` and loads with
``torch.load(path, weights_only=True)``; use it with
``init_cfg=dict(type='StrictPretrained', checkpoint=path)`` (or mmengine's
``Pretrained``).
"""
import datetime
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Mapping, Optional, Union

import torch

from .backbones import (PRESETS, _plain, adapt_resnet_stem, build_targets,
                        detect_family, resolve_backbone)
from .errors import (CheckpointError, StrictLoadError, WrongBackboneError,
                     format_keys)
from .keys import fill_num_batches_tracked, split_backbone, unwrap_state_dict
from .loading import load_checkpoint_file
from .strict_init import load_state_dict_strictly
from .summary import backbone_shape, describe, is_standard_resnet
from .transformer_keys import adapt_transformer, describe_transformer
from .transformers import TRANSFORMER_FAMILIES, training_backbone

FAMILY_NAMES = {'resnet': 'ResNet', 'pvtv2': 'PVTv2', 'vit': 'ViT',
                'swin': 'Swin', 'unknown': 'unknown'}


def _mmrm_version() -> str:
    try:
        import mmrm
        return str(getattr(mmrm, '__version__', 'unknown'))
    except Exception:  # noqa: BLE001 - version only goes into meta
        return 'unknown'


def extract_backbone(src: str,
                     backbone: Union[str, Mapping] = 'resnet50',
                     trusted: bool = False,
                     resize_pos_embed: bool = False):
    """Read ``src`` and return its backbone weights in the target's layout.

    Args:
        src: checkpoint path (mmpretrain / official RecursiveMix / PVT).
        backbone: preset name or backbone config dict, see
            :func:`~mmrm.convert.backbones.resolve_backbone`.
        trusted: allow full unpickling of ``src``.
        resize_pos_embed: ViT/Swin only: interpolate a position embedding
            of another grid to the target's (otherwise an error).

    Returns:
        tuple: ``(state_dict, info)``; ``info`` holds ``family``, ``cfg``,
        ``name``, ``layout``, ``dropped_keys``, ``filled_keys``, ``notes``
        (ViT/Swin: ``pos_embed_resized``, ``unchecked``).

    Raises:
        the :mod:`mmrm.convert.errors` exceptions and FileNotFoundError.
    """
    family, cfg, name = resolve_backbone(backbone)
    if resize_pos_embed and family not in TRANSFORMER_FAMILIES:
        raise CheckpointError(
            f'resize_pos_embed applies to ViT/Swin targets, not {name}')
    raw = load_checkpoint_file(src, trusted=trusted)
    state_dict = unwrap_state_dict(raw, src)
    state_dict, layout, dropped = split_backbone(state_dict, src)
    found = detect_family(state_dict)
    if found != family:
        shape = backbone_shape(state_dict)
        if shape is not None:
            what = describe(shape)
        elif found in TRANSFORMER_FAMILIES:
            what = describe_transformer(state_dict, found)
        else:
            what = f'{FAMILY_NAMES[found]} (first keys: ' \
                f'{format_keys(list(state_dict)[:3], 3)})'
        raise WrongBackboneError(
            f'{src} holds a {what} backbone, but the target is '
            f'{FAMILY_NAMES[family]} ({name}); pick the matching --backbone')
    notes = {}
    if family in TRANSFORMER_FAMILIES:
        state_dict, notes = adapt_transformer(
            state_dict, family, cfg, src, name, resize_pos_embed,
            training_backbone(raw, family))
        dropped += notes.pop('dropped', [])
    if family == 'resnet':
        state_dict = adapt_resnet_stem(state_dict, cfg, src)
    filled = notes.pop('filled', []) + fill_num_batches_tracked(state_dict)
    info = dict(family=family, cfg=cfg, name=name, layout=layout,
                dropped_keys=sorted(dropped), filled_keys=filled,
                notes=notes)
    return state_dict, info


def verify_backbone(state_dict: Mapping, family: str, cfg: dict,
                    source: str) -> list:
    """Load ``state_dict`` strictly into every verification target.

    Returns:
        names of the targets that loaded it (``['mmdet.ResNet',
        'mmseg.ResNet']`` or ``['mmdet.PyramidVisionTransformerV2']``).

    Raises:
        StrictLoadError: with the missing/unexpected/mismatched keys.
    """
    names = []
    hint = target_hint(state_dict, cfg) if family == 'resnet' else None
    for name, module in build_targets(family, cfg):
        load_state_dict_strictly(module, state_dict,
                                 f'{source} -> {name}', hint)
        names.append(name)
    return names


def target_hint(state_dict: Mapping, cfg: dict) -> Optional[str]:
    """How to name the target that fits a ResNet checkpoint: the preset of
    its depth for a standard one (None if that is the target already), else
    its pretraining config."""
    shape = backbone_shape(state_dict)
    preset = [k for k, v in PRESETS.items()
              if v == dict(type='ResNet', depth=shape and shape.get('depth'))]
    if is_standard_resnet(shape) and preset:
        if resolve_backbone(preset[0])[1] == cfg:
            return None
        return f'the checkpoint fits --backbone {preset[0]}'
    return ('the checkpoint is not a standard-width ResNet (the presets have '
            'base and stem width 64): take the target from its pretraining '
            'config with --backbone-config PRETRAIN_CONFIG (Python: '
            'backbone=Config.fromfile(PRETRAIN_CONFIG).model.backbone)')


def convert_checkpoint(src: str,
                       dst: str,
                       backbone: Union[str, Mapping] = 'resnet50',
                       verify: bool = True,
                       trusted: bool = False,
                       resize_pos_embed: bool = False) -> 'OrderedDict':
    """Convert a pretraining checkpoint into a backbone-only checkpoint.

    Inputs: an mmpretrain classifier checkpoint (``backbone.*``, ``head.fc``,
    ``head.fc_roi``, mmengine ``meta``/``message_hub``/``optimizer``), an
    official RecursiveMix-pytorch ``.pth`` (torchvision ResNet keys with
    ``fc``/``fc_roi``, maybe a ``module.`` prefix, maybe wrapped in
    ``state_dict``/``model``), or an official PVTv2 release; mmpretrain
    ViT/Swin classifiers go to mmseg's ViT / mmdet's and mmseg's Swin
    (:mod:`.transformer_keys`). Classifier layers are dropped.

    Args:
        src: input checkpoint path.
        dst: output path (directories are created; written atomically).
        backbone: ``'resnet50'``, ``'pvtv2-b1'`` (see
            :data:`~mmrm.convert.backbones.PRESETS`) or a backbone config
            dict, e.g. ``Config.fromfile(pretrain_cfg).model.backbone``.
        verify: build the target as mmdet's and mmseg's ResNet (mmdet's
            PVTv2, mmseg's ViT, mmdet's and mmseg's Swin) and load the
            weights strictly before saving.
        trusted: read ``src`` with full unpickling (only for trusted files
            that a weights-only load refuses).
        resize_pos_embed: ViT/Swin targets: interpolate a position
            embedding of another grid (recorded in ``meta``); without it
            such a checkpoint is an error.

    Returns:
        OrderedDict: the backbone state dict (keys without ``backbone.``).

    Raises:
        FileNotFoundError, NotACheckpointError, UnsafeCheckpointError,
        TaskCheckpointError, WrongBackboneError, DeepStemError,
        StrictLoadError (see :mod:`mmrm.convert.errors`),
        ArchitectureMismatchError, PositionEmbeddingError
        (:mod:`.transformer_keys`).
    """
    state_dict, info = extract_backbone(src, backbone, trusted,
                                        resize_pos_embed)
    state_dict = OrderedDict(
        (k, v.detach().cpu().contiguous()) for k, v in state_dict.items())
    verified = verify_backbone(state_dict, info['family'], info['cfg'],
                               src) if verify else []
    meta = dict(
        source=osp.abspath(src),
        source_layout=info['layout'],
        backbone=info['name'],
        backbone_cfg=_plain(info['cfg']),
        dropped_keys=info['dropped_keys'],
        filled_keys=info['filled_keys'],
        **info['notes'],
        verified_with=verified,
        mmrm_version=_mmrm_version(),
        torch_version=str(torch.__version__),
        time=datetime.datetime.now().isoformat(timespec='seconds'),
    )
    dst = osp.expanduser(dst)
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(osp.abspath(dst)),
                               suffix='.tmp')
    os.close(fd)
    try:
        torch.save({'state_dict': state_dict, 'meta': meta}, tmp)
        os.replace(tmp, dst)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return state_dict


__all__ = ['convert_checkpoint', 'extract_backbone', 'verify_backbone',
           'StrictLoadError']
