# PyramidNet-200 (bottleneck, alpha 240) + Mixup (alpha 1.0), CIFAR-10, 300
# epochs.
# Paper Table 1: 3.09% top-1 error.
_base_ = './pyramidnet200-a240_2xb32-300e_cifar10.py'
model = dict(
    head=dict(loss=dict(type='CrossEntropyLoss', loss_weight=1.0,
                        use_soft=True)),
    train_cfg=dict(augments=dict(type='Mixup', alpha=1.0)))
