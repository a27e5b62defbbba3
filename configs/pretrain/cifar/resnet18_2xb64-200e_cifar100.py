# ResNet-18 (CIFAR stem: mmpretrain ResNet_CIFAR) baseline, CIFAR-100, 200
# epochs.
# Paper Table 3: 21.70% top-1 error (mean of 3 runs, best epoch).
# zero_init_residual=False: the official CIFAR ResNet has no zero-initialised
# last BN in its residual blocks (mmpretrain's default would add one).
_base_ = './_base_/cifar100_bs64_200e.py'
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR', depth=18, num_stages=4, out_indices=(3, ),
        style='pytorch', zero_init_residual=False),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
