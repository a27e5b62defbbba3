"""Consecutive mixed training batches (RM, CutMix, Mixup) and their drawing.

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
"""
import copy
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

BoxT = Tuple[float, float, float, float]

#: colour of a box by nesting depth (0 = pasted at this iteration).
DEPTH_COLOURS = ('#ff2d2d', '#ffa500', '#ffee00', '#00e5ff', '#7cff4d',
                 '#ff66ff')


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


def top_labels(score: torch.Tensor,
               class_names: Sequence[str],
               k: int = 4,
               min_weight: float = 1e-3) -> List[Tuple[str, float]]:
    """The ``k`` largest label weights above ``min_weight``, largest first.

    Args:
        score: (K,) soft label.
        class_names: K names.
    """
    if score.numel() != len(class_names):
        raise ValueError(f'{score.numel()} label weights but '
                         f'{len(class_names)} class names')
    values, indices = score.float().sort(descending=True)
    return [(class_names[int(i)], float(v))
            for v, i in zip(values[:k], indices[:k]) if float(v) > min_weight]


def draw_mixing_grid(columns: Dict[str, List[MixedBatch]],
                     class_names: Sequence[str],
                     samples: Sequence[int] = (0, 1, 2),
                     out_file: Optional[str] = None,
                     title: Optional[str] = None,
                     k: int = 4):
    """Draw consecutive mixed batches: rows = iterations, columns grouped by
    method (``len(samples)`` samples each).

    Every box of :attr:`MixedBatch.boxes` is drawn (colour by nesting depth)
    and the ``k`` largest label weights are written under the image.

    Args:
        columns: ordered dict method name -> list of MixedBatch (one per
            iteration; all methods the same length).
        class_names: K names.
        samples: batch positions to show.
        out_file: where to save the PNG (directories are created).
        title: figure title.

    Returns:
        ``(figure, rects)``: ``rects[(method, iteration, sample)]`` is the list
        of drawn boxes ``(x1, y1, x2, y2)`` in input pixels, read back from
        the matplotlib patches.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f'all methods need the same number of iterations, '
                         f'got {lengths}')
    num_iters = lengths.pop()
    ncols = len(columns) * len(samples)
    fig, axes = plt.subplots(num_iters,
                             ncols,
                             squeeze=False,
                             figsize=(1.5 * ncols, 2.15 * num_iters))
    rects = {}
    for m, (method, batches) in enumerate(columns.items()):
        for t, batch in enumerate(batches):
            for j, i in enumerate(samples):
                ax = axes[t][m * len(samples) + j]
                img = batch.images[i]
                if img.size(0) == 1:
                    ax.imshow(img[0].numpy(),
                              cmap='gray',
                              vmin=0,
                              vmax=255,
                              interpolation='nearest')
                else:
                    ax.imshow(img.permute(1, 2, 0).numpy() / 255.0,
                              interpolation='nearest')
                drawn = []
                for depth, (x1, y1, x2, y2) in enumerate(batch.boxes[i]):
                    # pixel centres are integers: box [x1, x2) spans edges
                    # x1 - 0.5 ... x2 - 0.5
                    patch = Rectangle(
                        (x1 - 0.5, y1 - 0.5),
                        x2 - x1,
                        y2 - y1,
                        fill=False,
                        linewidth=1.2,
                        edgecolor=DEPTH_COLOURS[depth % len(DEPTH_COLOURS)])
                    ax.add_patch(patch)
                    px, py = patch.get_xy()
                    drawn.append(
                        (px + 0.5, py + 0.5, px + 0.5 + patch.get_width(),
                         py + 0.5 + patch.get_height()))
                rects[(method, t, i)] = drawn
                text = '\n'.join(
                    f'{w:.3f} {name}'
                    for name, w in top_labels(batch.scores[i], class_names, k))
                ax.text(0.0,
                        -0.03,
                        text,
                        transform=ax.transAxes,
                        va='top',
                        ha='left',
                        fontsize=6.5,
                        family='monospace')
                ax.set_xticks([])
                ax.set_yticks([])
                if t == 0:
                    ax.set_title(f'{method} #{i}', fontsize=8)
                if m == 0 and j == 0:
                    ax.set_ylabel(f'iteration {t + 1}', fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.03,
                        right=0.99,
                        top=0.93 if title else 0.96,
                        bottom=0.06,
                        wspace=0.06,
                        hspace=0.55)
    if out_file:
        import os
        os.makedirs(os.path.dirname(os.path.abspath(out_file)), exist_ok=True)
        fig.savefig(out_file, dpi=110)
    return fig, rects


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


def load_fashion_mnist(
    data_root: str = 'data/fashion_mnist',
    size: int = 64,
    split: str = 'train',
    limit: Optional[int] = None
) -> Tuple[torch.Tensor, torch.Tensor, List[str]]:
    """Fashion-MNIST images, upsampled (bilinear) to ``size`` like the fmnist
    configs' ``Resize``.

    Returns:
        ``(images uint8 (M, 1, size, size), labels (M,), class_names)``.
    """
    import os.path as osp

    import torch.nn.functional as F
    from mmpretrain.datasets.categories import FASHIONMNIST_CATEGORITES
    from mmpretrain.datasets.mnist import read_image_file, read_label_file
    prefix = {'train': 'train', 'test': 't10k'}[split]
    img_path = osp.join(data_root, f'{prefix}-images-idx3-ubyte')
    if not osp.isfile(img_path):
        raise FileNotFoundError(
            f'{img_path} not found: run tools/prepare_fashion_mnist.sh first')
    images = read_image_file(img_path)[:limit]
    labels = read_label_file(osp.join(data_root,
                                      f'{prefix}-labels-idx1-ubyte'))[:limit]
    big = F.interpolate(images[:, None].float(),
                        size=(size, size),
                        mode='bilinear',
                        align_corners=False)
    return (big.round().clamp(0, 255).to(torch.uint8), labels,
            list(FASHIONMNIST_CATEGORITES))


def load_image_folder(paths: Sequence[str]) -> torch.Tensor:
    """Equal-sized RGB PNG/JPEG files -> uint8 (M, 3, H, W)."""
    from PIL import Image
    arrays = [np.asarray(Image.open(p).convert('RGB')) for p in paths]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f'images must have one size, got {shapes}')
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
