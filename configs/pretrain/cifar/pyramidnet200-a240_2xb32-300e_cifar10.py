# PyramidNet-200 (bottleneck, alpha 240) baseline, CIFAR-10, 300 epochs.
# Paper Table 1: 3.85% top-1 error (mean of 3 runs, best epoch).
_base_ = './_base_/cifar10_bs32_300e.py'
custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='PyramidNet', depth=200, alpha=240, bottleneck=True,
                  out_indices=(2, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=1024,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
