"""Grad-CAM of trained classifiers on RM-mixed samples (paper Fig. 6-7).

The mixed samples are made by ``RecursiveMixDataPreprocessor`` from
Fashion-MNIST *test* images (consecutive batches, so the pasted history image
may hold an older paste itself). For every sample the figure shows the image
with its boxes, then, per model, the Grad-CAM of the outer class (the largest
label weight) and of the pasted class (the second largest), with the model's
softmax probability of that class. CAM is computed by pytorch-grad-cam
(``pip install grad-cam``, the library mmpretrain's own
``tools/visualization/vis_cam.py`` uses) on the model's logits.

The models are the runs of ``benchmarks/compare_fmnist.py`` (their
``result.json`` names config and checkpoint), or any ``--model
NAME=CONFIG::CHECKPOINT``.

    python tools/analysis_tools/vis_cam.py                           # seed-0 runs
    python tools/analysis_tools/vis_cam.py --model RM=cfg.py::epoch_4.pth

The fmnist configs see 64x64 inputs, so ResNet-18's last stage is only 2x2;
the default target layer is therefore ``backbone.layer3`` (4x4, stride 16).
"""
import argparse
import json
import os
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def import_grad_cam():
    try:
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.image import show_cam_on_image
        from pytorch_grad_cam.utils.model_targets import \
            ClassifierOutputTarget
    except ImportError as e:
        raise SystemExit(
            f'vis_cam needs pytorch-grad-cam ({e}); install it with '
            '`pip install grad-cam` (see docs/analysis.md)')
    return GradCAM, show_cam_on_image, ClassifierOutputTarget


def parse_models(args):
    """{name: (config, checkpoint)} from --model or compare_fmnist runs."""
    models = {}
    for spec in args.model or []:
        name, _, rest = spec.partition('=')
        config, _, ckpt = rest.partition('::')
        if not (name and config and ckpt):
            raise SystemExit(
                f'--model wants NAME=CONFIG::CHECKPOINT, got {spec!r}')
        models[name] = (config, ckpt)
    for name, paths in models.items():
        for path in paths:
            if not osp.isfile(path):
                raise SystemExit(f'--model {name}: no such file: {path}')
    if models:
        return models
    names = {
        'baseline': 'baseline',
        'mixup': 'Mixup',
        'cutmix': 'CutMix',
        'rm': 'RM'
    }
    for method in args.methods:
        path = osp.join(args.work_root, f'{method}_seed{args.seed}',
                        'result.json')
        if not osp.isfile(path):
            print(f'[vis_cam] no finished run {path}: skipped')
            continue
        with open(path) as f:
            result = json.load(f)
        models[names[method]] = (result['config'], result['checkpoint'])
    if not models:
        raise SystemExit('no models: run benchmarks/compare_fmnist.py first '
                         'or pass --model NAME=CONFIG::CHECKPOINT')
    return models


def as_logits(model):
    """An mmpretrain classifier as a module ``x -> logits`` (N, K), for
    grad-cam; the classifier stays reachable as ``.model``."""
    import torch.nn as nn

    class Logits(nn.Module):

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x, mode='tensor')

    return Logits(model)


