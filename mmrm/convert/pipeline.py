"""Pretraining checkpoint -> backbone-only checkpoint for mmdet / mmseg:
extract (:mod:`.extract`), verify (:mod:`.verify`), write (:mod:`.write`).

The output file is ``{'state_dict': backbone weights, 'meta': {...}}`` and
loads with ``torch.load(path, weights_only=True)``; use it with
``init_cfg=dict(type='StrictPretrained', checkpoint=path)`` (or mmengine's
``Pretrained``).
"""
import datetime
import os.path as osp
from collections import OrderedDict
from typing import Mapping, Union

import torch

from mmrm.version import __version__

from .extract import extract_backbone
from .targets import plain
from .verify import verify_backbone
from .write import ConvertedBackbone, write_backbone


def convert_backbone(src: str,
                     backbone: Union[str, Mapping] = 'resnet50',
                     verify: bool = True,
                     trusted: bool = False,
                     resize_pos_embed: bool = False) -> ConvertedBackbone:
    """Convert in memory: the backbone weights and the ``meta`` that
    :func:`~.write.write_backbone` saves with them (arguments as
    :func:`convert_checkpoint`)."""
    got = extract_backbone(src, backbone, trusted, resize_pos_embed)
    state_dict = OrderedDict(
        (k, v.detach().cpu().contiguous()) for k, v in got.state_dict.items())
    verified = verify_backbone(state_dict, got.target, src) if verify else []
    meta = dict(
        source=osp.abspath(src),
        source_layout=got.layout,
        backbone=got.target.name,
        backbone_cfg=plain(got.target.cfg),
        dropped_keys=got.dropped_keys,
        filled_keys=got.filled_keys,
        **got.notes,
        verified_with=verified,
        mmrm_version=__version__,
        torch_version=str(torch.__version__),
        time=datetime.datetime.now().isoformat(timespec='seconds'),
    )
    return ConvertedBackbone(state_dict, meta)


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
    ViT/Swin classifiers go to mmseg's ViT / mmdet's and mmseg's Swin.
    Classifier layers are dropped. Each family is one adapter of
    :data:`~mmrm.convert.families.ADAPTERS`.

    Args:
        src: input checkpoint path.
        dst: output path (directories are created; written atomically).
        backbone: ``'resnet50'``, ``'pvtv2-b1'`` (see
            :data:`~mmrm.convert.targets.PRESETS`) or a backbone config
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
        OrderedDict: the backbone state dict (keys without ``backbone.``);
        :func:`convert_backbone` + :func:`~.write.write_backbone` give the
        ``meta`` too.

    Raises:
        FileNotFoundError, NotACheckpointError, UnsafeCheckpointError,
        TaskCheckpointError, WrongBackboneError, DeepStemError,
        ArchitectureMismatchError, PositionEmbeddingError, StrictLoadError
        (see :mod:`mmrm.convert.errors`); MmcvOpsError when ``verify`` needs
        mmcv's compiled ops and they are not built.
    """
    converted = convert_backbone(src, backbone, verify, trusted,
                                 resize_pos_embed)
    return write_backbone(converted, dst).state_dict
