"""Draw consecutive training batches mixed by Mixup, CutMix and RecursiveMix.

Rows are iterations; each method shows the same batch positions. RM boxes are
drawn by nesting depth (red: pasted at this iteration, orange: the box the
pasted history image itself held, yellow: one older, ...); CutMix's box is
red; each image lists its largest label weights.

    python tools/analysis_tools/vis_mixing.py                      # both figures
    python tools/analysis_tools/vis_mixing.py --dataset fmnist --iters 5

Writes ``docs/figures/mixing_fmnist.png`` (real Fashion-MNIST, 64x64) and
``docs/figures/mixing_rgb.png`` (four public-domain/CC0 photos from
scikit-image's sample data, ``docs/figures/src/``).
"""
import argparse
import glob
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def mix_all(batches, num_classes, mean, std, seed):
    """{'Mixup': [...], 'CutMix': [...], 'RM': [...]} for the same batches."""
    from mmrm.analysis.mixing import batch_augment_batches, rm_batches
    return {
        'Mixup':
        batch_augment_batches('mixup',
                              batches,
                              num_classes,
                              mean,
                              std,
                              alpha=1.0,
                              seed=seed),
        'CutMix':
        batch_augment_batches('cutmix',
                              batches,
                              num_classes,
                              mean,
                              std,
                              alpha=1.0,
                              seed=seed),
        'RM':
        rm_batches(batches, num_classes, mean, std, alpha=0.5, seed=seed),
    }


def fmnist_figure(args):
    from mmrm.analysis.mixing import make_data_batches
    from mmrm.analysis.mixing_grid import draw_mixing_grid
    from mmrm.datasets import load_fashion_mnist, normalization
    images, labels, names = load_fashion_mnist(args.data_root,
                                               size=64,
                                               limit=args.pool)
    batches = make_data_batches(images,
                                labels,
                                args.batch,
                                args.iters,
                                seed=args.seed)
    mean, std = normalization()
    # grey images: one channel of the config's (replicated) normalisation
    columns = mix_all(batches, len(names), mean[:1], std[:1], args.seed)
    out = osp.join(args.out_dir, 'mixing_fmnist.png')
    draw_mixing_grid(columns,
                     names,
                     samples=range(args.samples),
                     out_file=out,
                     title='Fashion-MNIST: consecutive '
                     'training batches (rows = iterations)')
    return out


def rgb_figure(args):
    paths = sorted(glob.glob(osp.join(args.photo_dir, '*.png')))
    if not paths:
        raise FileNotFoundError(f'no PNG photos in {args.photo_dir}')
    import torch

    from mmrm.analysis.mixing import make_data_batches
    from mmrm.analysis.mixing_grid import draw_mixing_grid, load_image_folder
    names = [osp.splitext(osp.basename(p))[0] for p in paths]
    images = load_image_folder(paths)
    labels = torch.arange(len(paths))
    batches = make_data_batches(images,
                                labels,
                                len(paths),
                                args.iters,
                                seed=args.seed)
    columns = mix_all(batches, len(names), [123.675, 116.28, 103.53],
                      [58.395, 57.12, 57.375], args.seed)
    out = osp.join(args.out_dir, 'mixing_rgb.png')
    draw_mixing_grid(columns,
                     names,
                     samples=range(min(args.samples, len(paths))),
                     out_file=out,
                     title='Photos: consecutive training '
                     'batches (rows = iterations)')
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--dataset',
                        choices=['fmnist', 'rgb', 'both'],
                        default='both')
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--batch',
                        type=int,
                        default=16,
                        help='Fashion-MNIST batch size')
    parser.add_argument('--samples',
                        type=int,
                        default=3,
                        help='batch positions shown per method')
    parser.add_argument(
        '--pool',
        type=int,
        default=2000,
        help='first N Fashion-MNIST training images to draw from')
    parser.add_argument('--seed', type=int, default=3)
    parser.add_argument('--data-root',
                        default=osp.join(ROOT, 'data', 'fashion_mnist'))
    parser.add_argument('--photo-dir',
                        default=osp.join(ROOT, 'docs', 'figures', 'src'))
    parser.add_argument('--out-dir', default=osp.join(ROOT, 'docs', 'figures'))
    args = parser.parse_args(argv)
    if args.dataset in ('fmnist', 'both') and not osp.isdir(args.data_root):
        parser.error(f'--data-root: no such folder: {args.data_root} (run '
                     'tools/dataset_converters/prepare_fashion_mnist.sh)')
    if args.dataset in ('rgb', 'both') and not osp.isdir(args.photo_dir):
        parser.error(f'--photo-dir: no such folder: {args.photo_dir}')
    if args.dataset in ('fmnist', 'both'):
        print(fmnist_figure(args))
    if args.dataset in ('rgb', 'both'):
        print(rgb_figure(args))


if __name__ == '__main__':
    main()
