"""Effective class number of Mixup, CutMix and RM targets (paper Fig. 8).

Two label streams, 100 iterations each, averaged over 3 seeds:

- Fashion-MNIST: the real training labels (K=10) in a shuffled order, batch
  128, 64x64 images (the fmnist configs);
- ImageNet-sized: uniform random labels, K=1000, batch 64, 224x224 (the
  paper's per-GPU setting; no ImageNet labels are available offline).

    python tools/analysis_tools/effective_classes.py

Writes ``docs/figures/effective_classes.png`` and prints the markdown tables
(mean number of classes per target above each threshold, over the 100
iterations).
"""
import argparse
import os
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NAMES = {'mixup': 'Mixup', 'cutmix': 'CutMix', 'rm': 'RM'}


def plot(panels, out_file):
    """One grouped bar chart per label stream (mean over iterations) and the
    RM curve per iteration of the last stream."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    from mmrm.analysis.effective_classes import METHODS, THRESHOLDS
    fig, axes = plt.subplots(1,
                             len(panels) + 1,
                             figsize=(4.2 * (len(panels) + 1), 3.4))
    width = 0.8 / len(METHODS)
    x = np.arange(len(THRESHOLDS))
    for ax, (title, curves) in zip(axes, panels):
        for k, method in enumerate(curves):
            means = curves[method].mean(axis=0)
            bars = ax.bar(x + (k - (len(curves) - 1) / 2) * width,
                          means,
                          width,
                          label=NAMES[method])
            ax.bar_label(bars, fmt='%.2f', fontsize=6)
        ax.set_xticks(x, [f'{t:g}' for t in THRESHOLDS])
        ax.set_xlabel('threshold')
        ax.set_ylabel('effective classes per target')
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    ax = axes[-1]
    title, curves = panels[-1]
    iters = np.arange(1, curves['rm'].shape[0] + 1)
    for j, t in enumerate(THRESHOLDS):
        ax.plot(iters, curves['rm'][:, j], label=f'RM > {t:g}')
    ax.plot(iters,
            curves['cutmix'][:, 1],
            'k--',
            lw=0.8,
            label='CutMix > 0.01')
    ax.set_xlabel('iteration')
    ax.set_ylabel('effective classes per target')
    ax.set_title(f'per iteration, {title}', fontsize=9)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.legend(fontsize=6.5, ncol=2, loc='upper center')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--iters', type=int, default=100)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--data-root',
                        default=osp.join(ROOT, 'data', 'fashion_mnist'))
    parser.add_argument('--out',
                        default=osp.join(ROOT, 'docs', 'figures',
                                         'effective_classes.png'))
    args = parser.parse_args(argv)
    if not osp.isdir(args.data_root):
        parser.error(f'--data-root: no such folder: {args.data_root} (run '
                     'tools/dataset_converters/prepare_fashion_mnist.sh)')
    from mmrm.analysis.effective_classes import (
        METHODS, effective_class_curves, fashion_mnist_train_labels,
        random_label_batches, shuffled_label_batches, summary_table)

    panels = []
    labels = fashion_mnist_train_labels(args.data_root)
    fmnist = [
        effective_class_curves(shuffled_label_batches(labels,
                                                      128,
                                                      args.iters,
                                                      seed=s),
                               10, (64, 64),
                               seeds=[s]) for s in args.seeds
    ]
    fmnist = {m: sum(c[m] for c in fmnist) / len(fmnist) for m in METHODS}
    panels.append(('Fashion-MNIST labels, K=10, batch 128', fmnist))
    imnet = [
        effective_class_curves(random_label_batches(1000,
                                                    64,
                                                    args.iters,
                                                    seed=s),
                               1000, (224, 224),
                               seeds=[s]) for s in args.seeds
    ]
    imnet = {m: sum(c[m] for c in imnet) / len(imnet) for m in METHODS}
    panels.append(('random labels, K=1000, batch 64, 224 px', imnet))
    plot(panels, args.out)
    for title, curves in panels:
        print(f'\n{title} ({args.iters} iterations, mean over '
              f'{len(args.seeds)} seeds):\n')
        print(summary_table(curves))
    print(f'\n{args.out}')


if __name__ == '__main__':
    main()
