# ResNet-34 (CIFAR stem: mmpretrain ResNet_CIFAR) + CutMix, CIFAR-100, 200
# epochs.
# Paper Table 3: 17.89% top-1 error.
# CutMix alpha 1.0 on every batch (the official RM code's `cutmix`, no
# probability switch).
_base_ = './resnet34_2xb64-200e_cifar100.py'
model = dict(
    head=dict(loss=dict(type='CrossEntropyLoss', loss_weight=1.0,
                        use_soft=True)),
    train_cfg=dict(augments=dict(type='CutMix', alpha=1.0)))
