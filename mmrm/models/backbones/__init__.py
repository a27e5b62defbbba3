"""Backbones that mmpretrain lacks, registered into mmpretrain's ``MODELS``.

* ``PyramidNet`` -- additive-widening PyramidNet for CIFAR (RM Tables 1-4).
* ``DenseNet_CIFAR`` -- mmpretrain's DenseNet with a 3x3 stride-1 CIFAR stem.
"""
from .densenet_cifar import DenseNet_CIFAR
from .pyramidnet import PyramidNet, pyramid_widths

__all__ = ['PyramidNet', 'DenseNet_CIFAR', 'pyramid_widths']
