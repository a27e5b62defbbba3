# PyramidNet-164 (bottleneck, alpha 270) baseline, CIFAR-100, 200 epochs.
# Paper Tables 2-3: 16.67% top-1 error (mean of 3 runs, best epoch).
_base_ = './_base_/cifar100_bs64_200e.py'
custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='PyramidNet', depth=164, alpha=270, bottleneck=True,
                  out_indices=(2, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=1144,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
