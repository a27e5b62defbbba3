"""RecursiveMixHead: classifier, RoIAlign consistency loss, deploy shape."""
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


def test_history_smaller_than_batch_is_aligned():
    head = build_head()
    head.loss((torch.randn(2, 3, 4, 4),), rm_samples([0, 1], [0] * 4, 0.0, [False] * 2, (8, 8)))
    s = rm_samples([0, 1, 2], [0, 0, 4, 4], 0.25, [True, True, False], (8, 8))
    losses = head.loss((torch.randn(3, 3, 4, 4),), s)
    assert torch.isfinite(losses['loss_rm'])
    assert head.history_logits.shape == (3, 4)
