"""Effective class number of mixed targets (RecursiveMix paper, Fig. 8).

The *effective classes* of one training target (a soft label of K classes)
are the classes whose weight is higher than a threshold (1e-1 ... 1e-4; the
paper takes ~1e-4 as the label-smoothing level). This module runs the label
side of the three regularisers on a stream of real label batches and counts
them, iteration by iteration:

- Mixup and CutMix: mmpretrain's own batch augments (``Mixup``, ``CutMix``,
  alpha 1.0) applied to a dummy image batch, so their ``lam`` (and CutMix's
  clipped-box correction) is exactly the library's;
- RecursiveMix: mmrm's :class:`~mmrm.models.recursive_mix.RecursiveMix` state
  (alpha 0.5), whose mixed labels are fed back as the next history, so the
  classes of older batches decay geometrically.

Only labels matter, so the image batch is a (N, 1, H, W) zero tensor; H and W
still matter because CutMix and RM clip their boxes to the image.
"""
import contextlib
import random
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

THRESHOLDS: Tuple[float, ...] = (1e-1, 1e-2, 1e-3, 1e-4)
METHODS: Tuple[str, ...] = ('mixup', 'cutmix', 'rm')
#: alpha of each method: paper settings (Mixup/CutMix 1.0, RM 0.5).
DEFAULT_ALPHA: Dict[str, float] = {'mixup': 1.0, 'cutmix': 1.0, 'rm': 0.5}


def effective_class_counts(
        scores: torch.Tensor,
        thresholds: Sequence[float] = THRESHOLDS) -> torch.Tensor:
    """Mean number of classes per target with weight above each threshold.

    Args:
        scores: (N, K) soft targets.
        thresholds: T thresholds; a class counts when its weight is strictly
            greater than the threshold.

    Returns:
        (T,) float64 tensor: the batch mean of the per-target counts.
    """
    if scores.dim() != 2:
        raise ValueError(
            f'scores must be (N, K), got shape {tuple(scores.shape)}')
    thr = torch.as_tensor(list(thresholds), dtype=torch.float64)
    above = scores.double()[None] > thr[:, None, None]  # (T, N, K)
    return above.sum(dim=2).double().mean(dim=1)


@contextlib.contextmanager
def seeded_global_rng(seed: int):
    """Seed numpy's and torch's global RNGs (which mmpretrain's batch
    augments draw from) and restore their previous state on exit."""
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


def random_label_batches(num_classes: int,
                         batch_size: int,
                         num_iters: int,
                         seed: int = 0) -> List[torch.Tensor]:
    """``num_iters`` batches of ``batch_size`` uniform random labels."""
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randint(0, num_classes, (batch_size, ), generator=g)
        for _ in range(num_iters)
    ]


def shuffled_label_batches(labels: torch.Tensor,
                           batch_size: int,
                           num_iters: int,
                           seed: int = 0) -> List[torch.Tensor]:
    """The first ``num_iters`` batches of one shuffled epoch of ``labels``
    (what a shuffling sampler feeds the first iterations of training).

    Raises:
        ValueError: when one epoch has fewer than ``num_iters`` full batches.
    """
    if labels.numel() < batch_size * num_iters:
        raise ValueError(f'{labels.numel()} labels give fewer than '
                         f'{num_iters} batches of {batch_size}')
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(labels.numel(), generator=g)
    order = labels.flatten()[perm]
    return [
        order[i * batch_size:(i + 1) * batch_size] for i in range(num_iters)
    ]


def fashion_mnist_train_labels(
        data_root: str = 'data/fashion_mnist') -> torch.Tensor:
    """The 60,000 training labels of Fashion-MNIST."""
    from mmrm.datasets import read_fashion_mnist
    return read_fashion_mnist(data_root, 'train')[1]


def mixed_label_stream(method: str,
                       label_batches: Iterable[torch.Tensor],
                       num_classes: int,
                       image_size: Tuple[int, int] = (224, 224),
                       alpha: Optional[float] = None,
                       seed: int = 0) -> List[torch.Tensor]:
    """Mixed targets of consecutive iterations for one method.

    Args:
        method: ``'mixup'``, ``'cutmix'`` or ``'rm'``.
        label_batches: iterable of (N,) integer label batches.
        num_classes: K.
        image_size: (H, W) of the (dummy) images, used by the box sampling.
        alpha: the method's alpha; defaults to :data:`DEFAULT_ALPHA`.
        seed: seeds numpy/torch (Mixup, CutMix) or the RM box sampler.

    Returns:
        list of (N, K) float tensors, one per iteration.
    """
    if method not in METHODS:
        raise ValueError(f'method must be one of {METHODS}, got {method!r}')
    alpha = DEFAULT_ALPHA[method] if alpha is None else float(alpha)
    height, width = image_size
    out = []
    if method == 'rm':
        from mmrm.models.recursive_mix import RecursiveMix
        rm = RecursiveMix(alpha=alpha, rng=random.Random(seed))
        for labels in label_batches:
            onehot = F.one_hot(labels.long(), num_classes).float()
            dummy = torch.zeros(labels.numel(), 1, height, width)
            _, mixed, _, _, _ = rm(dummy, onehot)
            out.append(mixed)
        return out

    from mmpretrain.registry import BATCH_AUGMENTS
    import mmpretrain.models  # noqa: F401  registers the batch augments
    augment = BATCH_AUGMENTS.build(
        dict(type='CutMix' if method == 'cutmix' else 'Mixup', alpha=alpha))
    with seeded_global_rng(seed):
        for labels in label_batches:
            onehot = F.one_hot(labels.long(), num_classes).float()
            # Mixup's lam does not depend on the image: a 1x1 dummy suffices.
            shape = (height, width) if method == 'cutmix' else (1, 1)
            dummy = torch.zeros(labels.numel(), 1, *shape)
            _, mixed = augment(dummy, onehot)
            out.append(mixed)
    return out


def effective_class_curves(
    label_batches: Sequence[torch.Tensor],
    num_classes: int,
    image_size: Tuple[int, int],
    methods: Sequence[str] = METHODS,
    thresholds: Sequence[float] = THRESHOLDS,
    seeds: Sequence[int] = (0, 1, 2)
) -> Dict[str, np.ndarray]:
    """Per-iteration effective class numbers, averaged over seeds.

    Returns:
        dict method -> (num_iters, T) array: mean count per target at each
        iteration and threshold (averaged over the batch and the seeds).
    """
    curves = {}
    for method in methods:
        runs = []
        for seed in seeds:
            stream = mixed_label_stream(method,
                                        label_batches,
                                        num_classes,
                                        image_size,
                                        seed=seed)
            runs.append(
                torch.stack([
                    effective_class_counts(s, thresholds) for s in stream
                ]).numpy())
        curves[method] = np.mean(runs, axis=0)
    return curves


def summary_table(curves: Dict[str, np.ndarray],
                  thresholds: Sequence[float] = THRESHOLDS) -> str:
    """Markdown table: the mean over all iterations of each curve."""
    from mmrm.utils.markdown import markdown_table
    names = {'mixup': 'Mixup', 'cutmix': 'CutMix', 'rm': 'RM'}
    header = ['method'] + [f'> {t:g}' for t in thresholds]
    rows = [[names.get(m, m)] + [f'{v:.2f}' for v in c.mean(axis=0)]
            for m, c in curves.items()]
    return markdown_table(header, rows)
