"""Unit tests of the RecursiveMix tensor functions and state (docs/semantics.md)."""
import math
import random

import pytest
import torch
import torch.nn.functional as F

from helpers import FixedRng
from mmrm.models.recursive_mix import (Box, RecursiveMix, mix_labels,
                                       paste_history, sample_box)


def onehot(labels, k):
    return F.one_hot(torch.tensor(labels), k).float()


def test_sample_box_follows_spec_formula():
    # H=20 rows, W=40 columns, r=0.25 -> cut_w=int(40*0.5)=20, cut_h=10
    rng = FixedRng(r=0.25, cx=30, cy=5)
    box = sample_box(20, 40, alpha=0.5, rng=rng)
    assert rng.calls[0] == ('uniform', 0.0, 0.5)
    assert ('randrange', 40) in rng.calls and ('randrange', 20) in rng.calls
    assert box == Box(x1=20, y1=0, x2=40, y2=10)
    assert box.area_fraction(20, 40) == pytest.approx(200 / 800)


def test_sample_box_clipped_lambda_is_recomputed():
    rng = FixedRng(r=0.49, cx=0, cy=0)  # sqrt=0.7: cut 7 of 10, centred at corner
    box = sample_box(10, 10, alpha=0.5, rng=rng)
    assert box == Box(0, 0, 3, 3)
    assert box.area_fraction(10, 10) == pytest.approx(0.09)  # not 0.49


def test_sample_box_statistics_stay_inside_and_bounded():
    rng = random.Random(0)
    for _ in range(500):
        box = sample_box(17, 33, alpha=0.5, rng=rng)
        assert 0 <= box.x1 <= box.x2 <= 33 and 0 <= box.y1 <= box.y2 <= 17
        assert box.width <= int(33 * math.sqrt(0.5)) and box.height <= int(17 * math.sqrt(0.5))


def test_paste_is_pixel_exact_nearest_resize_on_non_square_box():
    torch.manual_seed(0)
    x = torch.zeros(2, 3, 8, 12)
    hist = torch.randn(2, 3, 8, 12)
    box = Box(x1=2, y1=1, x2=8, y2=4)  # 6 wide (columns), 3 high (rows)
    n = paste_history(x, hist, box, 'nearest')
    assert n == 2
    # nearest resize 8x12 -> 3x6: row i <- floor(i*8/3), col j <- floor(j*12/6)
    rows, cols = [0, 2, 5], [0, 2, 4, 6, 8, 10]
    expected = hist[:, :, rows][:, :, :, cols]
    assert torch.equal(x[:, :, 1:4, 2:8], expected)
    mask = torch.ones_like(x, dtype=torch.bool)
    mask[:, :, 1:4, 2:8] = False
    assert torch.all(x[mask] == 0)


def test_paste_bilinear_aligns_corners_as_the_official_code():
    """Table 4b: the official code resizes with ``align_corners=True``.
    A 2x3 ramp resized by hand to a 3x4 box: output pixel (r, c) samples the
    source at (r * 1/2, c * 2/3), so the corners are copied exactly
    (``align_corners=False`` would give 6.25 and 13.75 in the first row)."""
    hist = torch.tensor([[0.0, 10.0, 20.0], [30.0, 40.0, 50.0]]).view(1, 1, 2, 3)
    x = torch.full((1, 1, 5, 6), -1.0)
    assert paste_history(x, hist, Box(x1=1, y1=2, x2=5, y2=5), 'bilinear') == 1
    third = 20.0 / 3
    expected = torch.tensor([[0.0, third, 2 * third, 20.0],
                             [15.0, 15.0 + third, 15.0 + 2 * third, 35.0],
                             [30.0, 30.0 + third, 30.0 + 2 * third, 50.0]])
    assert torch.allclose(x[0, 0, 2:5, 1:5], expected, atol=1e-5)
    outside = torch.ones(5, 6, dtype=torch.bool)
    outside[2:5, 1:5] = False
    assert torch.all(x[0, 0][outside] == -1.0)
    # nearest on the same box picks source pixels: rows [0, 0, 1], cols [0, 0, 1, 2]
    y = torch.zeros(1, 1, 5, 6)
    paste_history(y, hist, Box(x1=1, y1=2, x2=5, y2=5), 'nearest')
    assert y[0, 0, 2:5, 1:5].tolist() == [[0, 0, 10, 20], [0, 0, 10, 20], [30, 30, 40, 50]]


def test_paste_empty_box_and_history_sizes():
    x = torch.zeros(3, 1, 6, 6)
    assert paste_history(x, torch.ones(3, 1, 6, 6), Box(2, 2, 2, 5), 'nearest') == 0
    assert torch.all(x == 0)
    # history smaller than the batch: only the first 2 samples are pasted
    assert paste_history(x, torch.ones(2, 1, 6, 6), Box(0, 0, 3, 3), 'nearest') == 2
    assert torch.all(x[:2, :, :3, :3] == 1) and torch.all(x[2] == 0)
    # history larger than the batch: its first samples are used
    y = torch.zeros(1, 1, 6, 6)
    hist = torch.stack([torch.full((1, 6, 6), 5.0), torch.full((1, 6, 6), 7.0)])
    assert paste_history(y, hist, Box(0, 0, 6, 6), 'nearest') == 1
    assert torch.all(y == 5.0)


