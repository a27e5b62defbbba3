"""Consecutive mixed training batches of RM, CutMix and Mixup, ready to draw.

The batches come from the real components, not from a re-implementation:

- RecursiveMix: :class:`mmrm.models.RecursiveMixDataPreprocessor` in training
  mode; the drawn box of every sample is its ``rm_box`` and the label weights
  are its mixed ``gt_score``. Older boxes are nested: the history image pasted
  at iteration t already holds the box of iteration t-1, which lands inside
  the new box scaled by ``box_size / image_size`` (and so on recursively).
- CutMix / Mixup: mmpretrain's batch augments, applied to the batch that
  mmpretrain's ``ClsDataPreprocessor`` normalised. They do not return their
  box and partner order, so :func:`replay_batch_augment` snapshots numpy's and
  torch's global RNG, calls the augment, then replays the same draws through
  the augment's own methods and checks that the replay reproduces the output
  exactly (a mismatch raises instead of drawing a wrong box).

Drawing them: :mod:`mmrm.analysis.mixing_grid`.
"""
import copy
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

BoxT = Tuple[float, float, float, float]


@dataclass


class MixedBatch:
    """One mixed training batch, ready to draw.

    Attributes:
        images: (N, C, H, W) float images in display range [0, 255]
            (the normalised network input, un-normalised).
        scores: (N, K) mixed soft labels (each row sums to 1).
        boxes: per sample, the boxes ``(x1, y1, x2, y2)`` in input pixels
            (x = column), outermost (this iteration's paste) first, then the
            nested boxes of older iterations. Empty for Mixup and for plain
            samples.
        lam: per sample, the weight of the pasted content (RM: ``rm_lam``;
            CutMix: the box area fraction; Mixup: the partner's weight).
    """
    images: torch.Tensor
    scores: torch.Tensor
    boxes: List[List[BoxT]] = field(default_factory=list)
    lam: List[float] = field(default_factory=list)


def _display(inputs: torch.Tensor, mean: Sequence[float],
             std: Sequence[float]) -> torch.Tensor:
    """(N, C, H, W) normalised input -> [0, 255] display range."""
    m = torch.as_tensor(mean, dtype=inputs.dtype).view(1, -1, 1, 1)
    s = torch.as_tensor(std, dtype=inputs.dtype).view(1, -1, 1, 1)
    return (inputs * s + m).clamp(0, 255)


def nest_box(outer: BoxT, inner: BoxT, height: int, width: int) -> BoxT:
    """Where ``inner`` (a box of a full ``height x width`` image) lands when
    that whole image is resized into ``outer``."""
    ox1, oy1, ox2, oy2 = outer
    sx, sy = (ox2 - ox1) / width, (oy2 - oy1) / height
    ix1, iy1, ix2, iy2 = inner
    return (ox1 + ix1 * sx, oy1 + iy1 * sy, ox1 + ix2 * sx, oy1 + iy2 * sy)


def rm_batches(data_batches: Sequence[dict],
               num_classes: int,
               mean: Sequence[float],
               std: Sequence[float],
               alpha: float = 0.5,
               seed: int = 0,
               min_box_px: float = 1.0) -> List[MixedBatch]:
    """Run consecutive data batches through ``RecursiveMixDataPreprocessor``.

    Args:
        data_batches: dataloader-style dicts ``{'inputs': uint8 (N, C, H, W),
            'data_samples': [DataSample with gt_label]}``; they are copied,
            not modified.
        num_classes: K.
        mean, std: per-channel normalisation (C values).
        alpha: RM alpha.
        seed: seed of the preprocessor's box sampler.
        min_box_px: nested boxes narrower or lower than this are not kept.

    Returns:
        one :class:`MixedBatch` per input batch.
    """
    from mmrm.models import RecursiveMixDataPreprocessor
    pre = RecursiveMixDataPreprocessor(alpha=alpha,
                                       seed=seed,
                                       num_classes=num_classes,
                                       mean=list(mean),
                                       std=list(std),
                                       to_rgb=False)
    out, previous = [], None
    for data in data_batches:
        result = pre(copy.deepcopy(data), training=True)
        inputs, samples = result['inputs'], result['data_samples']
        height, width = inputs.shape[-2:]
        boxes, lams = [], []
        for i, sample in enumerate(samples):
            nested: List[BoxT] = []
            if bool(sample.rm_valid):
                box = tuple(float(v) for v in sample.rm_box.tolist())
                nested.append(box)
                if previous is not None and i < len(previous):
                    for inner in previous[i]:
                        b = nest_box(box, inner, height, width)
                        if b[2] - b[0] >= min_box_px and b[3] - b[
                                1] >= min_box_px:
                            nested.append(b)
            boxes.append(nested)
            lams.append(float(sample.rm_lam))
        previous = boxes
        out.append(
            MixedBatch(images=_display(inputs.detach(), mean, std),
                       scores=torch.stack([s.gt_score
                                           for s in samples]).float(),
                       boxes=boxes,
                       lam=lams))
    return out


