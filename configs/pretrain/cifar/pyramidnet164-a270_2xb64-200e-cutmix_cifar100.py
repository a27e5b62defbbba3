# PyramidNet-164 (bottleneck, alpha 270) + CutMix, CIFAR-100, 200 epochs.
# Paper Tables 2-3: 15.59% top-1 error.
# CutMix alpha 1.0 on every batch (the official RM code's `cutmix`, no
# probability switch).
_base_ = './pyramidnet164-a270_2xb64-200e_cifar100.py'
model = dict(
    head=dict(loss=dict(type='CrossEntropyLoss', loss_weight=1.0,
                        use_soft=True)),
    train_cfg=dict(augments=dict(type='CutMix', alpha=1.0)))
