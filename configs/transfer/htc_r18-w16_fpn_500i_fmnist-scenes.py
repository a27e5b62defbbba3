# HTC + FPN with its semantic branch on the Fashion-MNIST scenes (paper
# Table 8's recipe, shrunk): configs/det/htc/htc_r50-baseline_fpn_1x_coco.py
# (mmdet's stock HTC 1x with a strictly loaded backbone). The scenes' semantic
# maps (0 = background, 1-10 = garments) take the place of COCO-stuff's: the
# semantic head predicts 11 classes. Changed as the Mask R-CNN transfer config
# beside it: the small backbone (neck, RPN, RoI and semantic heads 64 wide,
# box fcs 256), its pretraining's mean/std, BN statistics re-estimated,
# 128x128 scenes, 300 proposals, 10 classes, 8 images per batch with the lr
# scaled linearly; the 1x shape over the scenes' schedule
# (_base_/fmnist_scenes.py). Two changes for the CPU budget: 32 sampled RoIs
# per cascade stage (96 per image over the three stages, against Mask
# R-CNN's 64; RoIAlign's backward pass is most of an HTC step on the CPU:
# with 64 per stage, 30 steps took 2.8 CPU-s each against 1.8) and the
# test's score threshold 0.05 as Mask R-CNN's instead of 0.001 (masks for up
# to 100 near-zero detections per image: after 50 steps from random init the
# evaluation of the 300 validation scenes took longer than the 50 steps).
# The init is the checkpoint (see the ATSS config).
_base_ = ['../det/htc/htc_r50-baseline_fpn_1x_coco.py',
          './_base_/fmnist_scenes.py']

img_scale = (_base_.scenes_size, _base_.scenes_size)
stock = _base_.model
model = dict(
    data_preprocessor=dict(mean=_base_.r18w16_mean, std=_base_.r18w16_std),
    backbone=_base_.r18w16_backbone,
    neck=dict(in_channels=_base_.r18w16_channels, out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=[dict(h, in_channels=64, fc_out_channels=256, num_classes=10)
                   for h in stock.roi_head.bbox_head],
        mask_roi_extractor=dict(out_channels=64),
        mask_head=[dict(h, in_channels=64, conv_out_channels=64,
                        num_classes=10) for h in stock.roi_head.mask_head],
        semantic_roi_extractor=dict(out_channels=64),
        semantic_head=dict(in_channels=64, conv_out_channels=64,
                           num_classes=len(_base_.scenes_seg_classes))),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=[dict(s, sampler=dict(s.sampler, num=32))
              for s in stock.train_cfg.rcnn]),
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=300),
                  rcnn=dict(score_thr=0.05)))

# the stock pipelines, resized to the scenes' size; the semantic maps are
# read from the annotations folder (same file names, .png)
train_pipeline = [dict(t, scale=img_scale) if t.type == 'Resize' else t
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=img_scale) if t.type == 'Resize' else t
                 for t in _base_.test_pipeline]
train_dataloader = dict(
    _base_.scenes_loader,
    dataset=dict(
        _base_.scenes_det_train,
        data_prefix=dict(img='images/training/', seg='annotations/training/'),
        pipeline=train_pipeline))
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
