# PyramidNet-200 (bottleneck, alpha 240) + CutMix, CIFAR-10, 300 epochs.
# Paper: Table 1 (numbers: metafile.yml).
# CutMix alpha 1.0 applied with probability 0.5, the official CutMix CIFAR
# recipe that the paper's 300-epoch setting (and its CutMix row) follows.
_base_ = [
    './pyramidnet200-a240_2xb32-300e_cifar10.py',
    '../_base_/mixup_cutmix.py'
]
model = dict(
    _base_.cutmix_model,
    train_cfg=dict(_base_.cutmix_model.train_cfg, probs=0.5))
