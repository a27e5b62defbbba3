"""Where the backbone weights are inside a checkpoint (the first step of a
conversion, and what ``StrictPretrained`` reads).

Recognised layouts (after unwrapping ``state_dict``/``model`` and removing a
DDP ``module.`` prefix):

* ``mmpretrain``: an mmpretrain classifier, ``backbone.*`` + ``head.*``
  (+ ``neck.*``, ``data_preprocessor.*``): the backbone keys are kept, with
  the ``backbone.`` prefix removed.
* ``torchvision``: a torchvision-style ResNet as in the official
  RecursiveMix-pytorch code (``conv1.weight``, ``bn1.*``, ``layer1.0.*``,
  ``fc.*``, ``fc_roi.*``): everything except the classifier layers is kept.
* an official release's own layout that a family's adapter translates
  (:attr:`~mmrm.convert.adapter.BackboneAdapter.release`, e.g.
  ``pvt-official``).
"""
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Sequence, Tuple

import torch

from .errors import NotACheckpointError, TaskCheckpointError, format_keys

#: prefixes that only detectors / segmentors have
TASK_PREFIXES = ('bbox_head.', 'rpn_head.', 'roi_head.', 'mask_head.',
                 'decode_head.', 'auxiliary_head.', 'semantic_head.',
                 'panoptic_head.', 'query_head.', 'encoder.', 'decoder.')
#: classifier layers of the official RM ResNet (and torchvision's)
CLASSIFIER_PREFIXES = ('fc.', 'fc_roi.', 'head.')
#: non-backbone parts of an mmpretrain classifier
MMPRETRAIN_NON_BACKBONE = ('head.', 'neck.', 'data_preprocessor.')


def unwrap_state_dict(obj, source: str = 'checkpoint') -> 'OrderedDict':
    """Return the flat ``name -> tensor`` dict inside a loaded checkpoint.

    Accepts a bare state dict, or one wrapped in ``state_dict`` (mmengine,
    official RM code) or ``model`` (timm, DeiT, official PVT); removes a
    leading ``module.`` (DDP) from every key that has one.

    Raises:
        NotACheckpointError: no dict of tensors can be found.
    """
    if not isinstance(obj, Mapping):
        raise NotACheckpointError(
            f'{source} holds a {type(obj).__name__}, not a dict of tensors')
    for wrapper in ('state_dict', 'model', 'module'):
        inner = obj.get(wrapper)
        if isinstance(inner, Mapping) and inner:
            obj = inner
            break
    tensors = OrderedDict(
        (k, v) for k, v in obj.items() if isinstance(v, torch.Tensor))
    if not tensors:
        raise NotACheckpointError(
            f'{source} holds no tensors (top-level keys: '
            f'{format_keys(map(str, obj.keys()))})')
    others = [str(k) for k, v in obj.items()
              if not isinstance(v, torch.Tensor)]
    if others:
        raise NotACheckpointError(
            f'{source}: the state dict holds non-tensor entries '
            f'{format_keys(others)}; expected a flat dict of tensors')
    return OrderedDict((re.sub(r'^module\.', '', k), v)
                       for k, v in tensors.items())


def check_not_task_model(state_dict: Mapping, source: str) -> None:
    """Refuse a detector / segmentor checkpoint.

    Raises:
        TaskCheckpointError: keys like ``bbox_head.*`` or ``decode_head.*``,
            or a ``neck.*`` without a classifier ``head.*``, are present.
    """
    task = [k for k in state_dict if k.startswith(TASK_PREFIXES)]
    has_neck = any(k.startswith('neck.') for k in state_dict)
    has_cls_head = any(k.startswith(('head.', 'fc.')) for k in state_dict)
    if task or (has_neck and not has_cls_head):
        parts = sorted({k.split('.')[0] + '.*' for k in state_dict})
        raise TaskCheckpointError(
            f'{source} is a detector/segmentor checkpoint (it has '
            f'{", ".join(parts)}), not a pretrained classifier. Convert the '
            f'ImageNet pretraining checkpoint instead; a trained detector or '
            f'segmentor is used as a whole with `load_from=` or '
            f'tools/test.py.')


def split_backbone(state_dict: Mapping, source: str,
                   releases: Sequence = ()) -> Tuple['OrderedDict', str,
                                                     List[str]]:
    """Separate the backbone weights from the rest.

    Args:
        releases: :class:`~mmrm.convert.adapter.ReleaseLayout` s tried on a
            checkpoint without ``backbone.*`` keys.

    Returns:
        ``(backbone_state_dict, layout, dropped_keys)`` where layout is
        ``'mmpretrain'``, ``'torchvision'`` or a release's name.
    """
    check_not_task_model(state_dict, source)
    if any(k.startswith('backbone.') for k in state_dict):
        kept = OrderedDict((k[len('backbone.'):], v)
                           for k, v in state_dict.items()
                           if k.startswith('backbone.'))
        dropped = [k for k in state_dict if not k.startswith('backbone.')]
        strange = [k for k in dropped
                   if not k.startswith(MMPRETRAIN_NON_BACKBONE)]
        if strange:
            raise NotACheckpointError(
                f'{source}: an mmpretrain-style checkpoint (backbone.* keys) '
                f'with keys of unknown parts: {format_keys(strange)}')
        return kept, 'mmpretrain', dropped
    dropped = [k for k in state_dict if k.startswith(CLASSIFIER_PREFIXES)]
    kept = OrderedDict((k, v) for k, v in state_dict.items()
                       if not k.startswith(CLASSIFIER_PREFIXES))
    for release in releases:
        if release.detect(kept):
            translated, more = release.translate(kept)
            return OrderedDict(translated), release.name, dropped + more
    return kept, 'torchvision', dropped


def fill_num_batches_tracked(state_dict: Dict[str, torch.Tensor]) -> List[str]:
    """Add ``num_batches_tracked`` (0) next to BN statistics that lack it
    (checkpoints written by torch < 0.4.1, e.g. the original torchvision
    ResNet-50). Modifies ``state_dict`` in place; returns the added keys."""
    added = []
    for key in list(state_dict):
        if key.endswith('.running_mean'):
            nbt = key[:-len('running_mean')] + 'num_batches_tracked'
            if nbt not in state_dict:
                state_dict[nbt] = torch.tensor(0, dtype=torch.long)
                added.append(nbt)
    return added
