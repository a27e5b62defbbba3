# CPU demo: Fashion-MNIST + Mixup (alpha 1.0).
_base_ = './resnet18-w16_1xb128-3e_fmnist-64px.py'
model = dict(
    head=dict(loss=dict(type='CrossEntropyLoss', loss_weight=1.0, use_soft=True)),
    train_cfg=dict(augments=dict(type='Mixup', alpha=1.0)))
