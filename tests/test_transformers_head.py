"""RecursiveMixHead on token backbones (mmrm's extension beyond the paper).

Tiny mmpretrain VisionTransformer / SwinTransformer on CPU, non-square
inputs: the RoI features of the token grid equal a hand computation from the
raw tokens (class token left out), the main classifier reads the average of
the patch tokens, the pixel box maps to the grid per axis (and by the stride
for inputs that are not a multiple of it), the RoI branch alone sends
gradients into the backbone, only through the tokens inside the box, and a
backbone without a spatial output gets an error naming the setting.
"""
import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from mmpretrain.utils import register_all_modules

import mmrm  # noqa: F401  (registers the RM head)

register_all_modules(init_default_scope=True)

ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


def vit(out_type='featmap', patch=16, img_size=(48, 80)):
    return dict(type='VisionTransformer', arch=ARCH, img_size=img_size,
                patch_size=patch, out_type=out_type)


SWIN = dict(type='SwinTransformer', img_size=(64, 96), window_size=2,
            arch=dict(embed_dims=8, depths=[1, 1, 1, 1],
                      num_heads=[1, 1, 2, 2]), out_indices=(3, ))


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg)


def classifier(backbone, in_channels, neck=None, **head):
    torch.manual_seed(0)
    model = build(dict(
        type='ImageClassifier', backbone=backbone, neck=neck,
        head=dict(type='RecursiveMixHead', num_classes=5,
                  in_channels=in_channels, omega=1.0, **head)))
    model.init_weights()
    return model


