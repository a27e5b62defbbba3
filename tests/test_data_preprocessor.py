"""RecursiveMixDataPreprocessor: mixing inside mmpretrain's preprocessing."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from helpers import FixedRng, cls_batch

MEAN, STD = [120.0, 110.0, 100.0], [50.0, 60.0, 70.0]


def build(**kw):
    cfg = dict(type='RecursiveMixDataPreprocessor', num_classes=5, mean=MEAN,
               std=STD, seed=3)
    cfg.update(kw)
    return MODELS.build(cfg)


def normalised(batch):
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (batch['inputs'].float() - mean) / std


def test_first_batch_is_plain_and_fills_history():
    pre = build()
    batch = cls_batch([0, 1, 2], 16, 24)
    out = pre(batch, training=True)
    assert torch.equal(out['inputs'], normalised(cls_batch([0, 1, 2], 16, 24)))
    for s, label in zip(out['data_samples'], [0, 1, 2]):
        assert s.rm_valid is False and s.rm_lam == 0.0
        assert torch.equal(s.gt_score, F.one_hot(torch.tensor(label), 5).float())
    assert torch.equal(pre.recursive_mix.history_inputs, out['inputs'])


@pytest.mark.parametrize('seed', range(6))
def test_rm_box_names_exactly_the_pasted_pixels_on_non_square_images(seed):
    """H != W and box w != h: a transposed box would not match the pixels."""
    pre = build(seed=seed)
    h, w = 16, 28
    prev = pre(cls_batch([0, 1], h, w, seed=10), training=True)['inputs'].clone()
    checked = 0
    for it in range(1, 8):
        raw = cls_batch([2, 3], h, w, seed=10 + it)
        plain = normalised(cls_batch([2, 3], h, w, seed=10 + it))
        out = pre(raw, training=True)
        x = out['inputs']
        s0 = out['data_samples'][0]
        x1, y1, x2, y2 = (int(v) for v in s0.rm_box.tolist())
        assert s0.rm_box.dtype == torch.float32
        assert s0.metainfo['batch_input_shape'] == (h, w)
        if x2 > x1 and y2 > y1:
            assert s0.rm_valid and s0.rm_lam == pytest.approx((x2 - x1) * (y2 - y1) / (h * w))
            expected = F.interpolate(prev, size=(y2 - y1, x2 - x1), mode='nearest')
            assert torch.equal(x[:, :, y1:y2, x1:x2], expected)
            outside = torch.ones(h, w, dtype=torch.bool)
            outside[y1:y2, x1:x2] = False
            assert torch.equal(x[:, :, outside], plain[:, :, outside])
            checked += (x2 - x1) != (y2 - y1)
        else:
            assert not s0.rm_valid and torch.equal(x, plain)
        prev = x.clone()
    assert checked > 0


def test_labels_sum_to_one_and_decay_recursively():
    pre = build(alpha=1.0)
    lams, scores = [], []
    for it, label in enumerate([0, 1, 2, 3]):
        out = pre(cls_batch([label], 12, 12, seed=it), training=True)
        s = out['data_samples'][0]
        lams.append(s.rm_lam)
        scores.append(s.gt_score)
        assert s.gt_score.sum().item() == pytest.approx(1.0)
    # class 0 (first batch) decays by the product of the later lambdas
    assert scores[-1][0].item() == pytest.approx(lams[1] * lams[2] * lams[3])
    assert scores[-1][3].item() == pytest.approx(1 - lams[3])
    assert scores[-1][2].item() == pytest.approx((1 - lams[2]) * lams[3])


def test_larger_and_smaller_batches_than_history():
    pre = build()
    pre(cls_batch([0, 1], 8, 8), training=True)
    big = None
    for it in range(20):  # until a non-empty box
        pre.recursive_mix.history_inputs = pre.recursive_mix.history_inputs[:2]
        pre.recursive_mix.history_scores = pre.recursive_mix.history_scores[:2]
        big = pre(cls_batch([2, 3, 4, 4], 8, 8, seed=it), training=True)
        if big['data_samples'][0].rm_valid:
            break
    valid = [s.rm_valid for s in big['data_samples']]
    assert valid == [True, True, False, False]
    assert [s.rm_lam for s in big['data_samples']][2:] == [0.0, 0.0]
    assert torch.equal(big['data_samples'][3].gt_score, F.one_hot(torch.tensor(4), 5).float())
    small = pre(cls_batch([1], 8, 8, seed=99), training=True)
    assert small['inputs'].shape[0] == 1
    assert pre.recursive_mix.history_inputs.shape[0] == 1


@pytest.mark.parametrize('num_hist,batch', [(3, 5), (3, 2)])
def test_history_row_i_feeds_sample_i(num_hist, batch):
    """History smaller or larger than the batch: sample i gets the pixels
    and the labels of history row i (values, not only shapes)."""
    pre = build()
    pre.recursive_mix.rng = FixedRng(r=0.25, cx=6, cy=4)  # box x 3..9, y 2..6
    g = torch.Generator().manual_seed(0)
    hist = torch.randn(num_hist, 3, 8, 12, generator=g)  # distinct rows
    hist_scores = torch.softmax(torch.randn(num_hist, 5, generator=g), 1)
    pre.recursive_mix.history_inputs = hist.clone()
    pre.recursive_mix.history_scores = hist_scores.clone()
    labels = [i % 5 for i in range(batch)]
    out = pre(cls_batch(labels, 8, 12, seed=1), training=True)
    plain = normalised(cls_batch(labels, 8, 12, seed=1))
    lam = 24 / 96
    for i, s in enumerate(out['data_samples']):
        onehot = F.one_hot(torch.tensor(labels[i]), 5).float()
        if i < num_hist:
            assert s.rm_valid and s.rm_lam == pytest.approx(lam)
            assert s.rm_box.tolist() == [3.0, 2.0, 9.0, 6.0]
            pasted = F.interpolate(hist[i:i + 1], size=(4, 6), mode='nearest')[0]
            assert torch.equal(out['inputs'][i, :, 2:6, 3:9], pasted)
            assert torch.allclose(s.gt_score, (1 - lam) * onehot + lam * hist_scores[i])
        else:
            assert not s.rm_valid and s.rm_lam == 0.0
            assert torch.equal(out['inputs'][i], plain[i])
            assert torch.equal(s.gt_score, onehot)


def test_eval_never_mixes_nor_touches_history():
    pre = build()
    pre(cls_batch([0, 1], 8, 8), training=True)
    hist = pre.recursive_mix.history_inputs
    batch = cls_batch([2, 3], 8, 8, seed=5)
    out = pre(batch, training=False)
    assert torch.equal(out['inputs'], normalised(cls_batch([2, 3], 8, 8, seed=5)))
    assert 'rm_box' not in out['data_samples'][0]
    assert pre.recursive_mix.history_inputs is hist


def test_reset_history():
    pre = build()
    pre(cls_batch([0], 8, 8), training=True)
    pre.reset_history()
    out = pre(cls_batch([1], 8, 8, seed=1), training=True)
    assert out['data_samples'][0].rm_valid is False


def test_config_errors_are_clear():
    with pytest.raises(ValueError, match='batch_augments'):
        build(batch_augments=dict(augments=dict(type='Mixup', alpha=1.0)))
    with pytest.raises(ValueError, match='num_classes'):
        MODELS.build(dict(type='RecursiveMixDataPreprocessor'))
    with pytest.raises(ValueError, match='alpha'):
        build(alpha=0.0)
    with pytest.raises(ValueError, match='interpolation'):
        build(interpolation='area')


def test_padded_batch_of_different_sizes_box_stays_in_real_pixels():
    """pseudo_collate: images of different sizes are padded bottom/right."""
    from mmpretrain.structures import DataSample
    pre = build(alpha=1.0)
    sizes = [(10, 14), (12, 9)]

    def batch(seed):
        g = torch.Generator().manual_seed(seed)
        imgs = [torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8) for h, w in sizes]
        samples = [DataSample(metainfo={'img_shape': hw}).set_gt_label(i) for i, hw in enumerate(sizes)]
        return {'inputs': imgs, 'data_samples': samples}

    pre(batch(0), training=True)
    pasted = 0
    for seed in range(1, 30):
        out = pre(batch(seed), training=True)
        assert out['inputs'].shape[-2:] == (12, 14)
        for s, (h, w) in zip(out['data_samples'], sizes):
            x1, y1, x2, y2 = s.rm_box.tolist()
            assert 0 <= x1 <= x2 <= 9 and 0 <= y1 <= y2 <= 10  # common real region
            if s.rm_valid:
                assert s.rm_lam == pytest.approx((x2 - x1) * (y2 - y1) / (h * w))
                assert s.gt_score.sum().item() == pytest.approx(1.0)
                pasted += 1
    assert pasted > 0
