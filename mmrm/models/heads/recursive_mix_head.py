"""``RecursiveMixHead``: linear classifier + RoIAlign consistency loss."""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torchvision.ops import roi_align

from .token_grid import box_to_grid, check_spatial


def consistency_loss(roi_logits: torch.Tensor, history_logits: torch.Tensor,
                     weights: torch.Tensor) -> torch.Tensor:
    """``mean_i(w_i * KL(softmax(p_hist_i) || softmax(p_roi_i)))``.

    Args:
        roi_logits: (N, K) predictions of the pasted regions.
        history_logits: (N, K) last iteration's logits of the same images
            (detached; rows with weight 0 may hold anything finite).
        weights: (N,) per-sample weight, ``valid_i * lam_i``.

    Returns:
        Scalar tensor, float32.
    """
    log_q = F.log_softmax(roi_logits.float(), dim=1)
    log_p = F.log_softmax(history_logits.float(), dim=1)
    kl = (log_p.exp() * (log_p - log_q)).sum(dim=1)
    return (weights.float() * kl).mean()


@MODELS.register_module()
class RecursiveMixHead(ClsHead):
    """Classifier head of RecursiveMix (use with ``neck=None``).

    Input: the backbone's last stage feature map ``feat`` (N, C, h, w).

    - main branch: ``logits = fc(GAP(feat))`` (N, K), loss ``loss_cls`` from
      ``loss`` (soft cross-entropy against the mixed ``gt_score``);
    - consistency branch: ``p_roi = fc_roi(RoIAlign(feat, rm_box, 1x1))``,
      ``loss_rm = omega * mean_i(valid_i * lam_i * KL(softmax(p_hist_i) ||
      softmax(p_roi_i)))`` where ``p_hist`` are the previous iteration's
      ``logits`` (kept here, per process).

    ``lam_i`` is ``rm_lam``, the pasted fraction (see
    :mod:`mmrm.models.recursive_mix` for the convention).

    State: the head keeps only ``history_logits`` (M, K), float32, the
    previous training iteration's ``logits`` of this process (detached);
    history row ``i`` is used for sample ``i``. The images and labels of the
    history live in ``RecursiveMixDataPreprocessor``, which tells the head
    per sample (``rm_box``/``rm_lam``/``rm_valid``) where the previous batch
    was pasted. ``RecursiveMixHistoryHook`` resets both at epoch starts;
    ``predict`` never touches the state. The picture: docs/semantics.md.

    Precision (AMP): the stored logits, the weights ``lam_i``, the box
    scaling and RoIAlign are float32 whatever the autocast dtype; the KL is
    computed in float32. A history row that is not finite (an fp16
    overflow in the previous forward; the GradScaler skips that step) gets
    weight 0 instead of turning ``loss_rm`` into NaN.

    The RoI box is scaled to the feature map per axis
    (``feat_w / img_w`` for x, ``feat_h / img_h`` for y; equal to the
    single ``spatial_scale`` of the official code when the input size is a
    multiple of the stride; ``1 / feat_stride`` when that is set), RoIAlign
    with ``aligned=True`` and adaptive sampling. The RoI branch always runs
    (weight 0 when nothing is valid) so DDP never sees unused parameters.
    ``predict`` uses ``fc`` only; ``fc_roi`` is training-only.

    Args:
        num_classes (int): number of classes K.
        in_channels (int): channels C of the last backbone stage.
        omega (float): weight of the consistency loss (0.5 ImageNet,
            0.1 CIFAR; 0 disables it, Table 2 ablation).
        share_fc (bool): use ``fc`` for the RoI branch too (Table 4a).
        legacy_transposed_roi (bool): pass the box with x and y swapped, as
            the published code did before April 2023.
        feat_stride (int | tuple, optional): input pixels per feature-map
            cell, (row, column) or one int (ViT: the patch size; Swin: 32).
            Exact for inputs that are not a multiple of it (the token grid is
            padded at the bottom/right); None: ``feat / img`` per axis. See
            :mod:`mmrm.models.heads.token_grid` for ViT/Swin inputs.
        loss (dict): main classification loss config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 omega: float = 0.5,
                 share_fc: bool = False,
                 legacy_transposed_roi: bool = False,
                 feat_stride=None,
                 loss: dict = dict(type='CrossEntropyLoss', use_soft=True),
                 init_cfg: Optional[dict] = dict(
                     type='Normal', layer='Linear', std=0.01),
                 **kwargs):
        super().__init__(loss=loss, init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(f'num_classes must be positive, got {num_classes}')
        if omega < 0:
            raise ValueError(f'RecursiveMixHead omega must be >= 0, got {omega}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.omega = float(omega)
        self.legacy_transposed_roi = legacy_transposed_roi
        self.feat_stride = feat_stride
        self.fc = nn.Linear(in_channels, num_classes)
        self.fc_roi = self.fc if share_fc else nn.Linear(in_channels,
                                                         num_classes)
        self.history_logits: Optional[torch.Tensor] = None

    def reset_history(self) -> None:
        """Forget the previous iteration's logits."""
        self.history_logits = None

    def _last_feature_map(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        feat = feats[-1] if isinstance(feats, (tuple, list)) else feats
        check_spatial(feat)  # (N, C) / (N, L, C): names the setting
        if feat.size(1) != self.in_channels:
            raise ValueError(
                f'RecursiveMixHead in_channels={self.in_channels} but the '
                f'last backbone stage has {feat.size(1)} channels.')
        return feat

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """(N, C): global average pooling of the last stage."""
        return self._last_feature_map(feats).mean(dim=(2, 3))

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """(N, K) logits of the main classifier."""
        return self.fc(self.pre_logits(feats))

    def roi_features(self, feat: torch.Tensor, boxes: torch.Tensor,
                     input_shape: Tuple[int, int]) -> torch.Tensor:
        """(N, C): RoIAlign of ``feat[i]`` over ``boxes[i]``, 1x1 output.

        Args:
            feat: (N, C, h, w) feature map.
            boxes: (N, 4) ``[x1, y1, x2, y2]`` in input pixels (x = column).
            input_shape: (H, W) of the input batch.
        """
        # float32 box scaling also under fp16/bf16 autocast
        boxes = box_to_grid(boxes.to(feat.device, torch.float32), input_shape,
                            tuple(feat.shape[-2:]), self.feat_stride)
        if self.legacy_transposed_roi:
            boxes = boxes[:, [1, 0, 3, 2]]
        index = torch.arange(feat.size(0), device=feat.device,
                             dtype=torch.float32)[:, None]
        rois = torch.cat([index, boxes], dim=1)
        # float32 boxes and sampling also under fp16/bf16 autocast (as
        # torchvision's own autocast wrapper of roi_align on CUDA)
        pooled = roi_align(feat.float(), rois, output_size=1,
                           spatial_scale=1.0, sampling_ratio=-1, aligned=True)
        return pooled.flatten(1).to(feat.dtype)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        """Losses ``loss_cls`` (classification) and ``loss_rm`` (consistency).

        mmengine sums every key containing ``loss`` and logs the sum as
        ``loss``, so the two terms get names of their own.
        """
        if 'rm_valid' not in data_samples[0]:
            raise ValueError(
                'RecursiveMixHead got data samples without RM fields '
                '(rm_box/rm_lam/rm_valid): use it with '
                "data_preprocessor=dict(type='RecursiveMixDataPreprocessor').")
        feat = self._last_feature_map(feats)
        logits = self.fc(feat.mean(dim=(2, 3)))
        losses = self._get_loss(logits, data_samples, **kwargs)
        losses['loss_cls'] = losses.pop('loss')

        boxes = torch.stack([s.rm_box for s in data_samples])
        valid = [bool(s.rm_valid) for s in data_samples]
        lams = [float(s.rm_lam) if v else 0.0 for s, v in zip(data_samples, valid)]
        weights = torch.tensor(lams, dtype=torch.float32).to(
            logits.device, non_blocking=True)
        history, usable = self._history_for(logits, valid)
        roi_logits = self.fc_roi(self.roi_features(
            feat, boxes, data_samples[0].metainfo['batch_input_shape']))
        losses['loss_rm'] = self.omega * consistency_loss(
            roi_logits, history, weights * usable)
        self.history_logits = logits.detach().float()
        return losses

    def _history_for(self, logits: torch.Tensor, valid: List[bool]
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Last iteration's logits aligned to the current batch.

        Returns:
            tuple: ``(history (N, K) float32, usable (N,) float32)``; row
            ``i`` is history row ``i`` (zeros where there is none);
            ``usable`` is 0 for rows that are not finite (zeroed too), so
            that an overflowed step never reaches the loss. No host sync.
        """
        num_valid = sum(valid)
        hist = self.history_logits
        if num_valid and (hist is None or hist.size(0) < max(
                i + 1 for i, v in enumerate(valid) if v)):
            raise RuntimeError(
                'RecursiveMixHead: the data preprocessor pasted history images '
                'but the head holds no logits for them (history reset in one '
                'place only?). Reset both, as RecursiveMixHistoryHook does.')
        out = torch.zeros_like(logits, dtype=torch.float32).detach()
        if hist is not None:
            n = min(hist.size(0), out.size(0))
            out[:n] = hist[:n]
        usable = torch.isfinite(out).all(dim=1)
        return torch.where(usable[:, None], out, 0.0), usable.float()
