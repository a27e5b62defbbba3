# Mask R-CNN + FPN on the Fashion-MNIST scenes (paper Table 8's recipe,
# shrunk): configs/det/mask_rcnn/mask-rcnn_r50-baseline_fpn_1x_coco.py
# (mmdet's stock Mask R-CNN 1x with a strictly loaded backbone), changed as
# the ATSS transfer config (_base_/scenes_detection.py), and: RPN and RoI
# heads 64 wide, box fcs 256 instead of 1024, in proportion; 1/60 of a COCO
# image's pixels and 1-4 objects, so 300 proposals instead of 1000 and 64
# sampled RoIs instead of 512; the stock lr 0.02 for 16 images scaled to 8.
# The init is the checkpoint (see the ATSS config).
_base_ = ['../det/mask_rcnn/mask-rcnn_r50-baseline_fpn_1x_coco.py',
          './_base_/scenes_detection.py']

model = dict(
    _base_.scenes_det_model,
    rpn_head=_base_.scenes_rpn_head,
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=10),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=10)),
    train_cfg=dict(
        rpn_proposal=_base_.scenes_proposals,
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=_base_.scenes_proposals))
(train_dataloader, val_dataloader, test_dataloader, val_evaluator,
 test_evaluator) = _base_.scenes_mask_data
optim_wrapper = dict(optimizer=dict(lr=0.01))
train_cfg, param_scheduler, default_hooks, log_processor, env_cfg = \
    _base_.scenes_det_runtime
