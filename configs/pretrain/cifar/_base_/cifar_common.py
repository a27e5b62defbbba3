# What the RM paper's two CIFAR recipes (cifar100_bs64_200e.py,
# cifar10_bs32_300e.py) share, as in the official code: a global-average-
# pooling + linear classifier (backbone, in_channels and num_classes come from
# the configs), SGD momentum 0.9, 5 warmup epochs stepped per epoch,
# validation every epoch, top-1/top-5 accuracy.
_base_ = 'mmpretrain::_base_/default_runtime.py'

# DenseNet_CIFAR, PyramidNet and RecursiveMix are registered by mmrm.
custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))

optim_wrapper = dict(optimizer=dict(type='SGD', momentum=0.9))
# Warmup, the first entry of each recipe's `param_scheduler`: epoch e = 1..5
# runs at lr * e / 6 (LinearLR start_factor 1/6, end=6: mmengine reaches the
# full lr at the last step of its window), stepped per epoch.
cifar_warmup = dict(
    type='LinearLR', start_factor=1 / 6, by_epoch=True, begin=0, end=6)
train_cfg = dict(by_epoch=True, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# The paper reports the best epoch (averaged over 3 runs): keep the best
# checkpoint besides the latest ones.
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2,
                    save_best='auto'))