def pick_samples(batches, count, min_weight, per_batch=2):
    """(batch, index) of mixed samples whose two largest label weights are
    both above ``min_weight`` (at most ``per_batch`` from one iteration, so
    that the boxes differ), newest iterations first."""
    picks = []
    for b in reversed(batches):
        taken = 0
        for i in range(b.scores.size(0)):
            top = b.scores[i].topk(2)
            if float(top.values[1]) >= min_weight and b.boxes[i] and \
                    taken < per_batch:
                picks.append((b, i))
                taken += 1
            if len(picks) == count:
                return picks
    return picks


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--model',
                        action='append',
                        help='NAME=CONFIG::CHECKPOINT (repeatable)')
    parser.add_argument('--methods',
                        nargs='+',
                        default=['baseline', 'mixup', 'cutmix', 'rm'])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--work-root',
                        default=osp.join(ROOT, 'work_dirs', 'compare_fmnist'))
    parser.add_argument('--layer', default='backbone.layer3')
    parser.add_argument('--samples', type=int, default=5)
    parser.add_argument('--min-weight', type=float, default=0.15)
    parser.add_argument('--data-seed', type=int, default=1)
    parser.add_argument('--data-root',
                        default=osp.join(ROOT, 'data', 'fashion_mnist'))
    parser.add_argument('--out',
                        default=osp.join(ROOT, 'docs', 'figures',
                                         'cam_fmnist.png'))
    args = parser.parse_args(argv)
    if not osp.isdir(args.data_root):
        parser.error(f'--data-root: no such folder: {args.data_root} (run '
                     'tools/dataset_converters/prepare_fashion_mnist.sh)')
    specs = parse_models(args)
    GradCAM, show_cam_on_image, ClassifierOutputTarget = import_grad_cam()

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import torch
    from matplotlib.patches import Rectangle
    from mmpretrain.apis import init_model

    import mmrm  # noqa: F401
    from mmrm.analysis.mixing import make_data_batches, rm_batches
    from mmrm.datasets import load_fashion_mnist, normalization
    MEAN, STD = normalization()

    images, labels, names = load_fashion_mnist(args.data_root, 64, 'test')
    data = make_data_batches(images,
                             labels,
                             16,
                             12,
                             seed=args.data_seed,
                             flip=False)
    batches = rm_batches(data, len(names), MEAN, STD, seed=args.data_seed)
    picks = pick_samples(batches, args.samples, args.min_weight)

    # mmengine checkpoints carry its message hub: allow-list those plain
    # types and keep torch.load weights-only
    from mmrm.convert.loading import allow_mmengine_checkpoints
    allow_mmengine_checkpoints()
    models = {}
    for name, (config, ckpt) in specs.items():
        model = init_model(config, ckpt, device='cpu').eval()
        models[name] = as_logits(model)

    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    ncols = 1 + 2 * len(models)
    fig, axes = plt.subplots(len(picks),
                             ncols,
                             squeeze=False,
                             figsize=(1.35 * ncols, 1.55 * len(picks) + 0.4))
    for row, (batch, i) in enumerate(picks):
        img = batch.images[i]  # (3, H, W) in [0, 255]
        x = ((img - mean) / std)[None]
        rgb = (img.permute(1, 2, 0).numpy() / 255.0).astype('float32')
        top = batch.scores[i].topk(2)
        classes = [int(c) for c in top.indices]
        ax = axes[row][0]
        ax.imshow(rgb)
        for depth, (x1, y1, x2, y2) in enumerate(batch.boxes[i][:2]):
            ax.add_patch(
                Rectangle((x1 - 0.5, y1 - 0.5),
                          x2 - x1,
                          y2 - y1,
                          fill=False,
                          lw=1,
                          edgecolor=('#ff2d2d', '#ffa500')[depth]))
        ax.set_title('\n'.join(f'{float(w):.2f} {names[c]}'
                               for w, c in zip(top.values, classes)),
                     fontsize=6.5)
        col = 1
        for name, model in models.items():
            with torch.no_grad():
                prob = model(x).softmax(-1)[0]
            layer = model.model.get_submodule(args.layer)
            with GradCAM(model=model, target_layers=[layer]) as cam:
                for c in classes:
                    mask = cam(input_tensor=x,
                               targets=[ClassifierOutputTarget(c)])[0]
                    ax = axes[row][col]
                    ax.imshow(show_cam_on_image(rgb, mask, use_rgb=True))
                    ax.set_title(f'{name}: {names[c]}\np={float(prob[c]):.2f}',
                                 fontsize=6.5)
                    col += 1
        for ax in axes[row]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(
        f'Grad-CAM ({args.layer}) on RM-mixed Fashion-MNIST test '
        'images: outer class, then pasted class',
        fontsize=8)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(args.out)


if __name__ == '__main__':
    main()
