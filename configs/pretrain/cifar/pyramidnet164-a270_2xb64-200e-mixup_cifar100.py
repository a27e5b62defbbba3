# PyramidNet-164 (bottleneck, alpha 270) + Mixup (alpha 1.0), CIFAR-100, 200
# epochs.
# Paper: Tables 2 and 3 (numbers: metafile.yml).
_base_ = [
    './pyramidnet164-a270_2xb64-200e_cifar100.py',
    '../_base_/mixup_cutmix.py'
]
model = _base_.mixup_model
