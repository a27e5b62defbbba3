"""PyramidNet for CIFAR-size inputs (Han, Kim and Kim, CVPR 2017).

PyramidNet replaces the stage-wise channel doubling of ResNet by an
*additive* widening: every residual unit ``k`` (counted over the whole
network) has ``round(16 + k * alpha / N)`` bottleneck channels, where ``N`` is
the total number of units, so the width grows linearly from 16 to
``16 + alpha``. Other differences to ResNet, all kept here:

* pre-activation units without the first ReLU
  (``BN - conv - BN - ReLU - conv [- BN - ReLU - conv] - BN``);
* a parameter-free shortcut: identity, 2x2 average pooling (``ceil_mode``)
  when the unit downsamples, and zero channels appended when it widens;
* a final ``BN - ReLU`` after the last stage.

The CIFAR layout has a 3x3 stem with 16 channels and three stages of ``n``
units (strides 1, 2, 2): ``n = (depth - 2) / 9`` for bottleneck units
(3 convolutions each) and ``n = (depth - 2) / 6`` for basic units (2 each).

Submodule names follow the reference implementations used by the CutMix and
RecursiveMix papers (``conv1``, ``bn1``, ``layer{1,2,3}.{i}.{bn1,conv1,...}``,
``bn_final``), so their CIFAR checkpoints map onto ``backbone.*`` key by key.
"""
from typing import List, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm


def _widen_shortcut(shortcut: torch.Tensor, channels: int) -> torch.Tensor:
    """Append zero channels: (N, C, H, W) -> (N, channels, H, W)."""
    extra = channels - shortcut.size(1)
    if extra < 0:
        raise ValueError(f'PyramidNet unit narrows from {shortcut.size(1)} to '
                         f'{channels} channels; additive widening never does.')
    if extra == 0:
        return shortcut
    return F.pad(shortcut, (0, 0, 0, 0, 0, extra))


