"""RecursiveMixHead: classifier, RoIAlign consistency loss, deploy shape."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmrm.models.heads import consistency_loss


def build_head(**kw):
    cfg = dict(type='RecursiveMixHead', num_classes=4, in_channels=3, omega=0.5)
    cfg.update(kw)
    return MODELS.build(cfg)


def rm_samples(labels, box, lam, valid, input_shape, k=4):
    out = []
    for label, v in zip(labels, valid):
        s = DataSample().set_gt_score(F.one_hot(torch.tensor(label), k).float())
        s.set_field(torch.tensor(box, dtype=torch.float32), 'rm_box')
        s.set_field(lam if v else 0.0, 'rm_lam')
        s.set_field(v, 'rm_valid')
        s.set_metainfo({'batch_input_shape': input_shape})
        out.append(s)
    return out


def test_roi_features_equal_mean_of_box_region():
    head = build_head()
    feat = torch.randn(2, 3, 6, 10)  # stride 4 for a 24x40 input
    box = torch.tensor([[8.0, 4.0, 28.0, 16.0]] * 2)  # feature cols 2..6, rows 1..3
    pooled = head.roi_features(feat, box, (24, 40))
    assert torch.allclose(pooled, feat[:, :, 1:4, 2:7].mean(dim=(2, 3)), atol=1e-6)


def test_legacy_transposed_roi_reads_the_transposed_region():
    head = build_head(legacy_transposed_roi=True)
    feat = torch.randn(1, 3, 8, 8)
    box = torch.tensor([[8.0, 0.0, 24.0, 8.0]])  # cols 2..5, rows 0..1 at stride 4
    pooled = head.roi_features(feat, box, (32, 32))
    assert torch.allclose(pooled, feat[:, :, 2:6, 0:2].mean(dim=(2, 3)), atol=1e-6)
    correct = build_head().roi_features(feat, box, (32, 32))
    assert torch.allclose(correct, feat[:, :, 0:2, 2:6].mean(dim=(2, 3)), atol=1e-6)
    assert not torch.allclose(pooled, correct)


def test_consistency_loss_matches_hand_computation_and_uses_history():
    torch.manual_seed(0)
    head = build_head(omega=0.5)
    head.train()
    feat1 = torch.randn(3, 3, 4, 4)
    s1 = rm_samples([0, 1, 2], [0, 0, 0, 0], 0.0, [False] * 3, (16, 16))
    l1 = head.loss((feat1,), s1)
    assert l1['loss_rm'].item() == 0.0
    p_hist = head.fc(feat1.mean((2, 3))).detach()
    assert torch.allclose(head.history_logits, p_hist)

    feat2 = torch.randn(3, 3, 4, 4, requires_grad=True)
    box, lam = [4.0, 0.0, 12.0, 8.0], 0.25
    s2 = rm_samples([3, 0, 1], box, lam, [True, True, False], (16, 16))
    l2 = head.loss((feat2,), s2)
    region = feat2[:, :, 0:2, 1:3].mean((2, 3))
    p_roi = head.fc_roi(region)
    p = F.softmax(p_hist, 1)
    kl = (p * (p.log() - F.log_softmax(p_roi, 1))).sum(1)
    expected = 0.5 * (torch.tensor([lam, lam, 0.0]) * kl).sum() / 3
    assert l2['loss_rm'].item() == pytest.approx(expected.item(), rel=1e-5)
    # the classification loss is soft cross-entropy against gt_score
    logits = head.fc(feat2.mean((2, 3)))
    ce = -(torch.stack([s.gt_score for s in s2]) * F.log_softmax(logits, 1)).sum(1).mean()
    assert set(l2) == {'loss_cls', 'loss_rm'}
    assert l2['loss_cls'].item() == pytest.approx(ce.item(), rel=1e-5)
    # gradients reach fc_roi, and fc gets no gradient from loss_rm
    head.zero_grad()
    l2['loss_rm'].backward()
    assert head.fc_roi.weight.grad.abs().sum() > 0
    assert head.fc.weight.grad is None or head.fc.weight.grad.abs().sum() == 0


def test_consistency_loss_function_equals_kl_div():
    torch.manual_seed(1)
    q, p, w = torch.randn(5, 7), torch.randn(5, 7), torch.rand(5)
    ref = F.kl_div(F.log_softmax(q, 1), F.log_softmax(p, 1), log_target=True,
                   reduction='none').sum(1)
    assert consistency_loss(q, p, w).item() == pytest.approx((w * ref).mean().item(), rel=1e-5)


def test_fc_roi_is_separate_by_default_and_shared_on_request():
    head = build_head()
    assert head.fc_roi is not head.fc
    shared = build_head(share_fc=True)
    assert shared.fc_roi is shared.fc
    assert sum(p.numel() for p in shared.parameters()) == 3 * 4 + 4


def test_predict_uses_fc_only():
    head = build_head()
    feat = torch.randn(2, 3, 4, 4)
    before = [s.pred_score for s in head.predict((feat,))]
    torch.nn.init.constant_(head.fc_roi.weight, 5.0)
    after = [s.pred_score for s in head.predict((feat,))]
    assert all(torch.equal(a, b) for a, b in zip(before, after))
    assert torch.allclose(before[0], F.softmax(head.fc(feat.mean((2, 3))), 1)[0])


def test_clear_errors():
    head = build_head()
    with pytest.raises(ValueError, match='feature\\s+map'):
        head((torch.randn(2, 3),))
    with pytest.raises(ValueError, match='in_channels=3'):
        head((torch.randn(2, 5, 4, 4),))
    plain = [DataSample().set_gt_score(torch.ones(4) / 4)]
    with pytest.raises(ValueError, match='RecursiveMixDataPreprocessor'):
        head.loss((torch.randn(1, 3, 4, 4),), plain)
    with pytest.raises(ValueError, match='omega'):
        build_head(omega=-0.1)
    # the preprocessor says "valid" but the head has no logits of that batch
    s = rm_samples([0], [0, 0, 8, 8], 0.25, [True], (16, 16))
    with pytest.raises(RuntimeError, match='no logits'):
        head.loss((torch.randn(1, 3, 4, 4),), s)


def _kl(p_logits, q_logits):
    """KL(softmax(p) || softmax(q)) of two (K,) logit vectors, float64."""
    p = F.softmax(p_logits.double(), 0)
    return float((p * (p.log() - F.log_softmax(q_logits.double(), 0))).sum())


@pytest.mark.parametrize('num_hist,batch', [(2, 4), (5, 3)])
def test_history_logits_row_i_is_used_for_sample_i(num_hist, batch):
    """History smaller (last batch of an epoch was short) or larger than the
    batch: the loss uses history row i for sample i, by value."""
    torch.manual_seed(0)
    head = build_head(omega=1.0)
    hist = torch.randn(num_hist, 4) * 3  # distinct rows
    head.history_logits = hist.clone()
    n = min(num_hist, batch)
    lam = 0.25
    samples = rm_samples([i % 4 for i in range(batch)], [4.0, 0.0, 12.0, 8.0],
                         lam, [i < n for i in range(batch)], (16, 16))
    feat = torch.randn(batch, 3, 4, 4)
    loss_rm = head.loss((feat,), samples)['loss_rm'].item()
    p_roi = head.fc_roi(feat[:, :, 0:2, 1:3].mean((2, 3))).detach()
    expected = sum(lam * _kl(hist[i], p_roi[i]) for i in range(n)) / batch
    assert loss_rm == pytest.approx(expected, rel=1e-5)
    assert head.history_logits.shape == (batch, 4)


def _bilinear(fmap, y, x):
    """torchvision's bilinear sample of fmap (C, h, w) at (y, x)."""
    h, w = fmap.shape[-2:]
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return torch.zeros(fmap.size(0), dtype=torch.float64)
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= h - 1:
        y0 = y1 = h - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= w - 1:
        x0 = x1 = w - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    f = fmap.double()
    return ((1 - ly) * (1 - lx) * f[:, y0, x0] + (1 - ly) * lx * f[:, y0, x1]
            + ly * (1 - lx) * f[:, y1, x0] + ly * lx * f[:, y1, x1])


