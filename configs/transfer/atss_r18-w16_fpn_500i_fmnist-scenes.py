# ATSS + FPN on the Fashion-MNIST scenes (paper Table 7's recipe, shrunk):
# configs/det/atss/atss_r50-baseline_fpn_1x_coco.py (mmdet's stock ATSS 1x
# with a strictly loaded backbone) with only what the small backbone and the
# small data need changed (_base_/scenes_detection.py): the narrow ResNet-18
# and its normalisation, FPN and head 64 wide (stock 256), BN statistics
# re-estimated on the scenes, 128x128 scenes, 10 classes, 8 images per batch
# with the stock lr scaled linearly (0.01 for 16 images), the 1x shape over
# 500 iterations. The init is the checkpoint: --cfg-options
# model.backbone.init_cfg.checkpoint=PATH (or model.backbone.init_cfg=None).
_base_ = ['../det/atss/atss_r50-baseline_fpn_1x_coco.py',
          './_base_/scenes_detection.py']

model = dict(_base_.scenes_det_model,
             bbox_head=dict(num_classes=10, in_channels=64, feat_channels=64))
(train_dataloader, val_dataloader, test_dataloader, val_evaluator,
 test_evaluator) = _base_.scenes_box_data
optim_wrapper = dict(optimizer=dict(lr=0.005))
train_cfg, param_scheduler, default_hooks, log_processor, env_cfg = \
    _base_.scenes_det_runtime
