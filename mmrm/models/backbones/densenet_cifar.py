"""DenseNet with a CIFAR stem, on top of mmpretrain's ``DenseNet``.

mmpretrain's ``DenseNet`` has the ImageNet stem (7x7 stride-2 convolution, BN,
ReLU, 3x3 stride-2 max pooling). On a 32x32 CIFAR image that leaves an 8x8 map
before the first dense block and a 1x1 map in the last one, so it does not
reproduce the CIFAR DenseNets of the RM paper (Table 3). The CIFAR variant used
there (as in the official RecursiveMix code) replaces the stem by a single 3x3
stride-1 convolution with ``init_channels`` (= 2 x growth rate: 64 for
DenseNet-121, 96 for DenseNet-161) outputs and nothing else; the dense blocks
start from the full 32x32 resolution and the last block sees 4x4.

Everything after the stem is mmpretrain's code unchanged. One known
difference to the official CIFAR code: mmpretrain's transition layers are
``BN - ReLU - conv1x1 - avgpool`` (torchvision style) whereas the official
CIFAR code has no ReLU in transitions; parameter counts are identical.
"""
import torch.nn as nn
from mmpretrain.models.backbones import DenseNet
from mmpretrain.registry import MODELS


@MODELS.register_module()
class DenseNet_CIFAR(DenseNet):  # noqa: N801 (as mmpretrain's ResNet_CIFAR)
    """DenseNet whose stem is one 3x3 stride-1 convolution (CIFAR layout).

    Takes the arguments of :class:`mmpretrain.models.DenseNet` (``arch='121'``,
    ``'161'``, ...; ``out_indices`` defaults to the last stage).

    Forward: (N, in_channels, 32, 32) -> tuple of (N, C_i, 32 / 2^i, 32 / 2^i);
    the last stage (after its BN - ReLU) is (N, 1024, 4, 4) for ``'121'`` and
    (N, 2208, 4, 4) for ``'161'``.
    """

    def __init__(self, arch='121', in_channels=3, **kwargs):
        super().__init__(arch=arch, in_channels=in_channels, **kwargs)
        self.stem = nn.Conv2d(
            in_channels, self.init_channels, kernel_size=3, stride=1,
            padding=1, bias=False)
