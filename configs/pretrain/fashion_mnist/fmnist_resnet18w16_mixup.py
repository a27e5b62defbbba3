# CPU demo: Fashion-MNIST + Mixup (alpha 1.0).
_base_ = './fmnist_resnet18w16_baseline.py'
model = dict(
    head=dict(loss=dict(type='CrossEntropyLoss', loss_weight=1.0, use_soft=True)),
    train_cfg=dict(augments=dict(type='Mixup', alpha=1.0)))