def roi_align_1x1_by_hand(fmap, box, scale_x, scale_y):
    """RoIAlign(output 1x1, aligned=True, adaptive sampling) of one box
    ``[x1, y1, x2, y2]`` in input pixels, written out from its definition:
    box to feature coordinates per axis, minus half a pixel, ceil(size)
    sample points per axis at the centres of equal cells, averaged."""
    x1, x2 = box[0] * scale_x - 0.5, box[2] * scale_x - 0.5
    y1, y2 = box[1] * scale_y - 0.5, box[3] * scale_y - 0.5
    gw, gh = math.ceil(x2 - x1), math.ceil(y2 - y1)
    points = [(y1 + (iy + 0.5) * (y2 - y1) / gh, x1 + (ix + 0.5) * (x2 - x1) / gw)
              for iy in range(gh) for ix in range(gw)]
    return sum(_bilinear(fmap, y, x) for y, x in points) / len(points)


def test_roi_features_scale_x_and_y_separately_on_37x53():
    """A 37x53 (HxW) input and a 10x14 feature map (stride 4, rounded up):
    x scales by 14/53, y by 10/37, which differ. RoIAlign equals the hand
    computation; one scale for both axes would not."""
    torch.manual_seed(0)
    head = build_head()
    feat = torch.randn(2, 3, 10, 14)
    boxes = [[5.0, 7.0, 41.0, 30.0], [0.0, 11.0, 26.0, 37.0]]
    pooled = head.roi_features(feat, torch.tensor(boxes), (37, 53))
    for i, box in enumerate(boxes):
        expected = roi_align_1x1_by_hand(feat[i], box, 14 / 53, 10 / 37)
        assert torch.allclose(pooled[i].double(), expected, atol=1e-5)
        single = roi_align_1x1_by_hand(feat[i], box, 14 / 53, 14 / 53)
        assert not torch.allclose(pooled[i].double(), single, atol=1e-3)


