# CPU demo: a narrow ResNet-18 (16 base channels, standard torchvision stem so
# that it transfers to mmdet/mmseg) on real Fashion-MNIST, no mixing.
# Data: `tools/prepare_fashion_mnist.sh` unpacks the Debian package
# `dataset-fashion-mnist` into data/fashion_mnist. The grey 28x28 images are
# upsampled to 64x64 (2x2 last-stage map) and become 3-channel through the
# 3-value mean/std of the data preprocessor (broadcasting (N,1,H,W) to (N,3,H,W)).
_base_ = 'mmpretrain::_base_/default_runtime.py'

img_size = 64
data_preprocessor = dict(
    num_classes=10, mean=[72.94] * 3, std=[90.02] * 3, to_rgb=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet', depth=18, stem_channels=16, base_channels=16,
        out_indices=(3, ), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead', num_classes=10, in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, )))

train_pipeline = [
    dict(type='RandomCrop', crop_size=28, padding=2),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(
        type='FashionMNIST', data_root='data/fashion_mnist', download=False,
        test_mode=False, pipeline=train_pipeline,
        indices=10000),  # the first 10k of the 60k training images: CPU budget
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=256,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(
        type='FashionMNIST', data_root='data/fashion_mnist', download=False,
        split='test', test_mode=True, pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4,
                   nesterov=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=3, T_max=2),
]
train_cfg = dict(by_epoch=True, max_epochs=3, val_interval=3)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, deterministic=False)