def raw_tokens(model, x, patch):
    """(N, h, w, C) patch tokens and (N, C) class token of the same ViT,
    read with out_type='raw' (no grid reshaping by mmpretrain)."""
    raw_model = build(vit('raw', patch, model.backbone.img_size))
    raw_model.load_state_dict(model.backbone.state_dict())
    with torch.no_grad():
        (tokens, ) = raw_model(x)
    h, w = -(-x.shape[2] // patch), -(-x.shape[3] // patch)
    return tokens[:, 1:].reshape(len(x), h, w, -1), tokens[:, 0]


@pytest.mark.parametrize('patch', [8, 16])
def test_vit_roi_is_hand_computed_from_patch_tokens(patch):
    """48x80 input: a 3x5 (p=16) or 6x10 (p=8) grid. A token-aligned box
    gives the mean of the tokens inside it; a box offset by half a token
    gives the bilinear mixture written out below. The class token is in
    neither: the grid equals raw tokens 1..L."""
    model = classifier(vit(patch=patch), 32)
    x = torch.randn(2, 3, 48, 80)
    grid, _ = raw_tokens(model, x, patch)
    with torch.no_grad():
        (feat, ) = model.extract_feat(x)
    assert torch.allclose(feat.permute(0, 2, 3, 1), grid, atol=1e-6)
    p = patch
    aligned = torch.tensor([[2 * p, 1 * p, 5 * p, 3 * p]] * 2,
                           dtype=torch.float)
    half = torch.tensor([[p / 2, p / 2, 5 * p / 2, 3 * p / 2]] * 2)
    with torch.no_grad():
        roi_a = model.head.roi_features(feat, aligned, (48, 80))
        roi_h = model.head.roi_features(feat, half, (48, 80))
    t = grid
    want_a = t[:, 1:3, 2:5].mean(dim=(1, 2))
    want_h = (t[:, 0, 0] + 2 * t[:, 0, 1] + t[:, 0, 2] + t[:, 1, 0] +
              2 * t[:, 1, 1] + t[:, 1, 2]) / 8
    assert torch.allclose(roi_a, want_a, atol=1e-5)
    assert torch.allclose(roi_h, want_h, atol=1e-5)


def test_vit_main_classifier_reads_mean_of_patch_tokens_not_class_token():
    model = classifier(vit(), 32)
    model.eval()
    x = torch.randn(2, 3, 48, 80)
    grid, cls = raw_tokens(model, x, 16)
    with torch.no_grad():
        logits = model(x, mode='tensor')
        fc = model.head.fc
        assert torch.allclose(logits, fc(grid.mean(dim=(1, 2))), atol=1e-5)
        assert not torch.allclose(logits, fc(cls), atol=1e-3)


def test_swin_roi_reads_last_stage_grid():
    """64x96 input: Swin's last stage is a 2x3 grid (stride 32); the box
    [32, 0, 96, 64] covers its columns 1-2."""
    model = classifier(SWIN, 64, feat_stride=32)
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        (feat, ) = model.extract_feat(x)
        assert feat.shape[-2:] == (2, 3)
        boxes = torch.tensor([[32., 0., 96., 64.]] * 2)
        roi = model.head.roi_features(feat, boxes, (64, 96))
        model.head.feat_stride = None  # a multiple of 32: same scale
        roi_ratio = model.head.roi_features(feat, boxes, (64, 96))
    assert torch.allclose(roi, feat[:, :, :, 1:3].mean(dim=(2, 3)), atol=1e-5)
    assert torch.allclose(roi, roi_ratio)


def test_stride_maps_boxes_exactly_when_input_is_not_a_multiple():
    """50x70 input, patch 16: a 4x5 grid whose last row/column is partly
    padding. With feat_stride=16 a box on token borders stays on them; the
    plain grid/image ratio (5/70, 4/50) would not."""
    model = classifier(vit(img_size=(50, 70)), 32, feat_stride=16)
    x = torch.randn(1, 3, 50, 70)
    with torch.no_grad():
        (feat, ) = model.extract_feat(x)
        assert feat.shape[-2:] == (4, 5)
        box = torch.tensor([[16., 16., 48., 48.]])
        roi = model.head.roi_features(feat, box, (50, 70))
        model.head.feat_stride = None
        roi_ratio = model.head.roi_features(feat, box, (50, 70))
    want = feat[:, :, 1:3, 1:3].mean(dim=(2, 3))
    assert torch.allclose(roi, want, atol=1e-5)
    assert not torch.allclose(roi_ratio, want, atol=1e-3)
    model.head.feat_stride = 8
    with pytest.raises(ValueError, match=r'feat_stride=8 does not fit.*4x5'):
        model.head.roi_features(feat, box, (50, 70))


def test_box_maps_to_grid_per_axis():
    """x (columns) scales with the width, y (rows) with the height."""
    from mmrm.models.heads import box_to_grid
    box = torch.tensor([[10., 20., 30., 40.]])
    got = box_to_grid(box, (50, 70), (4, 5))  # 4/50 rows, 5/70 columns
    want = torch.tensor([[10 * 5 / 70, 20 * 4 / 50, 30 * 5 / 70, 40 * 4 / 50]])
    assert torch.allclose(got, want)
    got = box_to_grid(box, (50, 70), (7, 5), stride=(8, 16))  # (row, col)
    assert torch.allclose(got, torch.tensor([[10 / 16, 20 / 8, 30 / 16,
                                              40 / 8]]))
    assert torch.equal(box, torch.tensor([[10., 20., 30., 40.]]))  # a copy


def _rm_samples(n, box, input_shape, lam=0.3):
    samples = []
    for i in range(n):
        s = DataSample().set_gt_label(i % 5)
        s.set_gt_score(torch.full((5, ), 0.2))
        s.set_field(torch.tensor(box, dtype=torch.float), 'rm_box')
        s.set_field(lam, 'rm_lam')
        s.set_field(True, 'rm_valid')
        s.set_field(input_shape, 'batch_input_shape', field_type='metainfo')
        samples.append(s)
    return samples


@pytest.mark.parametrize('name', ['vit', 'swin'])
def test_roi_branch_alone_trains_backbone_through_the_box(name):
    """loss_rm by itself: every backbone weight gets a gradient, the token
    grid only inside the box (token-aligned box, so RoIAlign touches no
    neighbour)."""
    if name == 'vit':
        model, shape, box, cells = classifier(vit(), 32), (48, 80), \
            [32., 16., 80., 48.], (slice(1, 3), slice(2, 5))
    else:
        model, shape, box, cells = classifier(SWIN, 64), (64, 96), \
            [32., 0., 96., 64.], (slice(0, 2), slice(1, 3))
    x = torch.randn(2, 3, *shape)
    feats = model.extract_feat(x)
    feats[-1].retain_grad()
    model.head.history_logits = torch.randn(2, 5)
    losses = model.head.loss(feats, _rm_samples(2, box, shape))
    assert losses['loss_rm'] > 0
    losses['loss_rm'].backward()
    grad = feats[-1].grad.abs().sum(dim=(0, 1))
    inside = torch.zeros_like(grad, dtype=torch.bool)
    inside[cells] = True
    assert (grad[inside] > 0).all() and (grad[~inside] == 0).all()
    no_grad = [n for n, p in model.backbone.named_parameters()
               if p.grad is None or not p.grad.abs().sum() > 0]
    assert not no_grad, no_grad
    assert model.head.fc.weight.grad is None  # fc_roi is the RoI classifier


@pytest.mark.parametrize('out_type', ['cls_token', 'avg_featmap', 'raw'])
def test_vit_without_token_grid_is_refused_naming_out_type(out_type):
    model = classifier(vit(out_type), 32)
    with pytest.raises(ValueError, match=r"out_type='featmap'"):
        model(torch.randn(1, 3, 48, 80), mode='tensor')


def test_swin_with_pooling_neck_is_refused_naming_neck():
    model = classifier(SWIN, 64, neck=dict(type='GlobalAveragePooling'))
    with pytest.raises(ValueError, match=r'neck=None'):
        model(torch.randn(1, 3, 64, 96), mode='tensor')
