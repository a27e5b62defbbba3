# GFL + FPN on the Fashion-MNIST scenes (paper Table 7's recipe, shrunk):
# configs/det/gfl/gfl_r50-baseline_fpn_1x_coco.py (mmdet's stock GFL 1x with
# a strictly loaded backbone), changed as the ATSS transfer config beside it
# (_base_/scenes_detection.py; the stock lr 0.01 for 16 images scaled to 8).
# The init is the checkpoint (see the ATSS config).
_base_ = ['../det/gfl/gfl_r50-baseline_fpn_1x_coco.py',
          './_base_/scenes_detection.py']

model = dict(_base_.scenes_det_model,
             bbox_head=dict(num_classes=10, in_channels=64, feat_channels=64))
(train_dataloader, val_dataloader, test_dataloader, val_evaluator,
 test_evaluator) = _base_.scenes_box_data
optim_wrapper = dict(optimizer=dict(lr=0.005))
train_cfg, param_scheduler, default_hooks, log_processor, env_cfg = \
    _base_.scenes_det_runtime
