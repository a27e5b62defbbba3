"""RecursiveMix on tensors: small pure functions plus one small state class.

One training iteration (docs/semantics.md), for a batch ``x`` of shape (N, C, H, W)
and one-hot/soft labels ``y`` of shape (N, K), given the previous *mixed* batch
``x_hist`` (M, C, H', W') and its mixed labels ``y_hist`` (M, K):

1. ``r ~ U(0, alpha)``; box side lengths ``cut_w = int(W * sqrt(r))``,
   ``cut_h = int(H * sqrt(r))``; integer centre ``cx ~ U[0, W)``, ``cy ~ U[0, H)``;
   the box is clipped to the image. x is the column (width) axis, y the row axis.
2. ``x_hist`` is resized (nearest by default) to the box and written into
   ``x[:, :, y1:y2, x1:x2]`` for the first ``min(N, M)`` samples.
3. ``lam = (x2 - x1) * (y2 - y1) / (W * H)`` and
   ``y_mixed = (1 - lam) * y + lam * y_hist`` for the pasted samples.
4. The mixed batch and labels become the next history.

The ``lam`` convention (stated here once for all of mmrm): ``lam`` is the
**pasted** area fraction, the weight of the history labels. timm, mmpretrain
(``Mixup``/``CutMix``) and the official RM code use ``lam`` for the **kept**
fraction ``1 - area``: their ``lam`` is mmrm's ``1 - lam``, and porting a
formula between the two flips it.
"""
import math
import random
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

INTERPOLATIONS = ('nearest', 'bilinear')
LamType = Union[float, torch.Tensor]


@dataclass(frozen=True)
class Box:
    """A pixel box ``[x1, x2) x [y1, y2)``; x is the column axis."""
    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    def area_fraction(self, height: int, width: int) -> float:
        """``lam``: the box area over the image area ``H * W``."""
        return self.width * self.height / float(height * width)