def test_roi_box_is_scaled_in_float32_under_bf16_autocast():
    """Under bf16 autocast the feature map is bf16; the box must not be:
    41 * 14/53 = 10.83 has no bf16 value closer than 1/32. The feature map
    is an integer ramp (exact in bf16), whose RoI mean is its value at the
    box centre; shifted to be ~0 there, so that bf16's output rounding is
    tiny and a rounded box (8 per feature pixel) shows."""
    head = build_head(in_channels=1)
    box = [5.0, 7.0, 41.0, 30.0]
    cx = (box[0] + box[2]) / 2 * 14 / 53 - 0.5
    cy = (box[1] + box[3]) / 2 * 10 / 37 - 0.5
    ys, xs = torch.meshgrid(torch.arange(10.0), torch.arange(14.0), indexing='ij')
    ramp = (8 * xs + 8 * ys - round(8 * cx + 8 * cy))[None, None]
    assert torch.equal(ramp.to(torch.bfloat16).float(), ramp)
    exact = 8 * cx + 8 * cy - round(8 * cx + 8 * cy)
    assert roi_align_1x1_by_hand(ramp[0], box, 14 / 53, 10 / 37).item() == \
        pytest.approx(exact, abs=1e-9)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        pooled = head.roi_features(ramp.to(torch.bfloat16), torch.tensor([box]),
                                   (37, 53))
    assert pooled.dtype == torch.bfloat16
    assert pooled.float().item() == pytest.approx(exact, abs=0.01)


