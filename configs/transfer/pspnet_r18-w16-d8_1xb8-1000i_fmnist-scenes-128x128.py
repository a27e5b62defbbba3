# PSPNet on the Fashion-MNIST scenes (paper Table 9's recipe, shrunk):
# configs/seg/pspnet/pspnet_r50-d8-baseline_4xb4-80k_ade20k-512x512.py
# (mmseg's stock PSPNet: dilated ResNet (output stride 8), SGD lr 0.01, poly,
# with a strictly loaded plain ResNet backbone) with only what the small
# backbone, the small data and the short schedule need changed:
# - backbone: the narrow ResNet-18 (16 base channels), dilated as the stock
#   one, BN instead of SyncBN (one process), its pretraining's mean/std; PSP
#   head 64 wide instead of 512, auxiliary FCN 32 instead of 256;
# - data: the UperNet transfer config's (stock ADE20K pipeline at a quarter
#   of the scale, 128x128 crops), 11 classes, 8 images per batch;
# - schedule: 1000 iterations instead of 80k (poly decay over them), lr x 10
#   as UperNet's, scaled linearly to 8 images: 0.05 (pilots with the
#   baseline pretraining, 1000 iterations: mIoU 11.6 with 0.005, 23.4 with
#   0.02, 26.6 with 0.05; docs/transfer.md).
# The init is the checkpoint: --cfg-options
# model.backbone.init_cfg.checkpoint=PATH (or model.backbone.init_cfg=None).
_base_ = ['../seg/pspnet/pspnet_r50-d8-baseline_4xb4-80k_ade20k-512x512.py',
          './_base_/fmnist_scenes.py']

crop_size = _base_.scenes_seg_crop
img_scale = _base_.scenes_seg_scale
max_iters = 1000
norm_cfg = dict(type='BN', requires_grad=True)
num_classes = len(_base_.scenes_seg_classes)

model = dict(
    data_preprocessor=dict(
        size=crop_size, mean=_base_.r18w16_mean, std=_base_.r18w16_std),
    backbone=dict(_base_.r18w16_backbone, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=_base_.r18w16_channels[3],
        channels=64,
        num_classes=num_classes,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=_base_.r18w16_channels[2],
        channels=32,
        num_classes=num_classes,
        norm_cfg=norm_cfg))

# the stock ADE20K pipelines at the scenes' scale and crop size; the labels
# keep class 0 (background: no reduce_zero_label)
train_pipeline = [
    dict(t, scale=img_scale) if t.type == 'RandomResize' else
    dict(t, crop_size=crop_size) if t.type == 'RandomCrop' else
    dict(type='LoadAnnotations') if t.type == 'LoadAnnotations' else t
    for t in _base_.train_pipeline
]
test_pipeline = [
    dict(t, scale=img_scale) if t.type == 'Resize' else
    dict(type='LoadAnnotations') if t.type == 'LoadAnnotations' else t
    for t in _base_.test_pipeline
]
train_dataloader = dict(
    _base_.scenes_loader,
    dataset=dict(_base_.scenes_seg_train, pipeline=train_pipeline))
val_dataloader = dict(
    _base_.scenes_loader,
    dataset=dict(_base_.scenes_seg_val, pipeline=test_pipeline))
test_dataloader = val_dataloader

# the stock lr (0.01 for 16 images) x 10, scaled linearly to 8 images
optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [dict(_base_.param_scheduler[0], end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