def sample_box(height: int,
               width: int,
               alpha: float,
               rng: Optional[random.Random] = None) -> Box:
    """Sample the RM box for an image of ``height x width`` pixels.

    ``r ~ U(0, alpha)``, ``cut = int(side * sqrt(r))``, integer centre uniform
    over the image, box clipped to the image (so it may be smaller than
    ``cut`` or even empty near a border).
    """
    rng = rng or random
    r = rng.uniform(0.0, alpha)
    cut_w, cut_h = int(width * math.sqrt(r)), int(height * math.sqrt(r))
    cx, cy = rng.randrange(width), rng.randrange(height)
    x1, x2 = (min(max(v, 0), width) for v in (cx - cut_w // 2, cx + cut_w // 2))
    y1, y2 = (min(max(v, 0), height) for v in (cy - cut_h // 2, cy + cut_h // 2))
    return Box(x1, y1, x2, y2)


def paste_history(inputs: torch.Tensor,
                  history: torch.Tensor,
                  box: Box,
                  interpolation: str = 'nearest') -> int:
    """Resize ``history`` (M, C, H', W') to the box and write it into ``inputs``.

    ``inputs`` (N, C, H, W) is modified in place: samples ``i < min(N, M)``
    get ``resize(history[i])`` in ``inputs[i, :, y1:y2, x1:x2]`` (row ``i``
    of the history feeds sample ``i``; extra history rows are unused).

    ``'bilinear'`` uses ``align_corners=True`` as the official code does
    (the corner pixels of the history image land on the box's corner
    pixels); ``'nearest'`` is PyTorch's legacy nearest (source index
    ``floor(i * in / out)``). Autocast does not lower the precision of
    ``F.interpolate`` (float32 in, float32 out), so under AMP the pasted
    pixels are those of a float32 run.

    Returns:
        int: the number of pasted samples ``min(N, M)`` (0 for an empty box).
    """
    n = min(inputs.size(0), history.size(0))
    if box.width <= 0 or box.height <= 0 or n == 0:
        return 0
    kwargs = {} if interpolation == 'nearest' else {'align_corners': True}
    patch = F.interpolate(history[:n], size=(box.height, box.width),
                          mode=interpolation, **kwargs)
    inputs[:n, :, box.y1:box.y2, box.x1:box.x2] = patch.to(inputs.dtype)
    return n


def mix_labels(scores: torch.Tensor, history_scores: torch.Tensor,
               lam: LamType, num_pasted: int) -> torch.Tensor:
    """``(1 - lam) * scores + lam * history_scores`` for the pasted samples.

    Args:
        scores: (N, K) current one-hot or soft labels.
        history_scores: (M, K) mixed labels of the previous iteration.
        lam: the pasted fraction: a float, or an (N,) tensor of per-sample
            fractions (padded batches of different image sizes).
        num_pasted: only samples ``i < num_pasted`` are mixed.

    Returns:
        (N, K) new floating tensor (integer one-hot labels become float32);
        rows ``i >= num_pasted`` equal ``scores``.
    """
    mixed = scores.clone() if scores.is_floating_point() else scores.float()
    if num_pasted > 0:
        n = num_pasted
        if isinstance(lam, torch.Tensor):
            lam = lam[:n, None].to(scores.dtype)
        mixed[:n] = (1.0 - lam) * scores[:n] + lam * history_scores[:n].to(
            scores.dtype)
    return mixed


class RecursiveMix:
    """The per-rank RM state: the previous mixed batch and its mixed labels.

    Precision: the history images keep the dtype of the batch (float32 from
    mmpretrain's preprocessing, also under AMP) and the history labels are
    float32 (integer one-hot labels are converted).

    Args:
        alpha (float): upper bound of ``r ~ U(0, alpha)``; the box side is
            ``sqrt(r)`` of the image side. Defaults to 0.5 (paper).
        interpolation (str): ``'nearest'`` (paper default) or ``'bilinear'``
            (Table 4b ablation) for resizing the history batch.
        rng (random.Random, optional): source of the box samples; defaults to
            Python's global ``random`` (seeded by mmengine's ``randomness``).
    """

    def __init__(self,
                 alpha: float = 0.5,
                 interpolation: str = 'nearest',
                 rng: Optional[random.Random] = None):
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f'RecursiveMix alpha must be in (0, 1], got {alpha!r}')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'RecursiveMix interpolation must be one of '
                             f'{INTERPOLATIONS}, got {interpolation!r}')
        self.alpha = float(alpha)
        self.interpolation = interpolation
        self.rng = rng
        self.history_inputs: Optional[torch.Tensor] = None
        self.history_scores: Optional[torch.Tensor] = None

    def reset(self) -> None:
        """Forget the history: the next batch is a plain batch."""
        self.history_inputs = None
        self.history_scores = None

    def __call__(self,
                 inputs: torch.Tensor,
                 scores: torch.Tensor,
                 image_sizes: Optional[Sequence[Tuple[int, int]]] = None
                 ) -> Tuple[torch.Tensor, torch.Tensor, Box, LamType, int]:
        """Mix one batch with the history and store the result as history.

        Args:
            inputs: (N, C, H, W) normalised batch; pasted into in place.
            scores: (N, K) one-hot (or soft) labels.
            image_sizes: real (h_i, w_i) of each image when the batch was
                padded at the bottom/right to (H, W). The box is then drawn
                inside the region all images share (min h_i, min w_i), never
                in padding, and ``lam_i = box area / (h_i * w_i)``.

        Returns:
            tuple: ``(mixed_inputs (N, C, H, W), mixed_scores (N, K), box,
            lam, num_pasted)``; ``lam`` a float, or an (N,) tensor when
            ``image_sizes`` differ; ``num_pasted`` is 0 on the
            first iteration and for an empty box, where ``lam`` is 0 too.
        """
        height, width = inputs.shape[-2:]
        region_h, region_w = height, width
        if image_sizes is not None:
            region_h = min(h for h, _ in image_sizes)
            region_w = min(w for _, w in image_sizes)
        box, lam, num_pasted = Box(0, 0, 0, 0), 0.0, 0
        if self.history_inputs is not None:
            box = sample_box(region_h, region_w, self.alpha, self.rng)
            num_pasted = paste_history(inputs, self.history_inputs, box,
                                       self.interpolation)
        if num_pasted:
            if image_sizes is None or all(
                    tuple(s) == (height, width) for s in image_sizes):
                lam = box.area_fraction(height, width)
            else:
                lam = torch.tensor(
                    [box.area_fraction(h, w) for h, w in image_sizes],
                    device=scores.device)
        if not scores.is_floating_point():
            scores = scores.float()
        mixed_scores = mix_labels(scores, self.history_scores, lam,
                                  num_pasted) if num_pasted else scores
        self.history_inputs = inputs.detach()
        self.history_scores = mixed_scores.detach()
        return inputs, mixed_scores, box, lam, num_pasted
