# HTC + FPN with its semantic branch on the Fashion-MNIST scenes (paper
# Table 8's recipe, shrunk): configs/det/htc/htc_r50-baseline_fpn_1x_coco.py
# (mmdet's stock HTC 1x with a strictly loaded backbone). The scenes'
# semantic maps (0 = background, 1-10 = garments) take the place of
# COCO-stuff's: the semantic head predicts 11 classes. Changed as the Mask
# R-CNN transfer config beside it (heads 64 wide, box fcs 256, 300
# proposals, the stock lr 0.02 for 16 images scaled to 8), and two changes
# for the CPU budget: 32 sampled RoIs per cascade stage (96 per image over
# the three stages, against Mask R-CNN's 64; RoIAlign's backward pass is most
# of an HTC step on the CPU: with 64 per stage, 30 steps took 2.8 CPU-s each
# against 1.8) and the test's score threshold 0.05 as Mask R-CNN's instead of
# 0.001 (masks for up to 100 near-zero detections per image: after 50 steps
# from random init the evaluation of the 300 validation scenes took longer
# than the 50 steps). The init is the checkpoint (see the ATSS config).
_base_ = ['../det/htc/htc_r50-baseline_fpn_1x_coco.py',
          './_base_/scenes_detection.py']

model = dict(
    _base_.scenes_det_model,
    rpn_head=_base_.scenes_rpn_head,
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=[dict(h, in_channels=64, fc_out_channels=256, num_classes=10)
                   for h in _base_.model.roi_head.bbox_head],
        mask_roi_extractor=dict(out_channels=64),
        mask_head=[dict(h, in_channels=64, conv_out_channels=64,
                        num_classes=10)
                   for h in _base_.model.roi_head.mask_head],
        semantic_roi_extractor=dict(out_channels=64),
        semantic_head=dict(in_channels=64, conv_out_channels=64,
                           num_classes=11)),
    train_cfg=dict(
        rpn_proposal=_base_.scenes_proposals,
        rcnn=[dict(s, sampler=dict(s.sampler, num=32))
              for s in _base_.model.train_cfg.rcnn]),
    test_cfg=dict(rpn=_base_.scenes_proposals,
                  rcnn=dict(score_thr=0.05)))
(train_dataloader, val_dataloader, test_dataloader, val_evaluator,
 test_evaluator) = _base_.scenes_htc_data
optim_wrapper = dict(optimizer=dict(lr=0.01))
train_cfg, param_scheduler, default_hooks, log_processor, env_cfg = \
    _base_.scenes_det_runtime
