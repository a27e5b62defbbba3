# DenseNet-121 (CIFAR stem: mmrm DenseNet_CIFAR) baseline, CIFAR-100, 200
# epochs.
# Paper Table 3: 19.51% top-1 error (mean of 3 runs, best epoch).
_base_ = './_base_/cifar100_bs64_200e.py'
custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='DenseNet_CIFAR', arch='121'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=1024,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
