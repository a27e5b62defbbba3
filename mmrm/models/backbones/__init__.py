"""Backbones that mmpretrain / mmdet / mmseg lack.

* ``PyramidNet`` -- additive-widening PyramidNet for CIFAR (RM Tables 1-4),
  mmpretrain ``MODELS``.
* ``DenseNet_CIFAR`` -- mmpretrain's DenseNet with a 3x3 stride-1 CIFAR stem,
  mmpretrain ``MODELS``.
* ``StrictPyramidVisionTransformerV2`` -- mmdet's PVTv2 that honours
  ``StrictPretrained``, mmdet ``MODELS`` (registered when mmdet is installed).
* ``StrictSwinTransformer`` -- mmdet's and mmseg's Swin that honour
  ``StrictPretrained``, in mmdet's and mmseg's ``MODELS`` (registered when
  both are installed; mmrm's extension beyond the paper).
"""
from .densenet_cifar import DenseNet_CIFAR
from .pyramidnet import PyramidNet, pyramid_widths

try:  # mmdet is optional for mmrm's pretraining part
    from .strict_pvt import StrictPyramidVisionTransformerV2
except ImportError:  # pragma: no cover
    StrictPyramidVisionTransformerV2 = None
try:  # mmdet and mmseg
    from .strict_swin import StrictDetSwinTransformer, StrictSegSwinTransformer
except ImportError:  # pragma: no cover
    StrictDetSwinTransformer = StrictSegSwinTransformer = None

__all__ = [
    'PyramidNet', 'DenseNet_CIFAR', 'pyramid_widths',
    'StrictPyramidVisionTransformerV2', 'StrictDetSwinTransformer',
    'StrictSegSwinTransformer'
]
