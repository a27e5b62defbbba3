"""Token backbones (ViT, Swin) as the feature map of ``RecursiveMixHead``.

mmrm's extension beyond the paper (which covers CNNs and PVTv2 only).

What the head reads (docs/semantics.md: ``logits = fc(GAP(feat))``, RoI on
``feat``):

- mmpretrain ``VisionTransformer(out_type='featmap')``: the last layer's
  **patch tokens** as a grid (N, C, h, w), ``h = ceil(H / p)``,
  ``w = ceil(W / p)`` for patch size p (mmcv's ``PatchEmbed`` pads the
  bottom/right corner). The class token is not part of the grid: the main
  classifier is ``fc(mean of the patch tokens)`` and the RoI covers patch
  tokens only. The class token is still computed (and kept in checkpoints,
  so they have the stock DeiT layout that mmseg's ViT loads) but no head
  reads it.
- mmpretrain ``SwinTransformer(out_indices=(3, ))``: the last stage
  (N, C, ceil(H / 32), ceil(W / 32)) after its ``norm3``.

Token (i, j) of a grid with stride s covers input pixels rows
``[i*s, (i+1)*s)`` and columns ``[j*s, (j+1)*s)``, so a pixel box maps to
grid coordinates by ``x / s`` (columns) and ``y / s`` (rows). Without a
known stride the scale is ``w / W`` for x and ``h / H`` for y, which is the
same number when H and W are multiples of s (224 for p = 16 and Swin's 32).
"""
from typing import Optional, Sequence, Tuple, Union

import torch

Stride = Union[int, Sequence[int]]

SPATIAL_HINT = (
    "set the backbone's output to a feature map (N, C, h, w) and use "
    "`neck=None`: "
    "mmpretrain VisionTransformer out_type='featmap', SwinTransformer "
    "out_indices=(3, ), CNNs their last stage")


def check_spatial(feat) -> None:
    """Raise a ``ValueError`` naming the setting to change unless ``feat``
    is a (N, C, h, w) map.

    (N, C) is a pooled vector (ViT ``out_type='cls_token'`` /
    ``'avg_featmap'``, or a ``GlobalAveragePooling`` neck); (N, L, C) is a
    token sequence (ViT ``out_type='raw'``).
    """
    if not isinstance(feat, torch.Tensor):
        raise ValueError(
            f'RecursiveMixHead got a {type(feat).__name__} as the last '
            f'backbone output, not a tensor (a ViT with out_type="featmap" '
            f'and output_cls_token?); {SPATIAL_HINT}.')
    shape = tuple(feat.shape)
    if feat.dim() == 2:
        raise ValueError(
            f'RecursiveMixHead got a pooled (N, C) = {shape} input: a class '
            f"token (VisionTransformer out_type='cls_token', the default), an "
            f"averaged token (out_type='avg_featmap') or a pooling neck. "
            f'It needs the token grid to cut the RoI from: {SPATIAL_HINT}.')
    if feat.dim() == 3:
        raise ValueError(
            f'RecursiveMixHead got a token sequence (N, L, C) = {shape} '
            f"(VisionTransformer out_type='raw'); it cannot tell the grid "
            f"shape nor which token is the class token: {SPATIAL_HINT}.")
    if feat.dim() != 4:
        raise ValueError(
            f'RecursiveMixHead needs a (N, C, h, w) feature map, got shape '
            f'{shape}; {SPATIAL_HINT}.')


def _pair(stride: Stride) -> Tuple[int, int]:
    """(row stride, column stride)."""
    if isinstance(stride, int):
        return stride, stride
    sy, sx = stride
    return int(sy), int(sx)


def grid_scale(input_shape: Tuple[int, int],
               grid_shape: Tuple[int, int],
               stride: Optional[Stride] = None) -> Tuple[float, float]:
    """Factors ``(sy, sx)`` that take input pixels to grid coordinates.

    Args:
        input_shape: (H, W) of the input batch.
        grid_shape: (h, w) of the feature map.
        stride: pixels per grid cell, an int or (row, column); None uses
            ``h / H`` and ``w / W``.

    Raises:
        ValueError: ``stride`` does not give the grid, i.e.
            ``ceil(H / s) != h`` or ``ceil(W / s) != w``.
    """
    (img_h, img_w), (h, w) = input_shape, grid_shape
    if stride is None:
        return h / img_h, w / img_w
    sy, sx = _pair(stride)
    if -(-img_h // sy) != h or -(-img_w // sx) != w:
        raise ValueError(
            f'RecursiveMixHead feat_stride={stride} does not fit: an input of '
            f'{img_h}x{img_w} gives a {-(-img_h // sy)}x{-(-img_w // sx)} '
            f'grid with it, but the feature map is {h}x{w} (patch size / '
            f'last-stage stride of the backbone?)')
    return 1.0 / sy, 1.0 / sx


def box_to_grid(boxes: torch.Tensor, input_shape: Tuple[int, int],
                grid_shape: Tuple[int, int],
                stride: Optional[Stride] = None) -> torch.Tensor:
    """(N, 4) pixel boxes ``[x1, y1, x2, y2]`` (x = column) -> the same
    boxes in grid coordinates (a new tensor): x times ``sx``, y times ``sy``
    from :func:`grid_scale`."""
    sy, sx = grid_scale(input_shape, grid_shape, stride)
    out = boxes.clone()
    out[:, 0::2] *= sx
    out[:, 1::2] *= sy
    return out
