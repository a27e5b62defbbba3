# DenseNet-161 (CIFAR stem: mmrm DenseNet_CIFAR) baseline, CIFAR-100, 200
# epochs.
# Paper Table 3: 18.78% top-1 error (mean of 3 runs, best epoch).
_base_ = './_base_/cifar100_bs64_200e.py'
custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='DenseNet_CIFAR', arch='161'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=2208,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
