"""mmdet's PVTv2 with ``StrictPretrained`` support.

mmdet's ``PyramidVisionTransformer.init_weights`` ignores the *type* of its
``init_cfg``: whenever one is set it loads ``init_cfg.checkpoint`` itself with
``strict=False``. ``StrictPretrained`` therefore never runs on a plain
``PyramidVisionTransformerV2``. This subclass (registered in mmdet's MODELS
as ``StrictPyramidVisionTransformerV2``, same arguments and keys) routes an
``init_cfg`` of type ``StrictPretrained`` through mmengine's initializer
machinery, and keeps mmdet's behaviour for every other ``init_cfg``:

.. code-block:: python

    backbone=dict(
        type='mmdet.StrictPyramidVisionTransformerV2', embed_dims=64,
        num_layers=[2, 2, 2, 2],
        init_cfg=dict(type='StrictPretrained', checkpoint='pvtv2_b1.pth'))
"""
from mmdet.models.backbones import PyramidVisionTransformerV2
from mmdet.registry import MODELS

from .strict_init_mixin import StrictPretrainedMixin


@MODELS.register_module()
class StrictPyramidVisionTransformerV2(StrictPretrainedMixin,
                                       PyramidVisionTransformerV2):
    """``PyramidVisionTransformerV2`` whose ``init_cfg`` may be
    ``StrictPretrained``; input (N, 3, H, W) -> 4 maps (N, C_i, H/s_i, W/s_i)
    exactly as the parent."""

    def __init__(self, **kwargs):
        # the converted file is already in mmdet's layout
        kwargs.setdefault('convert_weights', False)
        super().__init__(**kwargs)
