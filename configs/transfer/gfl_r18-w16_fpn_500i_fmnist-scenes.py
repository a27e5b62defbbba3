# GFL + FPN on the Fashion-MNIST scenes (paper Table 7's recipe, shrunk):
# configs/det/gfl/gfl_r50-baseline_fpn_1x_coco.py (mmdet's stock GFL 1x with
# a strictly loaded backbone), changed as the ATSS transfer config beside it:
# the small backbone (neck / head 64 wide), its pretraining's mean/std, BN
# statistics re-estimated, 128x128 scenes, 10 classes, 8 images per batch
# with the lr scaled linearly; the 1x shape over the scenes' schedule
# (_base_/fmnist_scenes.py). The init is the checkpoint: --cfg-options
# model.backbone.init_cfg.checkpoint=PATH (or model.backbone.init_cfg=None).
_base_ = ['../det/gfl/gfl_r50-baseline_fpn_1x_coco.py',
          './_base_/fmnist_scenes.py']

img_scale = (_base_.scenes_size, _base_.scenes_size)

model = dict(
    data_preprocessor=dict(mean=_base_.r18w16_mean, std=_base_.r18w16_std),
    backbone=_base_.r18w16_backbone,
    neck=dict(in_channels=_base_.r18w16_channels, out_channels=64),
    bbox_head=dict(num_classes=10, in_channels=64, feat_channels=64))

# the stock pipelines, resized to the scenes' size
train_pipeline = [dict(t, scale=img_scale) if t.type == 'Resize' else t
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=img_scale) if t.type == 'Resize' else t
                 for t in _base_.test_pipeline]
train_dataloader = dict(
    _base_.scenes_loader,
    dataset=dict(_base_.scenes_det_train, pipeline=train_pipeline))
val_dataloader = dict(
    _base_.scenes_loader,
    dataset=dict(_base_.scenes_det_val, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=_base_.scenes_det_ann_val)
test_evaluator = val_evaluator

# the stock lr (0.01 for 16 images) scaled linearly to 8 images
optim_wrapper = dict(optimizer=dict(lr=0.005))
train_cfg = _base_.scenes_det_train_cfg
param_scheduler = _base_.scenes_det_param_scheduler
default_hooks = _base_.scenes_det_hooks
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
