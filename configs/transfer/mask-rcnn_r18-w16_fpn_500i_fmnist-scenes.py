# Mask R-CNN + FPN on the Fashion-MNIST scenes (paper Table 8's recipe,
# shrunk): configs/det/mask_rcnn/mask-rcnn_r50-baseline_fpn_1x_coco.py
# (mmdet's stock Mask R-CNN 1x with a strictly loaded backbone) with only
# what the small backbone and the small data need changed:
# - backbone: ResNet-18 with 16 base channels (neck, RPN and RoI heads 64
#   wide instead of 256, box fcs 256 instead of 1024, in proportion), its
#   pretraining's mean/std, BN statistics re-estimated on the scenes
#   (norm_eval=False, see _base_/fmnist_scenes.py);
# - data: 128x128 scenes (no resize; 1/60 of a COCO image's pixels and 1-4
#   objects, so 300 proposals instead of 1000 and 64 sampled RoIs instead
#   of 512), 10 classes, 8 images per batch with the lr scaled linearly from
#   the stock batch 16.
# Schedule: the shape of the stock 1x over 500 iterations
# (_base_/fmnist_scenes.py). The init is the checkpoint (see the ATSS config).
_base_ = ['../det/mask_rcnn/mask-rcnn_r50-baseline_fpn_1x_coco.py',
          './_base_/fmnist_scenes.py']

img_scale = (_base_.scenes_size, _base_.scenes_size)

model = dict(
    data_preprocessor=dict(mean=_base_.r18w16_mean, std=_base_.r18w16_std),
    backbone=_base_.r18w16_backbone,
    neck=dict(in_channels=_base_.r18w16_channels, out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=10),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=10)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=300)))

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

# the stock lr (0.02 for 16 images) scaled linearly to 8 images
optim_wrapper = dict(optimizer=dict(lr=0.01))
train_cfg = _base_.scenes_det_train_cfg
param_scheduler = _base_.scenes_det_param_scheduler
default_hooks = _base_.scenes_det_hooks
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