class _PyramidUnit(BaseModule):
    """Common shortcut logic of the two PyramidNet residual units.

    Args:
        stride (int): 1, or 2 for a downsampling unit (the shortcut then
            averages 2x2 windows, ``ceil_mode=True``, as the residual branch's
            stride-2 convolution with padding 1 also rounds up).
    """
    expansion = 1

    def __init__(self, stride: int, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if stride not in (1, 2):
            raise ValueError(f'stride must be 1 or 2, got {stride}')
        self.stride = stride

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s))."""
        out = self.residual(x)
        shortcut = x
        if self.stride != 1:
            shortcut = F.avg_pool2d(x, 2, stride=2, ceil_mode=True)
        return out + _widen_shortcut(shortcut, out.size(1))


class PyramidBasicUnit(_PyramidUnit):
    """``BN - conv3x3(stride) - BN - ReLU - conv3x3 - BN`` (``channels``)."""
    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 norm_cfg: dict = dict(type='BN'), init_cfg=None):
        super().__init__(stride, init_cfg=init_cfg)
        self.bn1 = build_norm_layer(norm_cfg, in_channels)[1]
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, channels)[1]
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn3 = build_norm_layer(norm_cfg, channels)[1]

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(out), inplace=True))
        return self.bn3(out)


class PyramidBottleneckUnit(_PyramidUnit):
    """``BN - conv1x1 - BN - ReLU - conv3x3(s) - BN - ReLU - conv1x1 - BN``.

    The unit has ``channels`` bottleneck channels and ``4 * channels`` outputs.
    """
    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 norm_cfg: dict = dict(type='BN'), init_cfg=None):
        super().__init__(stride, init_cfg=init_cfg)
        out_channels = channels * self.expansion
        self.bn1 = build_norm_layer(norm_cfg, in_channels)[1]
        self.conv1 = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, channels)[1]
        self.conv2 = nn.Conv2d(channels, channels, 3, stride, 1, bias=False)
        self.bn3 = build_norm_layer(norm_cfg, channels)[1]
        self.conv3 = nn.Conv2d(channels, out_channels, 1, bias=False)
        self.bn4 = build_norm_layer(norm_cfg, out_channels)[1]

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(out), inplace=True))
        out = self.conv3(F.relu(self.bn3(out), inplace=True))
        return self.bn4(out)


def pyramid_widths(num_units: int, alpha: float,
                   base: int = 16) -> List[int]:
    """Bottleneck widths of all units: ``round(base + k * alpha / num_units)``.

    Args:
        num_units (int): total number of residual units (3 stages x n).
        alpha (float): total widening ``alpha`` of the paper.
        base (int): width of the stem.

    Returns:
        list[int]: ``num_units`` widths, for units ``k = 1 .. num_units``.
    """
    step = alpha / num_units
    widths, width = [], float(base)
    for _ in range(num_units):
        # accumulate like the reference code so rounding ties match it
        width += step
        widths.append(int(round(width)))
    return widths


@MODELS.register_module()
class PyramidNet(BaseBackbone):
    """PyramidNet backbone for 32x32 (CIFAR) inputs (registry: PyramidNet).

    Args:
        depth (int): network depth; ``(depth - 2)`` must be divisible by 9
            (bottleneck) or 6 (basic). PyramidNet-200 and -164 use bottlenecks.
        alpha (float): total additive widening (the paper's alpha~), e.g. 240
            for PyramidNet-200 and 270 for PyramidNet-164 in the RM paper.
        bottleneck (bool): bottleneck (3-conv, x4 output) or basic units.
            Defaults to True.
        in_channels (int): input image channels. Defaults to 3.
        stem_channels (int): channels of the 3x3 stem. Defaults to 16.
        out_indices (Sequence[int] | int): stages (0, 1, 2; negative counts
            from the end) whose outputs are returned. Defaults to ``(2, )``.
        frozen_stages (int): freeze the stem (>= 0) and stages
            ``1 .. frozen_stages``; -1 freezes nothing. Defaults to -1.
        norm_cfg (dict): normalisation layers. Defaults to ``dict(type='BN')``.
        norm_eval (bool): keep BN layers in eval mode during training.
            Defaults to False.
        init_cfg (dict | list[dict], optional): defaults to He-normal
            (fan_out) convolutions and BN weight 1 / bias 0, as in the paper.

    Forward: ``x`` (N, in_channels, H, W) -> tuple of feature maps, one per
    entry of ``out_indices``; stage ``i`` gives (N, out_channels[i], H / 2^i,
    W / 2^i) (rounded up). Because the units are pre-activated, the last stage
    (index 2) is returned *after* the final ``BN - ReLU``, ready for global
    average pooling (e.g. by ``GlobalAveragePooling`` or ``RecursiveMixHead``);
    earlier stages are the raw residual stream.
    """

    def __init__(self,
                 depth: int,
                 alpha: float,
                 bottleneck: bool = True,
                 in_channels: int = 3,
                 stem_channels: int = 16,
                 out_indices: Union[int, Sequence[int]] = (2, ),
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 init_cfg=(dict(type='Kaiming', layer='Conv2d',
                                mode='fan_out', nonlinearity='relu',
                                distribution='normal'),
                           dict(type='Constant', val=1, bias=0,
                                layer=['_BatchNorm', 'GroupNorm']))):
        super().__init__(init_cfg=list(init_cfg) if isinstance(
            init_cfg, tuple) else init_cfg)
        unit = PyramidBottleneckUnit if bottleneck else PyramidBasicUnit
        convs_per_unit = 9 if bottleneck else 6
        if depth < 2 + convs_per_unit or (depth - 2) % convs_per_unit:
            raise ValueError(
                f'PyramidNet depth {depth} is invalid with '
                f'bottleneck={bottleneck}: (depth - 2) must be a positive '
                f'multiple of {convs_per_unit}')
        if alpha < 0:
            raise ValueError(f'alpha must be >= 0, got {alpha}')
        self.depth, self.alpha, self.bottleneck = depth, alpha, bottleneck
        self.num_stages = 3
        self.units_per_stage = (depth - 2) // convs_per_unit

        if isinstance(out_indices, int):
            out_indices = [out_indices]
        out_indices = [i + self.num_stages if i < 0 else i
                       for i in out_indices]
        if not out_indices or any(i < 0 or i >= self.num_stages
                                  for i in out_indices):
            raise ValueError(f'out_indices must index stages 0..2, got '
                             f'{out_indices}')
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        self.conv1 = nn.Conv2d(in_channels, stem_channels, 3, 1, 1,
                               bias=False)
        self.bn1 = build_norm_layer(norm_cfg, stem_channels)[1]

        widths = pyramid_widths(self.num_stages * self.units_per_stage, alpha,
                                base=stem_channels)
        channels = stem_channels
        self.out_channels = []
        for stage in range(self.num_stages):
            units = []
            for i in range(self.units_per_stage):
                width = widths[stage * self.units_per_stage + i]
                stride = 2 if (stage > 0 and i == 0) else 1
                units.append(unit(channels, width, stride, norm_cfg=norm_cfg))
                channels = width * unit.expansion
            self.add_module(f'layer{stage + 1}', nn.Sequential(*units))
            self.out_channels.append(channels)
        self.bn_final = build_norm_layer(norm_cfg, channels)[1]

        self._freeze_stages()

    @property
    def feat_dim(self) -> int:
        """Channels of the last stage (the classifier's input)."""
        return self.out_channels[-1]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """(N, C_in, H, W) -> tuple of (N, C_i, H_i, W_i), see class doc."""
        x = self.bn1(self.conv1(x))
        outs = []
        for stage in range(self.num_stages):
            x = getattr(self, f'layer{stage + 1}')(x)
            if stage == self.num_stages - 1:
                x = F.relu(self.bn_final(x), inplace=True)
            if stage in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self):
        if self.frozen_stages < 0:
            return
        modules = [self.conv1, self.bn1]
        modules += [getattr(self, f'layer{i}')
                    for i in range(1, min(self.frozen_stages,
                                          self.num_stages) + 1)]
        if self.frozen_stages >= self.num_stages:
            modules.append(self.bn_final)
        for m in modules:
            m.eval()
            for param in m.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        """Keep frozen stages (with ``norm_eval``: all BN) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
