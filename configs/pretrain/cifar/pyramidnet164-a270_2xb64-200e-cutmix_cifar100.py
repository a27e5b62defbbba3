# PyramidNet-164 (bottleneck, alpha 270) + CutMix, CIFAR-100, 200 epochs.
# Paper: Tables 2 and 3 (numbers: metafile.yml).
_base_ = [
    './pyramidnet164-a270_2xb64-200e_cifar100.py',
    '../_base_/mixup_cutmix.py'
]
model = _base_.cutmix_model
