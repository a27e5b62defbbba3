# PyramidNet-200 (bottleneck, alpha 240) + Mixup (alpha 1.0), CIFAR-10, 300
# epochs.
# Paper: Table 1 (numbers: metafile.yml).
_base_ = [
    './pyramidnet200-a240_2xb32-300e_cifar10.py',
    '../_base_/mixup_cutmix.py'
]
model = _base_.mixup_model
