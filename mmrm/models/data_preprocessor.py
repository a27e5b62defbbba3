"""``RecursiveMixDataPreprocessor``: mmpretrain's ClsDataPreprocessor + RM."""
import random
from typing import Optional

import torch
from mmpretrain.models.utils.data_preprocessor import ClsDataPreprocessor
from mmpretrain.registry import MODELS

from .hook_guard import HookGuard
from .recursive_mix import RecursiveMix


@MODELS.register_module()
class RecursiveMixDataPreprocessor(HookGuard, ClsDataPreprocessor):
    """Normalise and pad like ``ClsDataPreprocessor``, then RecursiveMix.

    In training mode every batch gets the previous *mixed* batch pasted
    into one random box and mixed labels ``gt_score`` (the RM step of
    :mod:`mmrm.models.recursive_mix`; ``lam`` is the pasted fraction, see
    docs/semantics.md). Each ``DataSample`` receives:

    - ``rm_box``: float tensor (4,) ``[x1, y1, x2, y2]`` in input pixels
      (x = column) of the region that holds the resized history image;
    - ``rm_lam``: ``lam`` of that box (0.0 where nothing was pasted), the
      weight of the history labels;
    - ``rm_valid``: True when a history prediction exists for the sample and
      the box is not empty (drives the head's consistency loss);
    - metainfo ``batch_input_shape``: (H, W) of the mixed batch.

    Images of different sizes padded into one batch (``pseudo_collate``):
    the box is drawn inside the region every image covers (from each
    sample's ``img_shape``), never in padding, and ``rm_lam`` is the box area
    over each image's own area.

    State (per process, i.e. per DDP rank; not saved in checkpoints): the
    previous mixed images and labels, in ``self.recursive_mix``; the head
    keeps the previous logits. ``RecursiveMixHistoryHook`` clears both at
    epoch starts; inside a Runner's training loop a training step without
    that hook stops with an error naming the fix
    (:mod:`mmrm.models.hook_guard`). The picture: docs/semantics.md.

    Evaluation batches (``training=False``) are never mixed and never touch
    the history. Under AMP (mmengine runs the preprocessor inside
    ``optim_wrapper.optim_context``, i.e. under autocast) the images stay
    float32: normalisation and resizing are not autocast ops.

    Args:
        alpha (float): ``r ~ U(0, alpha)``, box side ``sqrt(r)`` of the image
            side. Defaults to 0.5 (paper).
        interpolation (str): ``'nearest'`` (paper) or ``'bilinear'``
            (Table 4b; ``align_corners=True`` as the official code).
        seed (int, optional): seed of the box sampler; by default boxes come
            from Python's global ``random``, which mmengine seeds.
        **kwargs: arguments of ``ClsDataPreprocessor`` (``mean``, ``std``,
            ``to_rgb``, ``num_classes``, ...). ``to_onehot`` is forced on;
            ``batch_augments`` must not be set (RM is the batch augment).
    """

    def __init__(self,
                 alpha: float = 0.5,
                 interpolation: str = 'nearest',
                 seed: Optional[int] = None,
                 **kwargs):
        if kwargs.get('batch_augments'):
            raise ValueError(
                'RecursiveMixDataPreprocessor does the batch mixing itself; '
                'remove `batch_augments` (Mixup/CutMix) from its config.')
        if kwargs.get('num_classes') is None:
            raise ValueError('RecursiveMixDataPreprocessor needs `num_classes` '
                             'to build one-hot labels for mixing.')
        if 'reset_each_epoch' in kwargs:
            raise ValueError(
                'reset_each_epoch is an argument of the hook that does the '
                "reset: custom_hooks = [dict(type='RecursiveMixHistoryHook', "
                'reset_each_epoch=...)], not of RecursiveMixDataPreprocessor.')
        kwargs['to_onehot'] = True
        super().__init__(**kwargs)
        self.recursive_mix = RecursiveMix(
            alpha, interpolation,
            rng=random.Random(seed) if seed is not None else None)

    def reset_history(self) -> None:
        """Forget the previous batch: the next training batch is plain."""
        self.recursive_mix.reset()

    def forward(self, data: dict, training: bool = False) -> dict:
        if training:
            self.check_armed()
        data = super().forward(data, training)
        if training:
            self._mix(data['inputs'], data['data_samples'])
        return data

    def _mix(self, inputs: torch.Tensor, data_samples) -> None:
        if not data_samples or 'gt_score' not in data_samples[0]:
            raise ValueError('RecursiveMixDataPreprocessor needs labels '
                             '(gt_label) in every training data sample.')
        scores = torch.stack([s.gt_score for s in data_samples])
        sizes = [s.metainfo.get('img_shape') for s in data_samples]
        sizes = None if None in sizes else [tuple(hw[:2]) for hw in sizes]
        _, mixed, box, lam, num_pasted = self.recursive_mix(
            inputs, scores, sizes)
        if isinstance(lam, torch.Tensor):
            lam = lam.tolist()  # padded batch of different image sizes
        else:
            lam = [lam] * len(data_samples)
        rm_box = torch.tensor([box.x1, box.y1, box.x2, box.y2],
                              dtype=torch.float32).to(inputs.device,
                                                      non_blocking=True)
        input_shape = tuple(inputs.shape[-2:])
        for i, (sample, score) in enumerate(zip(data_samples, mixed)):
            pasted = i < num_pasted
            # set_field directly: set_gt_score re-validates every score and
            # set_metainfo deep-copies, both per sample and per iteration
            sample.set_field(score, 'gt_score', dtype=torch.Tensor)
            sample.set_field(rm_box, 'rm_box')
            sample.set_field(lam[i] if pasted else 0.0, 'rm_lam')
            sample.set_field(pasted, 'rm_valid')
            sample.set_field(input_shape, 'batch_input_shape',
                             field_type='metainfo')
