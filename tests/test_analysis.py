"""Analysis helpers: effective class number, mixed-batch drawing, tables."""
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmrm.analysis.effective_classes import (
    effective_class_counts, effective_class_curves, mixed_label_stream,
    random_label_batches, shuffled_label_batches, summary_table)
from mmrm.analysis.mixing import (batch_augment_batches, make_data_batches,
                                  nest_box, replay_batch_augment, rm_batches)
from mmrm.analysis.mixing_grid import draw_mixing_grid, top_labels
from mmrm.utils.markdown import markdown_table, mean_std


def test_effective_class_counts_per_threshold():
    scores = torch.tensor([[0.5, 0.3, 0.15, 0.04, 0.005, 0.005],
                           [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    counts = effective_class_counts(scores, (0.1, 0.01, 0.001))
    # sample 0: 3 / 4 / 6 classes above; sample 1: always 1
    assert counts.tolist() == pytest.approx([2.0, 2.5, 3.5])
    with pytest.raises(ValueError, match=r'\(N, K\)'):
        effective_class_counts(scores[0])


def test_rm_keeps_more_classes_than_cutmix_and_mixup_k10():
    batches = random_label_batches(10, 32, 100, seed=0)
    curves = effective_class_curves(batches, 10, (32, 32), seeds=(0, ))
    for method in ('mixup', 'cutmix', 'rm'):
        assert curves[method].shape == (100, 4)
    # thresholds are nested: a lower threshold never counts fewer classes
    assert (np.diff(curves['rm'], axis=1) >= 0).all()
    # pairwise mixing can never give more than two classes per target
    assert curves['cutmix'].max() <= 2 and curves['mixup'].max() <= 2
    # the first RM iteration has no history: plain one-hot targets
    assert curves['rm'][0].tolist() == [1.0] * 4
    # 1e-2: the recursive history keeps older classes alive
    assert curves['rm'][:, 1].mean() > curves['cutmix'][:, 1].mean()
    assert curves['rm'][:, 3].mean() > 3.0
    table = summary_table(curves)
    assert table.count('\n') == 4 and '| RM |' in table


def test_label_streams_are_distributions_and_seeded():
    labels = torch.arange(10).repeat(20)
    batches = shuffled_label_batches(labels, 16, 5, seed=1)
    flat = torch.cat(batches)
    assert flat.tolist() != labels[:80].tolist()  # shuffled
    assert set(flat.tolist()) <= set(range(10)) and flat.numel() == 80
    for method in ('mixup', 'cutmix', 'rm'):
        a = mixed_label_stream(method, batches, 10, (16, 16), seed=3)
        b = mixed_label_stream(method, batches, 10, (16, 16), seed=3)
        assert all(torch.equal(x, y) for x, y in zip(a, b))
        for s in a:
            assert torch.allclose(s.sum(1), torch.ones(16))
    with pytest.raises(ValueError, match='fewer than'):
        shuffled_label_batches(labels, 64, 10)
    with pytest.raises(ValueError, match='method'):
        mixed_label_stream('resizemix', batches, 10)


def _tiny_batches(num_iters=3, n=4, size=16, channels=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0,
                           256, (12, channels, size, size),
                           generator=g,
                           dtype=torch.uint8)
    labels = torch.arange(12) % 5
    return make_data_batches(images, labels, n, num_iters, seed=seed)


def test_rm_grid_draws_the_preprocessors_boxes(tmp_path):
    from mmrm.models import RecursiveMixDataPreprocessor
    batches = _tiny_batches()
    mixed = rm_batches(batches, 5, [100.0], [50.0], alpha=1.0, seed=7)

    # the same batches through an independent preprocessor with the same seed
    pre = RecursiveMixDataPreprocessor(alpha=1.0,
                                       seed=7,
                                       num_classes=5,
                                       mean=[100.0],
                                       std=[50.0])
    ref_boxes, ref_scores = [], []
    for data in _tiny_batches():
        out = pre(data, training=True)
        ref_boxes.append([
            s.rm_box.tolist() if s.rm_valid else None
            for s in out['data_samples']
        ])
        ref_scores.append(
            torch.stack([s.gt_score for s in out['data_samples']]))

    out_file = tmp_path / 'sub' / 'grid.png'
    _, rects = draw_mixing_grid({'RM': mixed}, [f'c{i}' for i in range(5)],
                                samples=(0, 1),
                                out_file=str(out_file))
    assert out_file.stat().st_size > 1000
    import matplotlib.image
    assert matplotlib.image.imread(str(out_file)).ndim == 3

    drawn_any = False
    for t in range(3):
        assert torch.allclose(mixed[t].scores, ref_scores[t])
        for i in (0, 1):
            drawn = rects[('RM', t, i)]
            if ref_boxes[t][i] is None:
                assert drawn == []  # first iteration: plain batch
                continue
            drawn_any = True
            assert drawn[0] == pytest.approx(ref_boxes[t][i])
            # nested boxes lie inside the box pasted at this iteration
            x1, y1, x2, y2 = drawn[0]
            for bx1, by1, bx2, by2 in drawn[1:]:
                assert x1 <= bx1 <= bx2 <= x2 and y1 <= by1 <= by2 <= y2
    assert drawn_any
    assert rects[('RM', 0, 0)] == []


def test_nest_box_maps_full_image_into_box():
    outer = (8.0, 4.0, 16.0, 12.0)  # 8x8 box in a 16x32 (H x W) image
    assert nest_box(outer, (0, 0, 32, 16), 16, 32) == outer
    assert nest_box(outer, (16, 8, 32, 16), 16, 32) == (12.0, 8.0, 16.0, 12.0)


def test_cutmix_replay_recovers_box_and_partner():
    from mmpretrain.models.utils.batch_augments import CutMix, Mixup
    g = torch.Generator().manual_seed(0)
    inputs = torch.randn(6, 3, 20, 24, generator=g)
    scores = F.one_hot(torch.arange(6) % 4, 4).float()
    np.random.seed(5)
    torch.manual_seed(5)
    mixed, mixed_scores, box, index, lam = replay_batch_augment(
        CutMix(alpha=1.0), inputs, scores)
    x1, y1, x2, y2 = box
    inside = torch.zeros(20, 24, dtype=torch.bool)
    inside[y1:y2, x1:x2] = True
    assert torch.equal(mixed[..., inside], inputs[index][..., inside])
    assert torch.equal(mixed[..., ~inside], inputs[..., ~inside])
    assert lam == pytest.approx(1 - (x2 - x1) * (y2 - y1) / (20 * 24))
    assert torch.allclose(mixed_scores,
                          lam * scores + (1 - lam) * scores[index])
    mixed, _, box, index, lam = replay_batch_augment(Mixup(alpha=1.0), inputs,
                                                     scores)
    assert box is None
    assert torch.allclose(mixed, lam * inputs + (1 - lam) * inputs[index])


def test_batch_augment_batches_boxes_and_weights():
    batches = _tiny_batches(num_iters=2, channels=3)
    cut = batch_augment_batches('cutmix',
                                batches,
                                5, [0.0] * 3, [1.0] * 3,
                                seed=1)
    mix = batch_augment_batches('mixup',
                                batches,
                                5, [0.0] * 3, [1.0] * 3,
                                seed=1)
    for b in cut:
        assert all(len(boxes) <= 1 for boxes in b.boxes)
        assert torch.allclose(b.scores.sum(1), torch.ones(4))
        assert b.images.min() >= 0 and b.images.max() <= 255
    assert all(boxes == [] for b in mix for boxes in b.boxes)
    with pytest.raises(ValueError, match='method'):
        batch_augment_batches('rm', batches, 5, [0.0], [1.0])


def test_top_labels_orders_and_filters():
    names = ['a', 'b', 'c', 'd']
    score = torch.tensor([0.1, 0.6, 0.0005, 0.2995])
    assert top_labels(score, names, k=3) == [('b', pytest.approx(0.6)),
                                             ('d', pytest.approx(0.2995)),
                                             ('a', pytest.approx(0.1))]
    assert [n for n, _ in top_labels(score, names, k=4)] == ['b', 'd', 'a']
    with pytest.raises(ValueError, match='class names'):
        top_labels(score, names[:3])


def test_make_data_batches_rejects_bad_input():
    with pytest.raises(ValueError, match='uint8'):
        make_data_batches(torch.zeros(4, 1, 8, 8), torch.zeros(4), 2, 1)
    with pytest.raises(ValueError, match='labels'):
        make_data_batches(torch.zeros(4, 1, 8, 8, dtype=torch.uint8),
                          torch.zeros(3), 2, 1)


def test_tables():
    assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert mean_std([4.0]) == (4.0, 0.0)
    with pytest.raises(ValueError, match='at least one value'):
        mean_std([])
    table = markdown_table(['a', 'b'], [[1, 2]])
    assert table.splitlines() == ['| a | b |', '|---|---|', '| 1 | 2 |']
    with pytest.raises(ValueError, match='cells'):
        markdown_table(['a', 'b'], [[1]])


FMNIST = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'data',
                      'fashion_mnist')


@pytest.mark.skipif(
    not os.path.isfile(os.path.join(FMNIST, 'train-labels-idx1-ubyte')),
    reason='run '
    'tools/dataset_converters/prepare_fashion_mnist.sh (scripts/run_tests.sh does)')
def test_fashion_mnist_labels_are_read():
    from mmrm.analysis.effective_classes import fashion_mnist_train_labels
    from mmrm.datasets import load_fashion_mnist
    labels = fashion_mnist_train_labels(FMNIST)
    assert labels.numel() == 60000
    assert torch.bincount(labels).tolist() == [6000] * 10
    images, test_labels, names = load_fashion_mnist(FMNIST,
                                                    size=32,
                                                    split='test',
                                                    limit=5)
    assert images.shape == (5, 1, 32, 32) and images.dtype == torch.uint8
    assert test_labels.shape == (5, ) and len(names) == 10
    with pytest.raises(FileNotFoundError, match='prepare_fashion_mnist'):
        fashion_mnist_train_labels(os.path.join(FMNIST, 'missing'))
