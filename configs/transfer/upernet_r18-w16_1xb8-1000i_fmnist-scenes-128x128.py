# UperNet on the Fashion-MNIST scenes (paper Table 9's recipe, shrunk):
# configs/seg/upernet/upernet_r50-baseline_8xb2-80k_ade20k-512x512.py
# (mmseg's stock UperNet with the official RecursiveMix optimizer, AdamW,
# poly to 0, and a strictly loaded backbone) with only what the small
# backbone, the small data and the short schedule need changed:
# - backbone: ResNet-18 with 16 base channels (UperNet head 64 wide instead
#   of 512, auxiliary FCN 32 instead of 256, in proportion), BN instead of
#   SyncBN (one process), its pretraining's mean/std;
# - data: 128x128 scenes, 11 classes (background + 10 garments): the stock
#   pipeline at a quarter of the scale (random resize around 512x128 instead
#   of 2048x512, 128x128 crops), 8 images per batch instead of 16;
# - schedule: 1000 iterations instead of 80k (poly decay over them), lr 1e-3
#   instead of 1e-4 (pilots with the baseline pretraining: with 1e-4 every
#   init learned only the background class in 500 iterations, mIoU 7.0; with
#   1e-3, 14.0 after 500 iterations and 25.9 after 1000; docs/transfer.md).
# The init is the checkpoint: --cfg-options
# model.backbone.init_cfg.checkpoint=PATH (or model.backbone.init_cfg=None).
_base_ = ['../seg/upernet/upernet_r50-baseline_8xb2-80k_ade20k-512x512.py',
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
        in_channels=_base_.r18w16_channels,
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

# the stock lr x 10 for a schedule 80x shorter (see above)
optim_wrapper = dict(optimizer=dict(lr=0.001))
param_scheduler = [dict(_base_.param_scheduler[0], end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