def test_mix_labels_formula_and_unpasted_rows():
    y = onehot([0, 1, 2], 3)
    hist = torch.tensor([[0.2, 0.8, 0.0], [0.0, 0.0, 1.0]])
    out = mix_labels(y, hist, lam=0.25, num_pasted=2)
    assert torch.allclose(out[0], torch.tensor([0.8, 0.2, 0.0]))
    assert torch.allclose(out[1], torch.tensor([0.0, 0.75, 0.25]))
    assert torch.equal(out[2], y[2])
    assert torch.equal(y, onehot([0, 1, 2], 3))  # input untouched


def test_recursive_mix_first_iteration_plain_then_recursive_decay():
    rm = RecursiveMix(alpha=0.5, rng=FixedRng(r=0.25, cx=4, cy=4))
    k = 4
    x1 = torch.full((2, 1, 8, 8), 1.0)
    out, s1, box, lam, n = rm(x1.clone(), onehot([0, 0], k))
    assert n == 0 and lam == 0.0 and torch.all(out == 1.0)
    assert torch.equal(s1, onehot([0, 0], k))
    prev = out.clone()
    # each iteration: box 4x4 in an 8x8 image -> lam = 0.25
    labels = [[1, 1], [2, 2], [3, 3]]
    for step, lab in enumerate(labels, start=2):
        x = torch.full((2, 1, 8, 8), float(step))
        out, scores, box, lam, n = rm(x, onehot(lab, k))
        assert box == Box(2, 2, 6, 6) and lam == pytest.approx(0.25) and n == 2
        assert torch.allclose(scores.sum(1), torch.ones(2))
        # the box holds the previous MIXED batch (resized), not the previous raw batch
        assert torch.equal(out[:, :, 2:6, 2:6],
                           F.interpolate(prev, size=(4, 4), mode='nearest'))
        prev = out.clone()
    # after 4 iterations: class 0 weight 0.25^3, class1 0.75*0.25^2, class2 0.75*0.25, class3 0.75
    expected = torch.tensor([0.25 ** 3, 0.75 * 0.25 ** 2, 0.75 * 0.25, 0.75])
    assert torch.allclose(scores[0], expected)
    assert torch.equal(rm.history_inputs, out)


def test_recursive_mix_nested_pixels_of_three_generations():
    rm = RecursiveMix(alpha=0.5, rng=FixedRng(r=0.25, cx=4, cy=4))
    for value in (1.0, 2.0, 3.0):
        out, *_ = rm(torch.full((1, 1, 8, 8), value), onehot([0], 2))
    # 3rd batch: centre 4x4 = resized 2nd mixed batch, whose centre held the 1st
    assert out[0, 0, 0, 0] == 3.0 and out[0, 0, 2, 2] == 2.0
    assert out[0, 0, 3, 3] == 1.0 and out[0, 0, 4, 4] == 1.0


def test_recursive_mix_reset_and_argument_checks():
    rm = RecursiveMix()
    rm(torch.zeros(2, 1, 4, 4), onehot([0, 1], 2))
    rm.reset()
    assert rm.history_inputs is None and rm.history_scores is None
    _, _, _, lam, n = rm(torch.zeros(2, 1, 4, 4), onehot([0, 1], 2))
    assert n == 0 and lam == 0.0
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match='alpha'):
            RecursiveMix(alpha=bad)
    with pytest.raises(ValueError, match='interpolation'):
        RecursiveMix(interpolation='bicubic')


def test_history_is_detached():
    rm = RecursiveMix(rng=FixedRng(0.25, 4, 4))
    x = torch.randn(2, 1, 8, 8, requires_grad=True) * 1.0
    rm(x, onehot([0, 1], 2))
    assert not rm.history_inputs.requires_grad


def test_integer_one_hot_labels_are_mixed_in_float():
    """mmpretrain's one-hot labels are int64: mixing must not truncate them."""
    rm = RecursiveMix(rng=FixedRng(0.25, 4, 4))
    rm(torch.zeros(1, 1, 8, 8), F.one_hot(torch.tensor([0]), 3))
    _, scores, _, lam, _ = rm(torch.zeros(1, 1, 8, 8), F.one_hot(torch.tensor([1]), 3))
    assert scores.dtype == torch.float32
    assert torch.allclose(scores[0], torch.tensor([0.25, 0.75, 0.0]))
    assert mix_labels(torch.tensor([[0, 1]]), torch.tensor([[1.0, 0.0]]), 0.5, 1).dtype == torch.float32
