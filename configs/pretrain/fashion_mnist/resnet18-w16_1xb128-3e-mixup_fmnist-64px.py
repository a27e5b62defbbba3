# CPU demo: Fashion-MNIST + Mixup (alpha 1.0).
_base_ = [
    './resnet18-w16_1xb128-3e_fmnist-64px.py',
    '../_base_/mixup_cutmix.py'
]
model = _base_.mixup_model
