"""Why the transfer scenes are grey and dim: test top-1 of the pretrained
Fashion-MNIST classifiers (the transfer benchmark's pretraining stage, seed
``--seed`` of the full preset) on test garments pasted, at the pretraining's
scale (64 px), onto 64x64 crops of the background photographs at several
brightness levels.

    python -m benchmarks.transfer.background_probe [--levels 0 0.3 0.5 1]
        [--count 1000] [--colour] [--work-root work_dirs/transfer] [--seed 0]

Level 0 is a black background (the pretraining's own images, up to the
silhouette threshold); level 1 the photographs as they are. Prints a markdown
table (rows: pretraining, columns: levels).
"""
import argparse
import os.path as osp

import numpy as np

from benchmarks.transfer import stages
from mmrm.datasets import fmnist_scenes as scenes

REPO = stages.REPO


def pasted(images, levels, colour: bool, seed: int = 0) -> dict:
    """``{level: uint8 (N, 64, 64, 3)}``: each garment at 64/28 scale on a
    random photo crop of that brightness (same crops and positions for every
    level)."""
    out = {}
    for level in levels:
        photos = scenes.load_photos(grey=not colour, level=level)
        rng = np.random.default_rng(seed)
        out[level] = np.stack([
            scenes.compose(rng, scenes.background(rng, photos, 64),
                           [scenes.garment(img, 64 / 28)])[0]
            for img in images])
    return out


def top1(method: str, work_dir: str, batches: dict, labels) -> dict:
    """Top-1 (%) per level of ``method``'s classifier pretrained in
    ``work_dir``."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import mmrm  # noqa: F401  (registers the RM head)
    from mmrm.datasets.fashion_mnist import normalization
    init_default_scope('mmpretrain')
    config = Config.fromfile(stages.PRETRAIN_CONFIGS[method])
    model = MODELS.build(config.model)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        ckpt = torch.load(f.read().strip(), map_location='cpu',
                          weights_only=False)
    model.load_state_dict(ckpt['state_dict'])
    model.eval()
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in normalization())
    out = {}
    for level, imgs in batches.items():
        x = (torch.from_numpy(imgs).permute(0, 3, 1, 2).float() - mean) / std
        with torch.no_grad():
            pred = model(x, mode='tensor').argmax(1)
        out[level] = 100.0 * float((pred == labels).float().mean())
    return out


def main(argv=None) -> str:
    from mmrm.datasets.fashion_mnist import read_fashion_mnist
    from mmrm.utils.markdown import markdown_table
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--levels', type=float, nargs='+',
                        default=[0.0, 0.3, 0.5, 1.0])
    parser.add_argument('--count', type=int, default=1000,
                        help='first N Fashion-MNIST test images')
    parser.add_argument('--colour', action='store_true')
    parser.add_argument('--work-root',
                        default=osp.join(REPO, 'work_dirs', 'transfer'))
    parser.add_argument('--fmnist-root',
                        default=osp.join(REPO, 'data', 'fashion_mnist'))
    parser.add_argument('--seed', type=int, default=0,
                        help='pretraining seed of the full preset')
    args = parser.parse_args(argv)
    from benchmarks.transfer.run import PRESETS
    q = PRESETS['full']['pretrain']
    images, labels = read_fashion_mnist(args.fmnist_root, 'test', args.count)
    batches = pasted(images.numpy(), args.levels, args.colour)
    rows = []
    for method in ('baseline', 'cutmix', 'rm'):
        acc = top1(method, osp.join(
            args.work_root, 'pretrain',
            stages.pretrain_name(method, args.seed, q)), batches, labels)
        rows.append([method] + [f'{acc[k]:.1f}' for k in args.levels])
    table = markdown_table(
        ['pretraining'] + [f'background x{k:g}' for k in args.levels], rows)
    print(table)
    return table


if __name__ == '__main__':
    main()
