# DenseNet-121 (CIFAR stem: mmrm DenseNet_CIFAR) + Mixup (alpha 1.0),
# CIFAR-100, 200 epochs.
# Paper Table 3: 17.71% top-1 error.
_base_ = './densenet121_2xb64-200e_cifar100.py'
model = dict(
    head=dict(loss=dict(type='CrossEntropyLoss', loss_weight=1.0,
                        use_soft=True)),
    train_cfg=dict(augments=dict(type='Mixup', alpha=1.0)))
