"""The figure of consecutive mixed batches: rows = iterations, columns =
samples grouped by method, every pasted box drawn (colour by nesting depth)
and the largest label weights written under each image."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .mixing import MixedBatch

#: colour of a box by nesting depth (0 = pasted at this iteration).
DEPTH_COLOURS = ('#ff2d2d', '#ffa500', '#ffee00', '#00e5ff', '#7cff4d',
                 '#ff66ff')


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


def load_image_folder(paths: Sequence[str]) -> torch.Tensor:
    """Equal-sized RGB PNG/JPEG files -> uint8 (M, 3, H, W)."""
    from PIL import Image
    arrays = [np.asarray(Image.open(p).convert('RGB')) for p in paths]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f'images must have one size, got {shapes}')
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
