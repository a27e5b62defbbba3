"""PyramidNet and DenseNet_CIFAR backbones (mmrm/models/backbones)."""
import math

import pytest
import torch
import torch.nn as nn

import mmrm  # noqa: F401  (registers the backbones)
from mmrm.models.backbones import DenseNet_CIFAR, PyramidNet, pyramid_widths


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _paper_count(depth, alpha, num_classes, bottleneck=True):
    """Parameters of PyramidNet + linear classifier from its definition
    (independent of the module code): 3x3 stem (16) + BN, units with widths
    round(16 + k * alpha / N), final BN, fc. BN has 2 parameters / channel."""
    n = (depth - 2) // (9 if bottleneck else 6)
    total, c_in = 3 * 16 * 9 + 2 * 16, 16
    for k in range(1, 3 * n + 1):
        c = int(round(16 + k * alpha / (3 * n)))
        if bottleneck:
            total += 2 * c_in + c_in * c + 2 * c + 9 * c * c + 2 * c + \
                4 * c * c + 2 * 4 * c
            c_in = 4 * c
        else:
            total += 2 * c_in + 9 * c_in * c + 2 * c + 9 * c * c + 2 * c
            c_in = c
    return total + 2 * c_in + c_in * num_classes + num_classes


@pytest.mark.parametrize('depth,alpha,num_classes,published,rel_tol', [
    # CutMix paper (and RM Table 1): PyramidNet-200, alpha 240: 26.8M.
    (200, 240, 10, 26.8e6, 0.003),
    # PyramidNet paper: bottleneck PyramidNet-164, alpha 270: 27.0M. The
    # reference code the RM paper trained with gives 27.3M for 100 classes
    # (the widths are exact integers, 16 + 5k, so no rounding is involved).
    (164, 270, 100, 27.0e6, 0.015),
])
def test_parameter_count_matches_published(depth, alpha, num_classes,
                                           published, rel_tol):
    backbone = PyramidNet(depth=depth, alpha=alpha, bottleneck=True)
    assert backbone.out_channels[-1] == 4 * (16 + alpha)
    count = _count(backbone) + _count(
        nn.Linear(backbone.feat_dim, num_classes))
    assert count == _paper_count(depth, alpha, num_classes)
    assert abs(count - published) / published < rel_tol, count


def test_widths_grow_additively():
    widths = pyramid_widths(54, 270)
    assert widths[0] == 21 and widths[-1] == 286
    assert all(b - a == 5 for a, b in zip(widths, widths[1:]))
    uneven = pyramid_widths(66, 240)  # PyramidNet-200: 240 / 66 per unit
    assert uneven[-1] == 256 and sorted(uneven) == uneven


def test_forward_shapes_and_final_activation():
    # depth 20 bottleneck = 2 units per stage; basic depth 14 = 2 per stage
    model = PyramidNet(depth=20, alpha=12, out_indices=(0, 1, 2))
    model.init_weights()
    x = torch.randn(2, 3, 33, 33)  # odd size: ceil_mode shortcut pooling
    outs = model(x)
    assert isinstance(outs, tuple) and len(outs) == 3
    widths = pyramid_widths(6, 12)
    expected = [(2, 4 * widths[1], 33, 33), (2, 4 * widths[3], 17, 17),
                (2, 4 * widths[5], 9, 9)]
    assert [tuple(o.shape) for o in outs] == expected
    assert model.out_channels == [e[1] for e in expected]
    # last stage is after the final BN-ReLU, earlier ones are raw residuals
    assert outs[2].min() >= 0 and outs[0].min() < 0

    basic = PyramidNet(depth=14, alpha=8, bottleneck=False, out_indices=-1)
    (out, ) = basic(torch.randn(1, 3, 32, 32))
    assert out.shape == (1, 16 + 8, 8, 8)


def test_shortcut_is_pooled_and_zero_padded():
    model = PyramidNet(depth=20, alpha=12, out_indices=(0, 1))
    model.eval()
    unit = model.layer2[0]  # stride 2, widens
    nn.init.zeros_(unit.bn4.weight)
    nn.init.zeros_(unit.bn4.bias)  # residual branch now outputs 0
    x = torch.randn(2, unit.bn1.num_features, 8, 8)
    out = unit(x)
    c_in = x.shape[1]
    assert out.shape[1] > c_in
    torch.testing.assert_close(out[:, :c_in],
                               nn.functional.avg_pool2d(x, 2))
    assert torch.count_nonzero(out[:, c_in:]) == 0


def test_init_weights_he_normal_and_bn_constant():
    model = PyramidNet(depth=20, alpha=12)
    model.init_weights()
    conv = model.layer3[-1].conv2  # 3x3, fan_out = 9 * channels
    expected_std = math.sqrt(2.0 / (9 * conv.out_channels))
    assert abs(conv.weight.std().item() / expected_std - 1) < 0.1
    assert torch.all(model.layer3[-1].bn4.weight == 1)
    assert torch.all(model.bn_final.bias == 0)


def test_frozen_stages_and_norm_eval():
    model = PyramidNet(depth=20, alpha=12, frozen_stages=1, norm_eval=True)
    model.train()
    for m in (model.conv1, model.bn1, model.layer1):
        assert all(not p.requires_grad for p in m.parameters())
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert not model.layer1[0].bn1.training
    assert not model.layer3[0].bn1.training  # norm_eval
    assert model.layer3[0].conv1.training


@pytest.mark.parametrize('kwargs,match', [
    (dict(depth=21, alpha=12), 'multiple of 9'),
    (dict(depth=19, alpha=12, bottleneck=False), 'multiple of 6'),
    (dict(depth=20, alpha=12, out_indices=(3, )), 'out_indices'),
    (dict(depth=20, alpha=-1), 'alpha'),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PyramidNet(**kwargs)


def test_registered_and_feeds_recursive_mix_head():
    from mmpretrain.registry import MODELS
    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='PyramidNet', depth=20, alpha=12),
        neck=None,
        head=dict(type='RecursiveMixHead', num_classes=10,
                  in_channels=4 * (16 + 12), omega=0.1)))
    model.eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.randn(2, 3, 32, 32))
        logits = model.head(feats)
    assert feats[-1].dim() == 4 and logits.shape == (2, 10)


def test_densenet_cifar_stem():
    from mmpretrain.models.backbones import DenseNet
    cifar = DenseNet_CIFAR(arch='121')
    imagenet = DenseNet(arch='121')
    stem = cifar.stem
    assert isinstance(stem, nn.Conv2d) and stem.kernel_size == (3, 3)
    assert stem.stride == (1, 1) and stem.out_channels == 64
    # only the stem differs: 7x7 conv + BN  ->  3x3 conv
    assert _count(imagenet) - _count(cifar) == (49 - 9) * 3 * 64 + 2 * 64
    # a small custom arch: 32x32 input keeps full resolution in block 1
    tiny = DenseNet_CIFAR(arch=dict(growth_rate=4, depths=[1, 1, 1, 1],
                                    init_channels=8), out_indices=(0, 3))
    tiny.eval()
    with torch.no_grad():
        first, last = tiny(torch.randn(1, 3, 32, 32))
    assert tiny.stem.out_channels == 8
    assert first.shape[-1] == 16 and last.shape[-2:] == (4, 4)