def replay_batch_augment(
    augment, inputs: torch.Tensor, scores: torch.Tensor
) -> Tuple[torch.Tensor, torch.Tensor, Optional[Tuple[int, int, int, int]],
           torch.Tensor, float]:
    """Apply an mmpretrain ``Mixup``/``CutMix`` and recover its draws.

    Args:
        augment: an ``mmpretrain.models.utils.batch_augments`` Mixup or
            CutMix instance.
        inputs: (N, C, H, W) normalised batch (not modified).
        scores: (N, K) one-hot labels.

    Returns:
        ``(mixed_inputs, mixed_scores, box, index, lam)``: ``box`` is
        ``(x1, y1, x2, y2)`` of the pasted region (CutMix) or None (Mixup);
        sample i received content of sample ``index[i]``; ``lam`` is the weight
        of the sample's own label.

    Raises:
        RuntimeError: when the replayed draws do not reproduce the augment's
            output (mmpretrain changed its sampling order).
    """
    from mmpretrain.models.utils.batch_augments import CutMix
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    original = inputs.clone()
    mixed_inputs, mixed_scores = augment(inputs.clone(), scores)
    after_np, after_torch = np.random.get_state(), torch.get_rng_state()
    np.random.set_state(np_state)
    torch.set_rng_state(torch_state)
    lam = np.random.beta(augment.alpha, augment.alpha)
    index = torch.randperm(inputs.size(0))
    box = None
    if isinstance(augment, CutMix):
        (y1, y2, x1,
         x2), lam = augment.cutmix_bbox_and_lam(inputs.shape[-2:], lam)
        box = (int(x1), int(y1), int(x2), int(y2))
        expected = original.clone()
        expected[:, :, y1:y2, x1:x2] = original[index, :, y1:y2, x1:x2]
    else:
        expected = lam * original + (1 - lam) * original[index]
    expected_scores = lam * scores.float() + (1 - lam) * scores.float()[index]
    ok = (torch.allclose(mixed_inputs, expected)
          and torch.allclose(mixed_scores, expected_scores) and all(
              np.array_equal(a, b)
              for a, b in zip(np.random.get_state()[1:3], after_np[1:3]))
          and torch.equal(torch.get_rng_state(), after_torch))
    if not ok:
        raise RuntimeError(
            f'could not replay {type(augment).__name__}: the installed '
            'mmpretrain draws its random numbers in another order')
    return mixed_inputs, mixed_scores, box, index, float(lam)


def batch_augment_batches(method: str,
                          data_batches: Sequence[dict],
                          num_classes: int,
                          mean: Sequence[float],
                          std: Sequence[float],
                          alpha: float = 1.0,
                          seed: int = 0) -> List[MixedBatch]:
    """Consecutive batches mixed by mmpretrain's ``Mixup`` or ``CutMix``.

    Args:
        method: ``'mixup'`` or ``'cutmix'``.
        data_batches, num_classes, mean, std: as :func:`rm_batches`.
        alpha: Beta(alpha, alpha) parameter of the augment.
        seed: seeds numpy's/torch's global RNG for the whole sequence (the
            previous RNG state is restored afterwards).
    """
    from mmpretrain.models.utils import ClsDataPreprocessor
    from mmpretrain.registry import BATCH_AUGMENTS

    from .effective_classes import seeded_global_rng
    names = {'mixup': 'Mixup', 'cutmix': 'CutMix'}
    if method not in names:
        raise ValueError(
            f'method must be one of {tuple(names)}, got {method!r}')
    augment = BATCH_AUGMENTS.build(dict(type=names[method],
                                        alpha=float(alpha)))
    pre = ClsDataPreprocessor(mean=list(mean),
                              std=list(std),
                              to_rgb=False,
                              num_classes=num_classes,
                              to_onehot=True)
    out = []
    with seeded_global_rng(seed):
        for data in data_batches:
            result = pre(copy.deepcopy(data), training=True)
            scores = torch.stack([s.gt_score for s in result['data_samples']])
            mixed, mixed_scores, box, index, lam = replay_batch_augment(
                augment, result['inputs'], scores)
            n = mixed.size(0)
            boxes = [[box] if box is not None and box[2] > box[0]
                     and box[3] > box[1] else [] for _ in range(n)]
            out.append(
                MixedBatch(images=_display(mixed, mean, std),
                           scores=mixed_scores.float(),
                           boxes=boxes,
                           lam=[1.0 - lam] * n))
    return out


def make_data_batches(images: torch.Tensor,
                      labels: torch.Tensor,
                      batch_size: int,
                      num_iters: int,
                      seed: int = 0,
                      flip: bool = True) -> List[dict]:
    """Dataloader-style batches drawn from shuffled epochs of a small pool.

    Args:
        images: (M, C, H, W) uint8 images.
        labels: (M,) integer labels.
        batch_size: N.
        num_iters: number of batches.
        seed: seed of the shuffling and flipping.
        flip: random horizontal flip per sample.

    Returns:
        list of ``{'inputs': uint8 (N, C, H, W), 'data_samples':
        [DataSample(gt_label)]}``.
    """
    from mmpretrain.structures import DataSample
    if images.dim() != 4 or images.dtype != torch.uint8:
        raise ValueError('images must be a uint8 (M, C, H, W) tensor, got '
                         f'{images.dtype} {tuple(images.shape)}')
    if labels.numel() != images.size(0):
        raise ValueError(
            f'{images.size(0)} images but {labels.numel()} labels')
    g = torch.Generator().manual_seed(seed)
    order = torch.cat([
        torch.randperm(images.size(0), generator=g)
        for _ in range(batch_size * num_iters // images.size(0) + 1)
    ])
    batches = []
    for t in range(num_iters):
        idx = order[t * batch_size:(t + 1) * batch_size]
        inputs = images[idx].clone()
        if flip:
            flips = torch.rand(len(idx), generator=g) < 0.5
            inputs[flips] = inputs[flips].flip(-1)
        batches.append({
            'inputs':
            inputs,
            'data_samples':
            [DataSample().set_gt_label(int(labels[i])) for i in idx]
        })
    return batches