def test_non_finite_history_row_gets_weight_zero():
    """An fp16 overflow leaves inf/nan logits in the history: those rows are
    not used (weight 0), the others are, and loss_rm stays finite."""
    torch.manual_seed(0)
    head = build_head(omega=1.0)
    hist = torch.randn(3, 4) * 3
    hist[0, 1] = float('inf')
    hist[2, 0] = float('nan')
    head.history_logits = hist.clone()
    lam = 0.25
    samples = rm_samples([0, 1, 2], [4.0, 0.0, 12.0, 8.0], lam, [True] * 3, (16, 16))
    feat = torch.randn(3, 3, 4, 4, requires_grad=True)
    loss_rm = head.loss((feat,), samples)['loss_rm']
    assert torch.isfinite(loss_rm)
    p_roi = head.fc_roi(feat[:, :, 0:2, 1:3].mean((2, 3))).detach()
    assert loss_rm.item() == pytest.approx(lam * _kl(hist[1], p_roi[1]) / 3, rel=1e-4)
    loss_rm.backward()
    assert torch.isfinite(feat.grad).all() and torch.isfinite(head.fc_roi.weight.grad).all()


def test_history_logits_are_float32_under_autocast():
    head = build_head()
    samples = rm_samples([0, 1], [0] * 4, 0.0, [False] * 2, (16, 16))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        logits = head(torch.randn(2, 3, 4, 4))
        head.loss((torch.randn(2, 3, 4, 4),), samples)
    assert logits.dtype == torch.bfloat16  # the head does run under autocast
    assert head.history_logits.dtype == torch.float32


def test_predict_leaves_history_untouched():
    head = build_head()
    head.loss((torch.randn(2, 3, 4, 4),), rm_samples([0, 1], [0] * 4, 0.0, [False] * 2, (8, 8)))
    hist = head.history_logits
    saved = hist.clone()
    head.eval()
    head.predict((torch.randn(5, 3, 4, 4),))
    assert head.history_logits is hist and torch.equal(hist, saved)


def test_token_sequence_input_gets_the_documented_error():
    """ViT-like (N, L, C) tokens (C == in_channels) without a grid: the
    error of docs/checks.md, in forward and in loss."""
    head = build_head()
    tokens = torch.randn(2, 49, 3)
    msg = (r"got a token sequence \(N, L, C\) = \(2, 49, 3\) .*set the "
           r"backbone's output to a feature map \(N, C, h, w\)")
    with pytest.raises(ValueError, match=msg):
        head((tokens,))
    s = rm_samples([0, 1], [0] * 4, 0.0, [False] * 2, (28, 28))
    with pytest.raises(ValueError, match=msg):
        head.loss((tokens,), s)


def test_consistency_loss_is_float32_for_bf16_logits_under_autocast():
    """Under bf16 autocast fc_roi gives bf16 logits; the KL is computed in
    float32 from them. With 1000 classes and small logits (a near-uniform
    softmax, as early in training) a bf16 KL is far off (tens of % or even
    negative); float32 matches a float64 reference of the same inputs."""
    torch.manual_seed(0)
    head = build_head(num_classes=1000, in_channels=16, omega=1.0)
    with torch.no_grad():
        head.fc_roi.weight.mul_(0.1)
    roi = []
    head.fc_roi.register_forward_hook(lambda m, i, out: roi.append(out))
    feat = 0.5 * torch.randn(4, 16, 4, 4)
    lam = 0.25
    head.history_logits = 0.05 * torch.randn(4, 1000)  # float32, as stored
    samples = rm_samples([0, 1, 2, 3], [0, 0, 8, 8], lam, [True] * 4,
                         (16, 16), k=1000)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        hist = head.history_logits.clone()
        loss_rm = head.loss((feat, ), samples)['loss_rm']
    assert roi[0].dtype == torch.bfloat16  # what the KL receives
    assert loss_rm.dtype == torch.float32
    log_p = F.log_softmax(hist.double(), 1)
    log_q = F.log_softmax(roi[0].detach().double(), 1)
    want = lam * (log_p.exp() * (log_p - log_q)).sum(1).mean()
    assert want > 0
    assert loss_rm.item() == pytest.approx(want.item(), rel=1e-3)
