# PyramidNet-164 (bottleneck, alpha 270) + Mixup (alpha 1.0), CIFAR-100, 200
# epochs.
# Paper Tables 2-3: 16.02% top-1 error.
_base_ = './pyramidnet164-a270_2xb64-200e_cifar100.py'
model = dict(
    head=dict(loss=dict(type='CrossEntropyLoss', loss_weight=1.0,
                        use_soft=True)),
    train_cfg=dict(augments=dict(type='Mixup', alpha=1.0)))
