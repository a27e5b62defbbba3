"""mmdet's and mmseg's Swin Transformer with ``StrictPretrained`` support.

Their ``SwinTransformer.init_weights`` ignores the *type* of ``init_cfg``:
whenever one with a ``checkpoint`` is set it loads the file itself with
``strict=False`` (and silently resizes or skips mismatching position
tables). ``StrictPretrained`` would never run. ``StrictSwinTransformer``
(registered under that name in mmdet's and in mmseg's ``MODELS``; same
arguments, keys and outputs as the parent) routes an ``init_cfg`` of type
``StrictPretrained`` through mmengine's initializer and keeps the parent's
behaviour for every other ``init_cfg``. mmrm's extension beyond the paper.

.. code-block:: python

    backbone=dict(
        type='StrictSwinTransformer', embed_dims=96, depths=[2, 2, 6, 2],
        num_heads=[3, 6, 12, 24],
        init_cfg=dict(type='StrictPretrained',
                      checkpoint='checkpoints/swin-tiny_rm_backbone.pth'))

mmseg's ``VisionTransformer`` needs no such wrapper: an ``init_cfg`` that is
not ``Pretrained`` goes to mmengine's ``BaseModule.init_weights``.
"""
from mmdet.models.backbones import SwinTransformer as DetSwinTransformer
from mmdet.registry import MODELS as DET_MODELS
from mmseg.models.backbones import SwinTransformer as SegSwinTransformer
from mmseg.registry import MODELS as SEG_MODELS

from .strict_init_mixin import StrictPretrainedMixin


@DET_MODELS.register_module(name='StrictSwinTransformer')
class StrictDetSwinTransformer(StrictPretrainedMixin, DetSwinTransformer):
    """mmdet's ``SwinTransformer``; ``init_cfg`` may be StrictPretrained."""


@SEG_MODELS.register_module(name='StrictSwinTransformer')
class StrictSegSwinTransformer(StrictPretrainedMixin, SegSwinTransformer):
    """mmseg's ``SwinTransformer``; ``init_cfg`` may be StrictPretrained."""
