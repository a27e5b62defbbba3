# PyramidNet-200 (bottleneck, alpha 240) + CutMix, CIFAR-10, 300 epochs.
# Paper Table 1: 2.88% top-1 error.
# CutMix alpha 1.0 applied with probability 0.5, the official CutMix CIFAR
# recipe that the paper's 300-epoch setting (and its CutMix row) follows.
_base_ = './pyramidnet200-a240_2xb32-300e_cifar10.py'
model = dict(
    head=dict(loss=dict(type='CrossEntropyLoss', loss_weight=1.0,
                        use_soft=True)),
    train_cfg=dict(augments=dict(type='CutMix', alpha=1.0), probs=0.5))
